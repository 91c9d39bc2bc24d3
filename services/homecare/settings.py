from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings


class HomecareSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="HOMECARE_", extra="ignore")

    service_name: str = "homecare"
