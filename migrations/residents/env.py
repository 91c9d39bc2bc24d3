from libs.common.migrations import run_environment
from libs.common.models import PlatformBase
from services.residents import models  # noqa: F401  (registers every table on Base.metadata)
from services.residents.base import Base
from services.residents.settings import ResidentsSettings

run_environment([Base.metadata, PlatformBase.metadata], ResidentsSettings)
