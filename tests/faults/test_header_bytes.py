"""Header values that are not ASCII (issue 11, finding 8): the gateway passes them on as the bytes they
came as, and the service judges them — never a 500, with or without a token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from libs.common.auth import Role, TokenIssuer
from libs.common.testing import TestDatabases, Tokens
from services.gateway.app import create_app
from tests.faults.live_server import serving
from tests.gateway.conftest import gateway_settings


def _raw(headers: dict[str, str]) -> dict[bytes, bytes]:
    return {name.encode(): value.encode() for name, value in headers.items()}


@pytest.fixture
async def live_gateway(
    test_databases: TestDatabases, token_issuer: TokenIssuer, faulty_url: str
) -> AsyncIterator[str]:
    app = create_app(gateway_settings(test_databases, registry_url=faulty_url), issuer=token_issuer)
    async with serving(app) as url:
        yield url


@pytest.fixture(params=["service", "gateway"])
def base(request: pytest.FixtureRequest, faulty_url: str) -> str:
    return faulty_url if request.param == "service" else str(request.getfixturevalue("live_gateway"))


async def test_a_non_ascii_header_value_passes_where_harmless(base: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        response = await client.get("/api/v1/registry/ok", headers={b"X-Foo": "é".encode()})
        utf8 = await client.get("/api/v1/registry/ok", headers={b"X-Note": "护理".encode()})
    assert response.status_code == 200, response.text
    assert utf8.status_code == 200, utf8.text


async def test_a_non_ascii_idempotency_key_is_a_422_problem(base: str, tokens: Tokens) -> None:
    key = {b"Idempotency-Key": "键".encode()}
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        anonymous = await client.post("/api/v1/registry/echo", json={"n": 1}, headers=key)
        keyed = await client.post(
            "/api/v1/registry/echo",
            json={"n": 1},
            headers={**key, **_raw(tokens.headers(Role.province_admin))},
        )
    assert anonymous.status_code in (401, 422)
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert keyed.status_code == 422, keyed.text
    assert keyed.json()["code"] == "invalid_idempotency_key"


async def test_a_non_ascii_header_on_the_gateways_own_routes_is_not_a_500(live_gateway: str) -> None:
    async with httpx.AsyncClient(base_url=live_gateway, timeout=10) as client:
        me = await client.get("/api/v1/auth/me", headers={b"X-Foo": "é".encode()})
        token = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "nobody", "password": "x"},
            headers={b"X-Foo": "é".encode(), b"X-Request-ID": "键".encode()},
        )
    assert me.status_code == 401
    assert me.json()["code"] == "missing_token"
    assert 400 <= token.status_code < 500
