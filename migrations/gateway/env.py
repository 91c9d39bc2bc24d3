from libs.common.migrations import run_environment
from libs.common.models import PlatformBase
from services.gateway import models  # noqa: F401  (registers every table on Base.metadata)
from services.gateway.base import Base
from services.gateway.settings import GatewaySettings

run_environment([Base.metadata, PlatformBase.metadata], GatewaySettings)
