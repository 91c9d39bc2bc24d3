"""An unexpected error stays with its own request: the service answers a 500 problem (request id, no
internals) and keeps the keep-alive connection, so the gateway's next request on it — another
client's — succeeds instead of failing with 502 (issue 11, finding 3)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from libs.common.auth import Role, TokenIssuer
from libs.common.testing import TestDatabases, Tokens, live_client, running
from services.gateway.app import create_app
from tests.faults.faulty_app import SECRET
from tests.faults.live_server import raw_exchange
from tests.gateway.conftest import gateway_settings


@pytest.fixture
async def gateway_to_faulty(
    test_databases: TestDatabases, token_issuer: TokenIssuer, faulty_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The real gateway (in-process) whose pooled upstream client reaches the faulty service over TCP."""
    app = create_app(gateway_settings(test_databases, registry_url=faulty_url), issuer=token_issuer)
    async with running(app), live_client(app) as client:
        yield client


def _assert_internal_problem(response: httpx.Response) -> None:
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "internal_error"
    assert problem["request_id"] == response.headers["x-request-id"]
    assert "RuntimeError" not in response.text
    assert "hunter2" not in response.text
    assert SECRET not in response.text


async def test_a_500_keeps_the_connection_for_the_next_request(faulty_url: str) -> None:
    url = httpx.URL(faulty_url)
    get = b"GET /api/v1/registry/%s HTTP/1.1\r\nHost: t\r\nX-Request-ID: req-%d\r\n\r\n"
    answers = await raw_exchange(url.host, url.port or 80, [get % (b"boom", 1), get % (b"ok", 2)])
    assert len(answers) == 2, "the service closed the connection after its 500"
    assert answers[0].startswith(b"HTTP/1.1 500 ")
    assert b'"request_id":"req-1"' in answers[0]
    assert answers[1].startswith(b"HTTP/1.1 200 ")


async def test_another_clients_request_after_a_500_succeeds_through_the_gateway(
    gateway_to_faulty: httpx.AsyncClient, tokens: Tokens
) -> None:
    other = tokens.headers(Role.province_admin)
    for round_ in range(20):
        failed = await gateway_to_faulty.get("/api/v1/registry/boom")
        _assert_internal_problem(failed)
        # another client, at once, on the connection the gateway just used
        posted = await gateway_to_faulty.post("/api/v1/registry/echo", json={"n": round_}, headers=other)
        assert posted.status_code == 200, posted.text
        assert posted.json()["body"] == {"n": round_}
        listed = await gateway_to_faulty.get("/api/v1/registry/ok")
        assert listed.status_code == 200, listed.text
