"""Imports every model module so that ``Base.metadata`` holds all the homecare service's tables."""

from services.homecare import feed  # noqa: F401  (each tracked model's feed payload declaration)
from services.homecare.attachments import models as attachments  # noqa: F401
from services.homecare.catalog import models as catalog  # noqa: F401
from services.homecare.events import models as events  # noqa: F401
from services.homecare.home_beds import models as home_beds  # noqa: F401
from services.homecare.orders import models as orders  # noqa: F401
from services.homecare.orders.complaints import models as complaints  # noqa: F401
from services.homecare.orders.sos import models as sos  # noqa: F401
from services.homecare.orders.visits import models as visits  # noqa: F401
from services.homecare.providers import models as providers  # noqa: F401
from services.homecare.recipients import models as recipients  # noqa: F401
