"""Imports every model module so that ``Base.metadata`` holds all the registry's tables."""

from services.registry import feed  # noqa: F401  (each tracked model's feed payload declaration)
from services.registry.demonstration import models as demonstration  # noqa: F401
from services.registry.filings import models as filings  # noqa: F401
from services.registry.institutions import models as institutions  # noqa: F401
from services.registry.institutions import name_search  # noqa: F401  (name index table and its hook)
from services.registry.practitioners import models as practitioners  # noqa: F401
from services.registry.stats import summary  # noqa: F401  (the statistics' summary table and its hook)
