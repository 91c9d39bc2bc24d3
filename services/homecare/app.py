"""The homecare service: 互联网+护理服务 catalog, recipients, orders and visits, 家庭病床, ratings.

Run with ``uvicorn services.homecare.app:app --port 8003``.
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
from libs.common.person_index import PersonIndex
from libs.common.service_app import create_service_app
from services.homecare.attachments.cleanup import abandoned_uploads_job
from services.homecare.attachments.router import router as attachments_router
from services.homecare.attachments.s3 import S3Store
from services.homecare.attachments.storage import AttachmentStore, make_store
from services.homecare.catalog import templates
from services.homecare.catalog.router import router as catalog_router
from services.homecare.clients.registry import RegistryClient
from services.homecare.clients.residents import ResidentsClient
from services.homecare.events.router import router as events_router
from services.homecare.feed import FEED
from services.homecare.home_beds.router import router as home_beds_router
from services.homecare.nurse.router import router as nurse_router
from services.homecare.orders.complaints.router import router as complaints_router
from services.homecare.orders.router import router as orders_router
from services.homecare.orders.sos.router import router as sos_router
from services.homecare.orders.visits.router import router as visits_router
from services.homecare.permissions import POLICY
from services.homecare.providers.router import router as providers_router
from services.homecare.recipients.router import router as recipients_router
from services.homecare.reports.router import router as reports_router
from services.homecare.settings import HomecareSettings
from services.homecare.sync.router import router as sync_router

PORT = 8003
SERVICE_CLIENT_ID = "homecare"


def create_app(
    settings: HomecareSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    registry_http: httpx.AsyncClient | None = None,
    registry_tokens: ServiceTokenSource | StaticTokenSource | None = None,
    residents_http: httpx.AsyncClient | None = None,
    residents_tokens: ServiceTokenSource | StaticTokenSource | None = None,
) -> FastAPI:
    """``registry_http``/``registry_tokens`` replace the gateway client and the service-token source
    (tests point them at the real registry app in-process); ``residents_http``/``residents_tokens`` the
    same for the residents service: its person index (recipients are linked to their person) and the
    latest ability assessments the disability rules read (issue 19)."""
    settings = settings or HomecareSettings()

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
        to_residents: httpx.AsyncClient = residents_http or app.state.gateway_http
        residents_token = residents_tokens or ServiceTokenSource(
            app.state.gateway_http,
            client_id=SERVICE_CLIENT_ID,
            client_secret=settings.service_client_secret,
            audience="residents",
        )
        app.state.person_index = PersonIndex(to_residents, residents_token)
        # the latest ability assessments, which the disability rules read (clients/residents.py)
        app.state.residents = ResidentsClient(to_residents, residents_token)
        yield

    @asynccontextmanager
    async def attachment_store(app: FastAPI) -> AsyncIterator[None]:
        # the attachments' store, made once; an S3 store's HTTP client is closed at shutdown
        store = make_store(settings)
        app.state.attachment_store = store
        try:
            yield
        finally:
            if isinstance(store, S3Store):
                await store.aclose()

    def current_store() -> AttachmentStore:
        found: AttachmentStore | None = getattr(app.state, "attachment_store", None)
        return found or make_store(settings)

    @asynccontextmanager
    async def record_templates(app: FastAPI) -> AsyncIterator[None]:
        # the visit record templates, data beside the catalog, read once (catalog/templates.py)
        app.state.record_templates = templates.load()
        yield

    app = create_service_app(
        settings,
        title="医养结合平台 · 居家护理服务 (homecare)",
        description="互联网+护理服务项目目录、服务对象、订单与派单、上门服务记录、家庭病床、评价与投诉。",
        routers=[
            sync_router,
            catalog_router,
            providers_router,
            recipients_router,
            orders_router,
            visits_router,
            attachments_router,
            sos_router,
            events_router,
            nurse_router,
            complaints_router,
            home_beds_router,
            reports_router,
            change_feed_router("homecare", POLICY, FEED),
            access_router("homecare", POLICY),
        ],
        verifier=verifier,
        extensions=[registry_client, record_templates, attachment_store],
        jobs=[abandoned_uploads_job(settings, current_store)],
    )
    return app


app = create_app()
