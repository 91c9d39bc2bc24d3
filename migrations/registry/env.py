from libs.common.migrations import run_environment
from libs.common.models import PlatformBase
from services.registry import models  # noqa: F401  (registers every table on Base.metadata)
from services.registry.base import Base
from services.registry.settings import RegistrySettings

run_environment([Base.metadata, PlatformBase.metadata], RegistrySettings)
