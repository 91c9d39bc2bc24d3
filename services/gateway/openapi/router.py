"""``GET /openapi.json``: the merged document, rebuilt at most every ``openapi_cache_seconds``
(sooner while a service is missing), fetched from each service's own ``/openapi.json``."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from services.gateway.openapi.merge import merge
from services.gateway.proxy.router import SERVICES
from services.gateway.settings import GatewaySettings

log = logging.getLogger("services.gateway.openapi")
MISSING_RETRY_SECONDS = 5.0

router = APIRouter()


@dataclass
class OpenApiCache:
    document: dict[str, Any] | None = None
    valid_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


async def _fetch(
    http: httpx.AsyncClient, service: str, base_url: str, seconds: float
) -> dict[str, Any] | None:
    try:
        response = await http.get(f"{base_url}/openapi.json", timeout=seconds)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning(
            "service OpenAPI unavailable", extra={"upstream": service, "error_class": type(exc).__name__}
        )
        return None
    return document if isinstance(document, dict) and "paths" in document else None


async def build(app: FastAPI) -> dict[str, Any]:
    settings: GatewaySettings = app.state.settings
    http: httpx.AsyncClient = app.state.upstream_http
    urls = settings.upstream_urls()
    fetched = await asyncio.gather(
        *(_fetch(http, s, urls[s], settings.openapi_fetch_timeout_seconds) for s in SERVICES)
    )
    documents = {s: d for s, d in zip(SERVICES, fetched, strict=True) if d is not None}
    missing = [s for s, d in zip(SERVICES, fetched, strict=True) if d is None]
    merged, report = merge(app.openapi(), documents, missing)
    if report.renamed_operation_ids or report.path_conflicts:
        log.error(
            "OpenAPI merge conflicts",
            extra={"operation_ids": report.renamed_operation_ids, "paths": report.path_conflicts},
        )
    return merged


async def merged_document(app: FastAPI) -> dict[str, Any]:
    cache: OpenApiCache = app.state.openapi_cache
    if cache.document is not None and time.monotonic() < cache.valid_until:
        return cache.document
    async with cache.lock:
        if cache.document is None or time.monotonic() >= cache.valid_until:
            settings: GatewaySettings = app.state.settings
            document = await build(app)
            ttl = MISSING_RETRY_SECONDS if document["x-missing-services"] else settings.openapi_cache_seconds
            cache.document, cache.valid_until = (
                document,
                time.monotonic() + min(ttl, settings.openapi_cache_seconds),
            )
        return cache.document


@router.get("/openapi.json", include_in_schema=False)
async def openapi_json(request: Request) -> JSONResponse:
    return JSONResponse(await merged_document(request.app))


def install(app: FastAPI) -> None:
    """Serve the merged document at ``/openapi.json`` in place of FastAPI's own (``/docs`` reads it)."""
    app.state.openapi_cache = OpenApiCache()
    own = app.openapi_url
    app.router.routes[:] = [route for route in app.router.routes if getattr(route, "path", None) != own]
    app.include_router(router)
