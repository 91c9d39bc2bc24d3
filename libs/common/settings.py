"""Settings shared by every service; each service subclasses with its own env prefix (``REGISTRY_`` …)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = REPO_ROOT / "var"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    service_name: str = "service"
    environment: Literal["development", "test", "production"] = "development"
    database_url: str = ""
    # PostgreSQL only: the schema that holds this service's tables and its alembic version table.
    database_schema: str = ""
    database_pool_size: int = 10
    migrate_on_start: bool = True
    log_level: str = "INFO"
    log_json: bool = True

    gateway_url: str = "http://127.0.0.1:8000"
    jwks_url: str = ""
    jwks_cache_seconds: int = 300
    jwt_issuer: str = "yiyang-gateway"
    jwt_audience: str = "yiyang-platform"
    # Clock difference tolerated between the gateway and a service: for ``exp`` and for an ``iat`` in the
    # future (a token issued later than now plus this is refused).
    jwt_clock_skew_seconds: int = 30

    # Credentials this service uses to get a short-lived service token from the gateway.
    service_client_secret: str = Field(default="", repr=False)

    # Personal-data encryption (AES-256-GCM) keys: key id → urlsafe-base64 32-byte key; the primary one
    # encrypts, all decrypt (rotation). The lookup key makes the blind indexes. Required in production;
    # development makes its own under var/, tests make fresh ones.
    personal_data_keys: dict[str, str] = Field(default_factory=dict, repr=False)
    personal_data_primary_key_id: str = ""
    personal_data_lookup_key: str = Field(default="", repr=False)

    cors_origins: list[str] = ["http://localhost:5173", "http://127.0.0.1:5173"]
    upstream_timeout_seconds: float = 10.0

    # Request body caps (bytes) by route class — JSON and forms, multipart uploads, ``/bulk`` writes:
    # a Content-Length over the cap is refused (413) unread, a chunked body is cut off when it passes it.
    # Uploads leave room above the largest file a service accepts (registry imports: 20 MB).
    max_body_json_bytes: int = Field(default=1024 * 1024, ge=1)
    max_body_upload_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    max_body_bulk_bytes: int = Field(default=16 * 1024 * 1024, ge=1)

    def model_post_init(self, __context: object) -> None:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{VAR_DIR / (self.service_name + '.db')}"
        if not self.database_schema:
            self.database_schema = self.service_name
        if not self.jwks_url:
            self.jwks_url = self.gateway_url.rstrip("/") + "/.well-known/jwks.json"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_production(self) -> bool:
        return self.environment == "production"
