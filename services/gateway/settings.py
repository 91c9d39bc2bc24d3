"""The gateway's settings (env prefix ``GATEWAY_``).

No row of ``config_defaults.csv`` concerns the gateway; the numbers below are the gateway's own defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from libs.common.production import development_values, is_under, secret_problem
from libs.common.settings import REPO_ROOT, VAR_DIR, ServiceSettings


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
            # contracts and homecare link their residents to the person index (issue 19)
            "contracts": ["registry", "residents"],
            "homecare": ["registry", "residents"],
            "indicators": ["registry", "contracts", "homecare", "residents"],
            "residents": ["registry"],
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
    # Login attempts older than this are pruned (libs/common/retention.py). Never shorter than the
    # longest look-back of the throttling above (failure memory, window, known-address days).
    login_attempt_retention_days: int = Field(default=90, ge=1)

    registry_url: str = "http://127.0.0.1:8001"
    contracts_url: str = "http://127.0.0.1:8002"
    homecare_url: str = "http://127.0.0.1:8003"
    indicators_url: str = "http://127.0.0.1:8004"
    residents_url: str = "http://127.0.0.1:8005"
    # Upstream timeouts: connecting (a dead service answers fast) and the whole wait for each read
    # (``upstream_timeout_seconds`` of ServiceSettings).
    proxy_connect_timeout_seconds: float = 2.0
    proxy_max_connections: int = 200
    # An upstream response with a Content-Length up to this many bytes is read whole and answered in one
    # piece (no per-chunk relaying); longer ones and those without a length (event streams) are streamed.
    # 0: stream every response.
    proxy_buffer_max_bytes: int = Field(default=1024 * 1024, ge=0)

    openapi_cache_seconds: float = 30.0
    openapi_fetch_timeout_seconds: float = 10.0

    # The browser session (browser_session/): its cookies carry ``Secure`` unless this is false (only for
    # plain-HTTP tests on a host a browser does not count as secure; 127.0.0.1 and localhost are).
    session_cookie_secure: bool = True
    # The web console's build (web/dist), served at / when the directory exists (console/).
    console_dir: Path = REPO_ROOT / "web" / "dist"

    @model_validator(mode="after")
    def _retention_covers_throttling(self) -> Self:
        longest = max(
            self.login_failure_memory_seconds,
            self.login_window_seconds,
            self.login_known_address_days * 86400,
        )
        if self.login_attempt_retention_days * 86400 < longest:
            raise ValueError(
                "GATEWAY_LOGIN_ATTEMPT_RETENTION_DAYS 短于登录限流回看的最长时间 "
                f"(shorter than the throttling's longest look-back, {longest} s)"
            )
        return self

    def production_checks(self) -> list[str]:
        """Besides the common checks: a signing key that is configured and not development's, and
        service-client secrets that are long and not development's."""
        problems = super().production_checks()
        known = development_values(VAR_DIR)
        pem_setting, file_setting = self.env_name("signing_key_pem"), self.env_name("signing_key_file")
        if self.signing_key_pem:
            if self.signing_key_pem.strip() in known:
                problems.append(f"{pem_setting} 是开发环境的密钥 (the development key)")
        elif not self.signing_key_file:
            problems.append(f"{pem_setting} 或 {file_setting} 未配置 (missing)")
        elif is_under(self.signing_key_file, VAR_DIR):
            problems.append(f"{file_setting} 指向 var/ 下的开发密钥 (a development key file under var/)")
        else:
            try:
                pem = Path(self.signing_key_file).read_text(encoding="ascii").strip()
            except (OSError, ValueError):
                problems.append(f"{file_setting} 无法读取 (cannot be read)")
            else:
                if pem in known:
                    problems.append(f"{file_setting} 是开发环境的密钥 (the development key)")
        if not self.session_cookie_secure:
            problems.append(f"{self.env_name('session_cookie_secure')} 为 false：会话 Cookie 须带 Secure")
        clients = self.env_name("service_clients")
        if not self.service_clients:
            problems.append(f"{clients} 未配置 (missing)")
        for client_id, secret in self.service_clients.items():
            problem = secret_problem(f"{clients}[{client_id}]", secret, known=known)
            if problem:
                problems.append(problem)
        return problems

    def upstream_urls(self) -> dict[str, str]:
        return {
            "registry": self.registry_url.rstrip("/"),
            "contracts": self.contracts_url.rstrip("/"),
            "homecare": self.homecare_url.rstrip("/"),
            "indicators": self.indicators_url.rstrip("/"),
            "residents": self.residents_url.rstrip("/"),
        }
