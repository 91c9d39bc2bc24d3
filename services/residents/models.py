"""Imports every model module so that ``Base.metadata`` holds all the residents service's tables."""

from services.residents import feed  # noqa: F401  (each tracked model's feed payload declaration)
from services.residents.assessments import models as assessments  # noqa: F401
from services.residents.care_services import models as care_services  # noqa: F401
from services.residents.checkups import models as checkups  # noqa: F401
from services.residents.packages import models as packages  # noqa: F401
from services.residents.persons import models as persons  # noqa: F401
from services.residents.signings import models as signings  # noqa: F401
from services.residents.teams import models as teams  # noqa: F401
