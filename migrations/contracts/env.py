from libs.common.migrations import run_environment
from libs.common.models import PlatformBase
from services.contracts import models  # noqa: F401  (registers every table on Base.metadata)
from services.contracts.base import Base
from services.contracts.settings import ContractsSettings

run_environment([Base.metadata, PlatformBase.metadata], ContractsSettings)
