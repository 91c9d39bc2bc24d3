"""Imports every model module so that ``Base.metadata`` holds all the indicators service's tables."""

from services.indicators.facts import models as facts  # noqa: F401
from services.indicators.followers import models as followers  # noqa: F401
from services.indicators.reference import models as reference  # noqa: F401
from services.indicators.reports import models as reports  # noqa: F401
