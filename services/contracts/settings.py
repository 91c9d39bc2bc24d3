from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings


class ContractsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONTRACTS_", extra="ignore")

    service_name: str = "contracts"
