"""The gateway's settings (env prefix ``GATEWAY_``).

No row of ``config_defaults.csv`` concerns the gateway; the numbers below are the gateway's own defaults.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    service_name: str = "gateway"

    # Signing key (EC P-256 private key, PEM). Required in production (inline or as a file path);
    # development keeps one under var/, tests make their own.
    signing_key_pem: str = Field(default="", repr=False)
    signing_key_file: str = ""
    # Public JWKs still published after a key rotation (tokens signed with the previous key stay valid).
    extra_public_jwks: list[dict[str, Any]] = Field(default_factory=list)

    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 7 * 24 * 3600
    client_token_ttl_seconds: int = 900  # city_platform clients
    service_token_ttl_seconds: int = 300  # internal services
    # Internal service clients: client_id → secret (JSON), e.g. {"contracts": "...", "homecare": "..."}.
    service_clients: dict[str, str] = Field(default_factory=dict, repr=False)
    # Which services each internal client may ask a token for (the token's ``aud``): who calls whom.
    service_client_audiences: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "contracts": ["registry"],
            "homecare": ["registry"],
            "indicators": ["registry", "contracts", "homecare"],
        }
    )

    # Login throttling (state in the database so it spans replicas; see the README). Failures of one
    # account from one address: the first ``login_free_failures`` are free, then each further attempt
    # waits base·2^k seconds (at most the max) after the last failure; failures are remembered this long.
    login_free_failures: int = 3
    login_delay_base_seconds: int = 2
    login_delay_max_seconds: int = 900
    login_failure_memory_seconds: int = 24 * 3600
    # Across addresses: past this many failures of one account in the window, a WRONG password answers
    # 429 (a right one still signs in). Per address: past this many failures in the window, the address
    # waits (growing delays) — except for accounts that signed in from it within the known-address days.
    login_window_seconds: int = 900
    login_max_failures_per_account: int = 5
    login_max_failures_per_address: int = 20
    login_known_address_days: int = 30
    # How many reverse proxies in front of the gateway append to X-Forwarded-For (0: use the peer address).
    trusted_proxy_count: int = 0
    password_min_length: int = 8

    registry_url: str = "http://127.0.0.1:8001"
    contracts_url: str = "http://127.0.0.1:8002"
    homecare_url: str = "http://127.0.0.1:8003"
    # Upstream timeouts: connecting (a dead service answers fast) and the whole wait for each read
    # (``upstream_timeout_seconds`` of ServiceSettings).
    proxy_connect_timeout_seconds: float = 2.0
    proxy_max_connections: int = 200

    openapi_cache_seconds: float = 30.0
    openapi_fetch_timeout_seconds: float = 3.0

    def upstream_urls(self) -> dict[str, str]:
        return {
            "registry": self.registry_url.rstrip("/"),
            "contracts": self.contracts_url.rstrip("/"),
            "homecare": self.homecare_url.rstrip("/"),
        }
