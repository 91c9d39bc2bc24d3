"""The indicators service: a read model of the facts behind the province's 医养结合 indicators, fed by
the registry's, contracts' and homecare's change feeds (through the gateway).

Run with ``uvicorn services.indicators.app:app --port 8004``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from libs.common.access_router import access_router
from libs.common.auth import TokenVerifier
from libs.common.clock import Clock
from libs.common.database import Database
from libs.common.http_client import ServiceTokenSource, StaticTokenSource
from libs.common.service_app import create_service_app
from services.indicators import models  # noqa: F401  (every table on Base.metadata)
from services.indicators.clients.feeds import FeedClient
from services.indicators.facts.apply import FACTS
from services.indicators.followers.follower import Follower, Followers
from services.indicators.followers.metrics import feed_lag_refresher
from services.indicators.followers.router import router as status_router
from services.indicators.permissions import POLICY
from services.indicators.reference.router import router as reference_router
from services.indicators.reports.router import router as reports_router
from services.indicators.settings import IndicatorsSettings

PORT = 8004
SERVICE_CLIENT_ID = "indicators"

TokenFactory = Callable[[str], ServiceTokenSource | StaticTokenSource]


def build_followers(
    settings: IndicatorsSettings,
    database: Database,
    gateway_http: httpx.AsyncClient,
    tokens: TokenFactory | None = None,
) -> Followers:
    """One follower per source feed, each with a service token for its source (audience = the source)."""

    def token_source(service: str) -> ServiceTokenSource | StaticTokenSource:
        if tokens is not None:
            return tokens(service)
        return ServiceTokenSource(
            gateway_http,
            client_id=SERVICE_CLIENT_ID,
            client_secret=settings.service_client_secret,
            audience=service,
        )

    return Followers(
        [
            Follower(
                service,
                FeedClient(service, gateway_http, token_source(service)),
                database,
                batch_size=settings.follow_batch_size,
            )
            for service in FACTS
        ]
    )


def create_app(
    settings: IndicatorsSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    gateway_http: httpx.AsyncClient | None = None,
    tokens: TokenFactory | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    """``gateway_http`` replaces the client of the gateway (tests point it at the real gateway app
    in-process); ``tokens`` replaces the service-token source per source service; ``clock`` is the
    reports' "today" (``app.state.clock``; tests move it). The followers run in the background while the
    app serves when ``follow_interval_seconds`` > 0 (off in tests: a test drives ``app.state.followers``
    itself)."""
    settings = settings or IndicatorsSettings()

    @asynccontextmanager
    async def followers(app: FastAPI) -> AsyncIterator[None]:
        http: httpx.AsyncClient = gateway_http or app.state.gateway_http
        running = build_followers(settings, app.state.database, http, tokens)
        app.state.followers = running
        if settings.follow_interval_seconds > 0:
            running.start(
                interval=settings.follow_interval_seconds,
                backoff_initial=settings.follow_backoff_initial_seconds,
                backoff_max=settings.follow_backoff_max_seconds,
                leases=app.state.leases,
            )
        try:
            yield
        finally:
            await running.stop()

    app = create_service_app(
        settings,
        title="医养结合平台 · 指标统计 (indicators)",
        description=(
            "医养结合指标的数据底座：订阅 registry、contracts、homecare 的变更，保存计算指标所需的事实；"
            "数据同步状态。"
        ),
        routers=[status_router, reference_router, reports_router, access_router("indicators", POLICY)],
        verifier=verifier,
        extensions=[followers],
    )
    app.state.clock = clock or Clock()
    app.state.metrics.add_refresher(feed_lag_refresher(app, app.state.metrics))  # feed lag in /metrics
    return app


app = create_app()
