"""The contracts service: 医养签约 agreements, 巡诊 visits, 双向转诊 referrals, coverage.

Run with ``uvicorn services.contracts.app:app --port 8002``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import httpx
from fastapi import FastAPI

from libs.common.access_router import access_router
from libs.common.auth import TokenVerifier
from libs.common.change_feed import change_feed_router
from libs.common.http_client import ServiceTokenSource, StaticTokenSource
from libs.common.person_index import PersonIndex
from libs.common.service_app import create_service_app
from services.contracts.agreements.bulk_router import router as bulk_router
from services.contracts.agreements.router import router as agreements_router
from services.contracts.agreements.schedule import calendar_task
from services.contracts.clients.registry import RegistryClient
from services.contracts.clock import Clock
from services.contracts.coverage.router import router as coverage_router
from services.contracts.coverage.snapshot import registry_snapshot_task
from services.contracts.feed import FEED
from services.contracts.permissions import POLICY
from services.contracts.referrals.bulk_router import router as referrals_bulk_router
from services.contracts.referrals.router import router as referrals_router
from services.contracts.settings import ContractsSettings
from services.contracts.visits.bulk_router import router as visits_bulk_router
from services.contracts.visits.router import router as visits_router

SERVICE_CLIENT_ID = "contracts"
RegistryClientFactory = Callable[[FastAPI], RegistryClient]


def gateway_registry_client(app: FastAPI) -> RegistryClient:
    """The registry through the gateway, with this service's client-credentials token."""
    settings: ContractsSettings = app.state.settings
    tokens = ServiceTokenSource(
        app.state.gateway_http,
        client_id=SERVICE_CLIENT_ID,
        client_secret=settings.service_client_secret,
        audience="registry",
    )
    return RegistryClient(app.state.gateway_http, tokens)


def create_app(
    settings: ContractsSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    registry_client_factory: RegistryClientFactory | None = None,
    clock: Clock | None = None,
    residents_http: httpx.AsyncClient | None = None,
    residents_tokens: ServiceTokenSource | StaticTokenSource | None = None,
) -> FastAPI:
    """``registry_client_factory`` and ``clock`` are seams for tests (a registry app in-process, a
    settable "today"); ``residents_http``/``residents_tokens`` replace the gateway client and the
    service-token source of the residents' person index (referrals' residents are linked, issue 19)."""
    factory = registry_client_factory or gateway_registry_client
    chosen = settings or ContractsSettings()

    @contextlib.asynccontextmanager
    async def registry_client(app: FastAPI) -> AsyncIterator[None]:
        app.state.registry = factory(app)
        app.state.person_index = PersonIndex(
            residents_http or app.state.gateway_http,
            residents_tokens
            or ServiceTokenSource(
                app.state.gateway_http,
                client_id=SERVICE_CLIENT_ID,
                client_secret=chosen.service_client_secret,
                audience="residents",
            ),
        )
        yield

    app = create_service_app(
        chosen,
        title="医养结合平台 · 医养签约服务 (contracts)",
        description="医疗机构与养老机构的签约协议、巡诊记录、双向转诊、签约覆盖率。",
        routers=[
            bulk_router,
            visits_bulk_router,
            referrals_bulk_router,
            agreements_router,
            visits_router,
            referrals_router,
            coverage_router,
            change_feed_router("contracts", POLICY, FEED),
            access_router("contracts", POLICY),
        ],
        verifier=verifier,
        extensions=[registry_client, registry_snapshot_task, calendar_task],
    )
    app.state.clock = clock or Clock()
    return app


app = create_app()
