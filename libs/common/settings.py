"""Settings shared by every service; each service subclasses with its own env prefix (``REGISTRY_`` …)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from libs.common.production import DEVELOPMENT_KEY_IDS, development_values, secret_problem

REPO_ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = REPO_ROOT / "var"


class ServiceSettings(BaseSettings):
    # Errors never echo the input: it holds keys and secrets.
    model_config = SettingsConfigDict(extra="ignore", env_file=None, hide_input_in_errors=True)

    # A service that asks the gateway for service tokens (so production requires its client secret).
    calls_other_services: ClassVar[bool] = False

    service_name: str = "service"
    environment: Literal["development", "test", "production"] = "development"
    database_url: str = ""
    # PostgreSQL only: the schema that holds this service's tables and its alembic version table.
    database_schema: str = ""
    database_pool_size: int = 10
    # PostgreSQL only: a pooled connection idle this long (seconds) is checked before use (a ping: three
    # round trips); one used more recently is not (a server gone in between fails that one request 503).
    database_ping_after_idle_seconds: float = Field(default=10.0, ge=0)
    # Run the migrations to head when the app starts (development, tests). In production the migrations
    # are a job run before a rolling restart (``alembic -n <service> upgrade head``), so the default
    # there is False; an explicit ``<PREFIX>MIGRATE_ON_START=true`` still applies.
    migrate_on_start: bool = True
    # Move what start-up allocated (modules, routes, schemas: ~200,000 objects) out of the garbage collector's
    # reach once the app is up (gc.freeze), so a full collection during a request walks only the request's
    # objects: a 1,000-record bulk batch triggered about one full collection of the whole heap (issue 16).
    # Tests turn it off (many apps in one process: frozen objects are never freed).
    gc_freeze_after_start: bool = True
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
    # How many verified access tokens a process remembers (a token seen again skips the signature check
    # until it expires or its key leaves the key set); 0 checks every token in full.
    jwt_verified_cache_size: int = Field(default=10_000, ge=0)

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

    # Records one bulk request may carry (libs/common/bulk.py); more are refused whole (422 batch_too_large).
    bulk_max_records: int = Field(default=1000, ge=1)

    # Response cache of list pages (libs/common/response_cache.py, issue 16): a page is kept per process,
    # keyed by endpoint, caller's view and parameters, and served while the service's change-feed head is
    # the one it was made at (read from the database on every request, so every replica stays right);
    # false: every page is made afresh (still with its ETag and 304).
    response_cache_enabled: bool = True
    # Pages the response cache keeps per process at most (least recently used out; 0: none).
    response_cache_max_entries: int = Field(default=1000, ge=0)
    # Bytes of pages the response cache keeps per process at most (least recently used out; 0: none).
    response_cache_max_bytes: int = Field(default=64 * 1024 * 1024, ge=0)

    # Retention (libs/common/retention.py): how often each replica prunes old rows (0: never, e.g. in
    # tests), how many rows one DELETE removes, and how long an Idempotency-Key's first answer is kept —
    # a replay after that is treated as a new request.
    retention_interval_seconds: float = Field(default=3600.0, ge=0)
    retention_batch_size: int = Field(default=1000, ge=1)
    idempotency_retention_days: int = Field(default=7, ge=1)

    # Scheduled jobs run in one replica at a time (libs/common/leases.py). PostgreSQL: the lease session's
    # connect and statement timeout, and its TCP keepalive / user timeout, so a holder cut off from the
    # database loses its leases (another replica takes over) within about twice this.
    job_lease_timeout_seconds: float = Field(default=10.0, gt=0)

    # Traces (libs/common/tracing.py, deploy/observability/): the collector's OTLP/HTTP traces URL, e.g.
    # http://otel-collector:4318/v1/traces; empty: no exporter and no tracing cost.
    otlp_traces_endpoint: str = ""
    # Share of the traces started here that are kept (0–1); a request arriving with a traceparent
    # follows its caller's sampling decision.
    trace_sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    # Timeout of one export of a batch of spans to the collector.
    otlp_timeout_seconds: float = Field(default=10.0, gt=0)

    def model_post_init(self, __context: object) -> None:
        if self.is_production and "migrate_on_start" not in self.model_fields_set:
            self.migrate_on_start = False
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

    def env_name(self, field: str) -> str:
        """The environment variable of a field, e.g. ``REGISTRY_PERSONAL_DATA_KEYS``."""
        return (str(self.model_config.get("env_prefix") or "") + field).upper()

    def production_checks(self) -> list[str]:
        """What makes this configuration unfit for production (libs/common/production.py), each naming
        its setting, never its value. A service adds its own: ``super().production_checks() + [...]``."""
        known = development_values(VAR_DIR)
        problems: list[str] = []
        keys = self.env_name("personal_data_keys")
        if not self.personal_data_keys:
            problems.append(f"{keys} 未配置 (missing)")
        for key_id, key in self.personal_data_keys.items():
            if key_id in DEVELOPMENT_KEY_IDS or key.strip() in known:
                problems.append(f"{keys} 含开发环境的密钥 (holds a development key)")
                break
        primary = self.personal_data_primary_key_id
        if primary and self.personal_data_keys and primary not in self.personal_data_keys:
            problems.append(
                f"{self.env_name('personal_data_primary_key_id')} 不在密钥中 (not among the keys)"
            )
        candidates = [("personal_data_lookup_key", self.personal_data_lookup_key)]
        if self.calls_other_services or self.service_client_secret:
            candidates.append(("service_client_secret", self.service_client_secret))
        for field, value in candidates:
            problem = secret_problem(self.env_name(field), value, known=known)
            if problem:
                problems.append(problem)
        return problems
