"""The gateway: users, API clients and tokens; browser sessions; routing of ``/api/v1/{service}/...``;
the merged OpenAPI; the web console at ``/``.

Run with ``uvicorn services.gateway.app:app``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from libs.common.auth import TokenIssuer
from libs.common.service_app import create_service_app
from services.gateway.accounts.router import enums_router
from services.gateway.accounts.router import router as users_router
from services.gateway.api_clients.router import router as api_clients_router
from services.gateway.api_clients.router import secret_router as api_clients_secret_router
from services.gateway.browser_session.router import router as session_router
from services.gateway.clients.registry import RegistryClient
from services.gateway.console import serving as console
from services.gateway.demo_credentials import refuse_demo_credentials
from services.gateway.openapi import router as openapi
from services.gateway.proxy.pool import LeanPool
from services.gateway.proxy.router import router as proxy_router
from services.gateway.proxy.upstreams import upstreams
from services.gateway.settings import GatewaySettings
from services.gateway.signing import own_verifier, token_issuer
from services.gateway.tokens.errors import install_oauth_error_handler
from services.gateway.tokens.retention import login_attempt_retention_job
from services.gateway.tokens.router import jwks_router
from services.gateway.tokens.router import router as tokens_router


def create_app(
    settings: GatewaySettings | None = None,
    *,
    issuer: TokenIssuer | None = None,
    upstream_mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> FastAPI:
    """Build the gateway. ``issuer`` replaces the configured signing key (tests); ``upstream_mounts``
    routes upstream URLs to given transports (tests: ``{"http://registry.test": ASGITransport(...)}``)."""
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def signing(app: FastAPI) -> AsyncIterator[None]:
        # The key is loaded at startup, not at import: production refuses to start without one.
        app.state.issuer = issuer or token_issuer(settings)
        app.state.verifier = own_verifier(app.state.issuer)
        yield

    @asynccontextmanager
    async def upstream_client(app: FastAPI) -> AsyncIterator[None]:
        timeout = httpx.Timeout(
            settings.upstream_timeout_seconds, connect=settings.proxy_connect_timeout_seconds
        )
        limits = httpx.Limits(
            max_connections=settings.proxy_max_connections,
            max_keepalive_connections=settings.proxy_max_connections // 2,
        )
        mounts = {f"all://{httpx.URL(url).netloc.decode()}": t for url, t in (upstream_mounts or {}).items()}
        transport = httpx.AsyncHTTPTransport(limits=limits)
        # the proxy's own keep-alive pool (proxy/pool.py), or a test's mounted transport
        pool = LeanPool(
            max_connections=settings.proxy_max_connections, max_idle=settings.proxy_max_connections // 2
        )
        async with httpx.AsyncClient(timeout=timeout, transport=transport, mounts=mounts) as client:
            app.state.upstream_http = client
            app.state.upstreams = upstreams(
                settings.upstream_urls(), pool=pool, timeout=timeout, mounts=upstream_mounts or {}
            )
            app.state.registry = RegistryClient(
                client, base_url=settings.registry_url, issuer=app.state.issuer
            )
            try:
                yield
            finally:
                await pool.aclose()

    app = create_service_app(
        settings,
        title="医养结合平台 · 网关 (gateway)",
        description=(
            "用户、接口客户端与令牌；"
            "`/api/v1/{registry|contracts|homecare|indicators|residents}/...` 的路由；合并的 OpenAPI 文档。"
        ),
        routers=[
            # first: most requests are proxied, and the gateway's own paths are outside
            # /api/v1/{registry|contracts|homecare|indicators|residents}/ (each router passed costs a match)
            proxy_router,
            tokens_router,
            session_router,
            jwks_router,
            users_router,
            enums_router,
            api_clients_router,
            api_clients_secret_router,
        ],
        verifier=own_verifier(issuer) if issuer else None,
        extensions=[refuse_demo_credentials, signing, upstream_client, console.console_build],
        jobs=[login_attempt_retention_job(settings)],
    )
    install_oauth_error_handler(app)
    openapi.install(app)
    console.install(app)  # what no route answers: the web console (when built), else 404
    return app


app = create_app()
