from libs.common.migrations import run_environment
from libs.common.models import PlatformBase
from services.homecare import models  # noqa: F401  (registers every table on Base.metadata)
from services.homecare.base import Base
from services.homecare.settings import HomecareSettings

run_environment([Base.metadata, PlatformBase.metadata], HomecareSettings)
