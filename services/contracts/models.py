"""Imports every model module so that ``Base.metadata`` holds all the contracts service's tables."""

from services.contracts import feed  # noqa: F401  (each tracked model's feed payload declaration)
from services.contracts.agreements import models as agreements  # noqa: F401
from services.contracts.coverage import snapshot  # noqa: F401  (the registry's institutions, for coverage)
from services.contracts.referrals import models as referrals  # noqa: F401
from services.contracts.visits import models as visits  # noqa: F401
