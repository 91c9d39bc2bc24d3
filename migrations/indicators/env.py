from libs.common.migrations import run_environment
from libs.common.models import PlatformBase
from services.indicators import models  # noqa: F401  (registers every table on Base.metadata)
from services.indicators.base import Base
from services.indicators.settings import IndicatorsSettings

run_environment([Base.metadata, PlatformBase.metadata], IndicatorsSettings)
