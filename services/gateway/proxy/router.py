"""``/api/v1/{registry|contracts|homecare|indicators|residents}/{path}`` → the service (not in the
gateway's own OpenAPI: the merged document carries the services' own descriptions of these paths)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from starlette.responses import Response

from services.gateway.proxy.forwarding import forward
from services.gateway.settings import GatewaySettings

SERVICES = ("registry", "contracts", "homecare", "indicators", "residents")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

router = APIRouter()


def _endpoint(service: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        settings: GatewaySettings = request.app.state.settings
        return await forward(
            request,
            service=service,
            upstream=request.app.state.upstreams[service],
            buffer_max_bytes=settings.proxy_buffer_max_bytes,
        )

    endpoint.__name__ = f"proxy_{service}"
    return endpoint


for _service in SERVICES:
    router.add_api_route(
        f"/api/v1/{_service}/{{path:path}}", _endpoint(_service), methods=METHODS, include_in_schema=False
    )
