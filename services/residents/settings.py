"""Residents settings (env prefix ``RESIDENTS_``).

None of these is in config_defaults.csv: they are operational choices of this service.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings
from services.residents.assessments.scale import SCALES
from services.residents.care_services.windows import check_start_months
from services.residents.checkups.rules import RULES as CHECKUP_RULES


class ResidentsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RESIDENTS_", extra="ignore")
    # asks the gateway for service tokens (the registry's): production requires its client secret
    calls_other_services: ClassVar[bool] = True

    service_name: str = "residents"

    # records per city-platform bulk request
    bulk_max_records: int = Field(default=1000, ge=1)
    # persons per POST /persons/batch (a list page of homecare or contracts: their pages hold ≤ 200)
    persons_batch_max: int = Field(default=200, ge=1)

    # The identity check at a nurse's check-in (issue 18, persons/identity.py): how many last characters
    # of the ID number are compared (homecare's identity_suffix_length must be the same), and how many
    # checks of one person a day are answered before 429 identity_check_limit
    identity_check_suffix_length: int = Field(default=4, ge=4, le=6)
    identity_check_max_per_day: int = Field(default=10, ge=1)

    # 家庭医生签约 (issue 19): the term of a contract in months — config_defaults.csv
    # agreement.default_term_months (12, unconfirmed; rules.md: family-doctor agreements are renewed yearly)
    signing_term_months: int = Field(default=12, ge=1, le=60)
    # how many days before its end date a contract may be renewed (up to the end date itself) — our own
    # choice, as config_defaults.csv agreement.expiry_warning_days (30) flags an expiring agreement
    signing_renewal_window_days: int = Field(default=30, ge=0, le=366)

    # Check-ups, assessments and 医养结合 services (issue 19, data/README.md):
    # the age from which a person's yearly health check-up is recorded (老年人健康管理: 65 岁及以上)
    checkup_min_age: int = Field(default=65, ge=0, le=120)
    # the check-up rule version in force (data/checkup_parts.csv; a record keeps the version it opened with)
    checkup_rule_version: str = "nbphs3-likely-1"
    # the GB/T 42195-2022 item table and bands in force (data/ability_items.csv, data/ability_levels.csv)
    assessment_scale_version: str = "gbt42195-likely-1"
    # the lowest level (0–4) at which an assessed elder is owed the 医养结合 services (1: 轻度失能 and worse)
    care_service_min_level: int = Field(default=1, ge=1, le=4)
    # the months in which the year's care-service windows start (default two half-years; one service a window)
    care_service_window_start_months: list[int] = Field(default_factory=lambda: [1, 7])

    @field_validator("care_service_window_start_months")
    @classmethod
    def _windows_cut_the_year(cls, months: list[int]) -> list[int]:
        return check_start_months(months)

    @field_validator("checkup_rule_version")
    @classmethod
    def _known_checkup_rule(cls, version: str) -> str:
        if version not in CHECKUP_RULES:
            raise ValueError(f"unknown check-up rule version {version!r} (data/checkup_parts.csv)")
        return version

    @field_validator("assessment_scale_version")
    @classmethod
    def _known_scale(cls, version: str) -> str:
        if version not in SCALES:
            raise ValueError(f"unknown assessment scale version {version!r} (data/ability_items.csv)")
        return version
