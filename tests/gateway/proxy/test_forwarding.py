"""Routing ``/api/v1/{service}/...``: bodies and headers both ways, request ids, and fast 502/504."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from libs.common.auth import Role, TokenIssuer
from libs.common.testing import TestDatabases, Tokens, rolled_back_client, running
from services.gateway.app import create_app
from tests.gateway.conftest import REGISTRY_URL, SlowServer, gateway_settings

ECHO_URL = "http://echo.test"
CHUNK = b"0123456789abcdef" * 4096  # 64 KiB


async def _echo(request: Request) -> Response:
    body = b""
    async for chunk in request.stream():
        body += chunk
    if request.query_params.get("stream"):
        count = int(request.query_params["stream"])

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(count):
                yield CHUNK

        return StreamingResponse(chunks(), media_type="application/octet-stream")
    report = {
        "method": request.method,
        "path": request.url.path,
        "raw_path": request.scope["raw_path"].decode(),
        "query": request.url.query,
        "headers": [[k.decode(), v.decode()] for k, v in request.scope["headers"]],
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "body_length": len(body),
    }
    response = Response(json.dumps(report), status_code=207, media_type="application/json")
    response.raw_headers += [
        (b"x-upstream", b"echo"),
        (b"connection", b"x-upstream-hop"),
        (b"x-upstream-hop", b"drop me"),
        (b"keep-alive", b"timeout=5"),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
        (b"access-control-allow-origin", b"http://upstream.example"),
    ]
    return response


echo_app = Starlette(routes=[Route("/{path:path}", _echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])])

GatewayFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def gateway(
    test_databases: TestDatabases, token_issuer: TokenIssuer, registry_app: FastAPI
) -> GatewayFactory:
    """A gateway with chosen upstream URLs (``echo`` and the in-process registry are mounted)."""

    @asynccontextmanager
    async def build(**overrides: object) -> AsyncIterator[httpx.AsyncClient]:
        values: dict[str, object] = {"homecare_url": ECHO_URL, "upstream_timeout_seconds": 0.5, **overrides}
        app = create_app(
            gateway_settings(test_databases, **values),
            issuer=token_issuer,
            upstream_mounts={
                ECHO_URL: httpx.ASGITransport(app=echo_app),
                REGISTRY_URL: httpx.ASGITransport(app=registry_app),
            },
        )
        async with running(app), rolled_back_client(app) as client:
            yield client

    return build


def _received(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.json()["headers"]}


async def test_method_path_query_body_and_authorization_reach_the_service(
    gateway: GatewayFactory, tokens: Tokens
) -> None:
    body = b"x" * (2 * 1024 * 1024 + 17)
    authorization = tokens.headers(Role.province_admin)["Authorization"]
    # a body is forwarded only with a valid token and within its cap (raised here past the 2 MB body)
    async with gateway(max_body_json_bytes=4 * 1024 * 1024) as client:
        response = await client.post(
            "/api/v1/homecare/orders/%E4%B8%AD/items?b=2&a=1&a=3",
            content=body,
            headers={"Authorization": authorization, "Content-Type": "application/octet-stream"},
        )
    assert response.status_code == 207, response.text
    seen = response.json()
    assert seen["method"] == "POST"
    assert seen["raw_path"] == "/api/v1/homecare/orders/%E4%B8%AD/items"
    assert seen["query"] == "b=2&a=1&a=3"
    assert seen["body_length"] == len(body)
    assert seen["body_sha256"] == hashlib.sha256(body).hexdigest()
    headers = _received(response)
    assert headers["authorization"] == authorization
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"


async def test_hop_by_hop_request_headers_are_not_forwarded(gateway: GatewayFactory) -> None:
    async with gateway() as client:
        response = await client.get(
            "/api/v1/homecare/anything",
            headers={
                "Connection": "x-private-hop",
                "X-Private-Hop": "secret",
                "Keep-Alive": "timeout=5",
                "TE": "trailers",
                "Proxy-Authorization": "Basic abc",
                "X-Kept": "yes",
            },
        )
    headers = _received(response)
    for name in ("x-private-hop", "keep-alive", "te", "proxy-authorization"):
        assert name not in headers
    assert headers["x-kept"] == "yes"


async def test_response_status_headers_and_body_come_back(gateway: GatewayFactory) -> None:
    async with gateway() as client:
        response = await client.get("/api/v1/homecare/x")
    assert response.status_code == 207
    assert response.headers["x-upstream"] == "echo"
    assert "x-upstream-hop" not in response.headers  # named in the upstream's Connection header
    assert "keep-alive" not in response.headers
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]


async def test_a_streamed_response_arrives_whole(gateway: GatewayFactory) -> None:
    async with gateway() as client:
        response = await client.get("/api/v1/homecare/export?stream=32")
    assert response.status_code == 200
    assert response.content == CHUNK * 32


async def test_x_request_id_is_passed_through(gateway: GatewayFactory) -> None:
    async with gateway() as client:
        response = await client.get("/api/v1/homecare/x", headers={"X-Request-ID": "trace-abc-123"})
        generated = await client.get("/api/v1/homecare/x")
    assert _received(response)["x-request-id"] == "trace-abc-123"
    assert response.headers["x-request-id"] == "trace-abc-123"
    assert _received(generated)["x-request-id"] == generated.headers["x-request-id"]


async def test_requests_reach_the_real_registry_which_verifies_the_token_itself(
    gateway: GatewayFactory, tokens: Tokens
) -> None:
    async with gateway() as client:
        allowed = await client.get(
            "/api/v1/registry/institutions", headers=tokens.headers(Role.province_admin)
        )
        anonymous = await client.get("/api/v1/registry/institutions")
        forged = await client.get("/api/v1/registry/institutions", headers={"Authorization": "Bearer x.y.z"})
    assert allowed.status_code == 200, allowed.text
    assert "items" in allowed.json()
    assert anonymous.status_code == 401
    assert forged.status_code == 401


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_a_stopped_service_answers_502_at_once(
    method: str, gateway: GatewayFactory, closed_port_url: str, tokens: Tokens
) -> None:
    async with gateway(contracts_url=closed_port_url) as client:
        started = time.monotonic()
        response = await client.request(
            method,
            "/api/v1/contracts/agreements",
            json={} if method == "POST" else None,
            headers=tokens.headers(Role.province_admin),
        )
        elapsed = time.monotonic() - started
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "upstream_unavailable"
    assert elapsed < 1.0


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_stuck_service_answers_504_after_the_timeout(
    method: str, gateway: GatewayFactory, slow_server: SlowServer, tokens: Tokens
) -> None:
    async with gateway(contracts_url=slow_server.url, upstream_timeout_seconds=0.5) as client:
        started = time.monotonic()
        response = await client.request(
            method,
            "/api/v1/contracts/agreements",
            json={} if method == "POST" else None,
            headers=tokens.headers(Role.province_admin),
        )
        elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert response.json()["code"] == "upstream_timeout"
    assert 0.4 < elapsed < 2.0


class RefusingTransport(httpx.AsyncBaseTransport):
    """Counts attempts and refuses each as a closed port would."""

    def __init__(self) -> None:
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize(
    ("method", "attempts"), [("GET", 2), ("HEAD", 2), ("POST", 1), ("PATCH", 1), ("DELETE", 1)]
)
async def test_only_get_and_head_are_retried_once_on_connect_errors(
    method: str, attempts: int, test_databases: TestDatabases, token_issuer: TokenIssuer
) -> None:
    transport = RefusingTransport()
    app = create_app(
        gateway_settings(test_databases, contracts_url="http://refusing.test"),
        issuer=token_issuer,
        upstream_mounts={"http://refusing.test": transport},
    )
    async with running(app), rolled_back_client(app) as client:
        response = await client.request(method, "/api/v1/contracts/agreements")
    assert response.status_code == 502
    assert transport.attempts == attempts


async def test_creating_an_institution_admin_with_the_registry_down_is_502(
    gateway: GatewayFactory, tokens: Tokens, closed_port_url: str
) -> None:
    async with gateway(registry_url=closed_port_url) as client:
        started = time.monotonic()
        response = await client.post(
            "/api/v1/auth/users",
            json={
                "username": "inst_admin_x",
                "display_name": "x",
                "password": "Fresh@Pass2026",
                "role": "institution_admin",
                "institution_id": "00000000-0000-4000-8000-000000000009",
            },
            headers=tokens.headers(Role.county_admin, "350206"),
        )
    assert response.status_code == 502
    assert response.json()["code"] == "upstream_unavailable"
    assert time.monotonic() - started < 1.5


async def test_creating_an_institution_admin_with_the_registry_stuck_is_504(
    gateway: GatewayFactory, tokens: Tokens, slow_server: SlowServer
) -> None:
    async with gateway(registry_url=slow_server.url, upstream_timeout_seconds=0.5) as client:
        response = await client.post(
            "/api/v1/auth/users",
            json={
                "username": "inst_admin_y",
                "display_name": "y",
                "password": "Fresh@Pass2026",
                "role": "institution_admin",
                "institution_id": "00000000-0000-4000-8000-000000000009",
            },
            headers=tokens.headers(Role.county_admin, "350206"),
        )
    assert response.status_code == 504
    assert response.json()["code"] == "upstream_timeout"


async def test_cors_headers_come_from_the_gateway_only(gateway: GatewayFactory) -> None:
    async with gateway() as client:
        response = await client.get("/api/v1/homecare/x", headers={"Origin": "http://localhost:5173"})
    assert response.headers.get_list("access-control-allow-origin") == ["http://localhost:5173"]
    async with gateway() as client:
        foreign = await client.get("/api/v1/homecare/x", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers
