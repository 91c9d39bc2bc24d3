"""A small service built by ``create_service_app`` with a route that fails unexpectedly, served at the
registry's paths so that the real gateway routes to it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from libs.common.access import CurrentPrincipal
from libs.common.auth import TokenVerifier
from libs.common.routing import ServiceRouter
from libs.common.service_app import create_service_app
from libs.common.settings import ServiceSettings

SECRET = "postgresql://admin:hunter2@db.internal/registry"


class FaultySettings(ServiceSettings):
    service_name: str = "sample"


router = ServiceRouter(prefix="/api/v1/registry")


@router.get("/boom")
async def boom() -> dict[str, str]:
    raise RuntimeError(f"cannot reach {SECRET}")


@router.get("/ok")
async def ok() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/echo")
async def echo(body: dict[str, Any], principal: CurrentPrincipal) -> dict[str, Any]:
    return {"sub": principal.sub, "body": body}


def create_faulty_app(settings: FaultySettings, verifier: TokenVerifier) -> FastAPI:
    return create_service_app(
        settings, title="faulty", description="tests only", routers=[router], verifier=verifier
    )
