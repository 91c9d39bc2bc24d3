"""The residents service: the person index (one identity per elder), 家庭医生签约 teams and contracts,
health check-ups of people 65+, ability assessments (GB/T 42195) and the 医养结合 services owed to
assessed 失能 elders.

Run with ``uvicorn services.residents.app:app --port 8005``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from libs.common.access_router import access_router
from libs.common.auth import TokenVerifier
from libs.common.change_feed import change_feed_router
from libs.common.http_client import ServiceTokenSource, StaticTokenSource
from libs.common.service_app import create_service_app
from services.residents.assessments.router import persons_router as latest_assessment_router
from services.residents.assessments.router import router as assessments_router
from services.residents.care_services.router import router as care_services_router
from services.residents.checkups.router import router as checkups_router
from services.residents.clients.registry import RegistryClient
from services.residents.feed import FEED
from services.residents.packages.router import router as packages_router
from services.residents.permissions import POLICY
from services.residents.persons.router import router as persons_router
from services.residents.settings import ResidentsSettings
from services.residents.signings.router import router as signings_router
from services.residents.sync.router import router as sync_router
from services.residents.teams.router import router as teams_router

PORT = 8005
SERVICE_CLIENT_ID = "residents"


def create_app(
    settings: ResidentsSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    registry_http: httpx.AsyncClient | None = None,
    registry_tokens: ServiceTokenSource | StaticTokenSource | None = None,
) -> FastAPI:
    """``registry_http``/``registry_tokens`` replace the gateway client and the service-token source
    (tests point them at the real registry app in-process)."""
    settings = settings or ResidentsSettings()

    @asynccontextmanager
    async def registry_client(app: FastAPI) -> AsyncIterator[None]:
        http: httpx.AsyncClient = registry_http or app.state.gateway_http
        tokens = registry_tokens or ServiceTokenSource(
            app.state.gateway_http,
            client_id=SERVICE_CLIENT_ID,
            client_secret=settings.service_client_secret,
            audience="registry",
        )
        app.state.registry = RegistryClient(http, tokens)
        yield

    return create_service_app(
        settings,
        title="医养结合平台 · 居民健康服务 (residents)",
        description="居民主索引、家庭医生签约（团队、服务包、签约）、65 岁及以上老年人健康体检与健康管理、"
        "老年人能力评估（GB/T 42195-2022）、失能老年人医养结合服务。",
        routers=[
            sync_router,  # before persons_router: /persons/bulk is not a person id
            persons_router,
            teams_router,
            packages_router,
            signings_router,
            checkups_router,
            assessments_router,
            latest_assessment_router,
            care_services_router,
            change_feed_router("residents", POLICY, FEED),
            access_router("residents", POLICY),
        ],
        verifier=verifier,
        extensions=[registry_client],
    )


app = create_app()
