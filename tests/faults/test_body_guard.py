"""The body guard on real uvicorn servers (loopback): a service built by ``create_service_app`` and the
real gateway in front of it (issue 11, finding 6). A Content-Length over the cap is refused (413) on the
head alone; a chunked body is cut off (413) while it streams; a request without a valid token on a route
that needs one is answered 401 before its body is read. The raw socket sends only part of each body and
never its end, so an answer proves the server did not wait for (read) the rest."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from libs.common.auth import Role, TokenIssuer, TokenVerifier
from libs.common.testing import TestDatabases, Tokens, live_client, make_settings, running
from services.gateway.app import create_app
from tests.faults.faulty_app import FaultySettings, create_faulty_app
from tests.faults.live_server import serving
from tests.faults.raw_http import chunked, partial_post
from tests.gateway.conftest import gateway_settings

JSON_CAP = 1024 * 1024  # ServiceSettings.max_body_json_bytes default
CHUNK = b" " * (64 * 1024)
HUGE = 200 * 1024 * 1024
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def live_gateway(
    test_databases: TestDatabases, token_issuer: TokenIssuer, faulty_url: str
) -> AsyncIterator[str]:
    app = create_app(gateway_settings(test_databases, registry_url=faulty_url), issuer=token_issuer)
    async with serving(app) as url:
        yield url


@pytest.fixture(params=["service", "gateway-proxy", "gateway-own"])
def target(request: pytest.FixtureRequest, faulty_url: str) -> tuple[str, str]:
    """(base URL, path of a JSON write that needs a principal)."""
    if request.param == "service":
        return faulty_url, "/api/v1/registry/echo"
    gateway: str = request.getfixturevalue("live_gateway")
    if request.param == "gateway-proxy":
        return gateway, "/api/v1/registry/echo"
    return gateway, "/api/v1/auth/users"


async def test_a_content_length_over_the_cap_is_refused_on_the_head(target: tuple[str, str]) -> None:
    answer = await partial_post(*target, {**JSON, "Content-Length": str(HUGE)}, [])
    assert answer.status == 413
    assert answer.problem["code"] == "payload_too_large"
    assert answer.problem["request_id"]
    assert answer.seconds < 2.0


async def test_a_chunked_body_is_cut_off_when_it_passes_the_cap(
    target: tuple[str, str], tokens: Tokens
) -> None:
    headers = {**JSON, **tokens.headers(Role.province_admin), "Transfer-Encoding": "chunked"}
    over_the_cap = [chunked(CHUNK)] * (JSON_CAP // len(CHUNK) + 2)  # and the body never ends
    answer = await partial_post(*target, headers, over_the_cap)
    assert answer.status == 413
    assert answer.problem["code"] == "payload_too_large"


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_a_post_without_a_token_is_401_before_its_body_is_read(
    target: tuple[str, str], framing: str
) -> None:
    headers = (
        {**JSON, "Content-Length": str(JSON_CAP - 1)}
        if framing == "content-length"
        else {**JSON, "Transfer-Encoding": "chunked"}
    )
    first_part = CHUNK if framing == "content-length" else chunked(CHUNK)
    answer = await partial_post(*target, headers, [first_part])
    assert answer.status == 401
    assert answer.problem["code"] == "missing_token"
    assert answer.seconds < 2.0


async def test_a_forged_token_is_401_before_the_body_is_read(target: tuple[str, str]) -> None:
    headers = {**JSON, "Content-Length": str(JSON_CAP - 1), "Authorization": "Bearer x.y.z"}
    answer = await partial_post(*target, headers, [CHUNK])
    assert answer.status == 401
    assert answer.problem["code"] == "invalid_token"


async def test_a_body_within_the_cap_arrives_whole(
    faulty_url: str, live_gateway: str, tokens: Tokens
) -> None:
    padded = b'{"n": 7' + b" " * (JSON_CAP - 100) + b"}"
    headers = {**tokens.headers(Role.province_admin), **JSON}
    for base in (faulty_url, live_gateway):
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            response = await client.post("/api/v1/registry/echo", content=padded, headers=headers)
            again = await client.post("/api/v1/registry/echo", json={"n": 8}, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["body"] == {"n": 7}
        assert again.json()["body"] == {"n": 8}  # the keep-alive connection still serves


class CountingBody:
    """A request body that records how much of it was pulled (the ASGI transport pulls on receive)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            self.pulled += len(CHUNK)
            yield CHUNK


async def test_an_unauthenticated_200_mb_post_is_answered_without_pulling_its_body(
    test_databases: TestDatabases, token_verifier: TokenVerifier
) -> None:
    app = create_faulty_app(
        make_settings(FaultySettings, test_databases, migrate_on_start=False), token_verifier
    )
    body = CountingBody(HUGE)
    async with running(app), live_client(app) as client:
        response = await client.post("/api/v1/registry/echo", content=body, headers=JSON)
    assert response.status_code == 401
    assert response.json()["code"] == "missing_token"
    assert body.pulled == 0
