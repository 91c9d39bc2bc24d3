"""Indicators settings (env prefix ``INDICATORS_``): how the feed followers poll, and the caps of a
reference-data load.

None of these is in config_defaults.csv: they are operational choices of this service.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings


class IndicatorsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INDICATORS_", extra="ignore")
    # asks the gateway for service tokens (one per followed service): production requires its secret
    calls_other_services: ClassVar[bool] = True

    service_name: str = "indicators"

    # Seconds between polls of a feed once caught up; 0 starts no follower (tests start them themselves).
    follow_interval_seconds: float = Field(default=5.0, ge=0)
    # Entries asked for per page (the feeds answer at most 1,000).
    follow_batch_size: int = Field(default=500, ge=1, le=1000)
    # Retry after a failed poll: the first wait, doubled per failure in a row, never longer than the cap.
    follow_backoff_initial_seconds: float = Field(default=1.0, gt=0)
    follow_backoff_max_seconds: float = Field(default=300.0, gt=0)

    # A region's target over a figure summed from reporting counties (the residents' rates) is judged
    # only when those counties hold at least this share of the region's 65+ population; below it the
    # target shows 无法评价 with the coverage as the reason (our choice, likely: DHIS2 reads a reporting
    # rate of 80% as complete enough).
    target_min_coverage: float = Field(default=0.8, ge=0, le=1)

    # Reference data (population, targets): the largest XLSX file and the most data rows one load takes.
    reference_import_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1)
    reference_import_max_rows: int = Field(default=5000, ge=1)
