"""The registry service: institutions, 备案 filings, practitioners, beds.

Run with ``uvicorn services.registry.app:app``.
"""

from __future__ import annotations

from fastapi import FastAPI

from libs.common.access_router import access_router
from libs.common.auth import TokenVerifier
from libs.common.change_feed import change_feed_router
from libs.common.service_app import create_service_app
from services.registry.demonstration.router import router as demonstration_router
from services.registry.directory.router import router as directory_router
from services.registry.feed import FEED
from services.registry.filings.router import router as filings_router
from services.registry.institutions.bulk_router import router as institutions_bulk_router
from services.registry.institutions.router import router as institutions_router
from services.registry.institutions.year_stats_router import router as year_stats_bulk_router
from services.registry.permissions import POLICY
from services.registry.practitioners.router import router as practitioners_router
from services.registry.settings import RegistrySettings
from services.registry.stats.router import router as stats_router


def create_app(settings: RegistrySettings | None = None, *, verifier: TokenVerifier | None = None) -> FastAPI:
    return create_service_app(
        settings or RegistrySettings(),
        title="医养结合平台 · 机构注册服务 (registry)",
        description="医疗机构、养老机构、医养结合机构，内设医疗机构备案，执业人员，床位。",
        routers=[
            # Routers with fixed paths under /institutions come before the one with /{institution_id}.
            institutions_bulk_router,
            year_stats_bulk_router,
            institutions_router,
            filings_router,
            practitioners_router,
            stats_router,
            directory_router,
            demonstration_router,
            change_feed_router("registry", POLICY, FEED),
            access_router("registry", POLICY),
        ],
        verifier=verifier,
    )


app = create_app()
