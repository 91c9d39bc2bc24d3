"""Settings of the contracts service (env prefix ``CONTRACTS_``).

Tunable numbers come from the team domain notes' ``config_defaults.csv`` (copied here as defaults; each field
names its key and confidence).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings


class ContractsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONTRACTS_", extra="ignore")
    # asks the gateway for service tokens (the registry's): production requires its client secret
    calls_other_services: ClassVar[bool] = True

    service_name: str = "contracts"

    # config_defaults.csv: agreement.min_rounds_per_month (unconfirmed)
    agreement_min_rounds_per_month: int = Field(default=4, ge=0)
    # config_defaults.csv: agreement.default_term_months (unconfirmed)
    agreement_default_term_months: int = Field(default=12, ge=1)
    # config_defaults.csv: agreement.expiry_warning_days (unconfirmed)
    agreement_expiry_warning_days: int = Field(default=30, ge=1)
    # config_defaults.csv: target.agreement_coverage_pct (confirmed)
    target_agreement_coverage_pct: float = Field(default=100.0, ge=0, le=100)

    # Largest signed agreement document accepted (bytes).
    document_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # How often the calendar moves agreements (activation, expiry), in the one replica holding the
    # job's lease (libs/common/jobs.py); 0 disables it.
    calendar_interval_seconds: float = Field(default=300.0, ge=0)
    # Page size used when listing institutions from the registry (its maximum is 200).
    registry_page_size: int = Field(default=200, ge=1, le=200)
    # The coverage's snapshot of the registry's elderly-care institutions (coverage/snapshot.py): each
    # replica polls the registry's change feed this often (0: only when a coverage request asks) ...
    registry_snapshot_interval_seconds: float = Field(default=2.0, ge=0)
    # ... and a coverage request first catches up itself when the replica's last caught-up poll is older
    # than this (0: every request catches up, reading the registry's latest writes at once).
    registry_snapshot_max_age_seconds: float = Field(default=10.0, ge=0)
