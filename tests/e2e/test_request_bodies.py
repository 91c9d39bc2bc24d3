"""Request bodies and header bytes on the four live processes (issue 11, findings 6 and 8): every service
and the gateway refuse a Content-Length over the cap on the head alone (413), cut a chunked body off when
it passes the cap (413), answer a write without a valid token 401 before its body is read, and answer a
non-ASCII header value with a 4xx problem or pass it through — never 500. The raw socket sends only part
of each body and never its end, so an answer proves the server did not wait for the rest."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Platform, login
from tests.faults.raw_http import chunked, partial_post

pytestmark = pytest.mark.e2e

JSON_CAP = 1024 * 1024  # ServiceSettings.max_body_json_bytes default
CHUNK = b" " * (64 * 1024)
JSON = {"Content-Type": "application/json"}

# (process, a JSON write route that needs a principal)
TARGETS = [
    ("gateway", "/api/v1/auth/users"),
    ("gateway", "/api/v1/registry/institutions"),  # proxied
    ("registry", "/api/v1/registry/institutions"),
    ("contracts", "/api/v1/contracts/agreements"),
    ("homecare", "/api/v1/homecare/orders"),
]


def _raw(headers: dict[str, str]) -> dict[bytes, bytes]:
    return {name.encode(): value.encode() for name, value in headers.items()}


@pytest.fixture(scope="module")
async def admin_headers(platform: Platform) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as client:
        return await login(client, "prov_admin")


@pytest.mark.parametrize(("process", "path"), TARGETS)
async def test_a_content_length_over_the_cap_is_refused_on_the_head(
    platform: Platform, process: str, path: str
) -> None:
    answer = await partial_post(
        getattr(platform, process), path, {**JSON, "Content-Length": str(200 << 20)}, []
    )
    assert answer.status == 413
    assert answer.problem["code"] == "payload_too_large"
    assert answer.problem["request_id"]
    assert answer.seconds < 2.0


@pytest.mark.parametrize(("process", "path"), TARGETS)
async def test_a_chunked_body_is_cut_off_when_it_passes_the_cap(
    platform: Platform, admin_headers: dict[str, str], process: str, path: str
) -> None:
    headers = {**JSON, **admin_headers, "Transfer-Encoding": "chunked"}
    answer = await partial_post(
        getattr(platform, process), path, headers, [chunked(CHUNK)] * (JSON_CAP // len(CHUNK) + 2)
    )
    assert answer.status == 413
    assert answer.problem["code"] == "payload_too_large"


@pytest.mark.parametrize(("process", "path"), TARGETS)
async def test_a_write_without_a_token_is_401_before_its_body_is_read(
    platform: Platform, process: str, path: str
) -> None:
    headers = {**JSON, "Content-Length": str(JSON_CAP - 1)}
    answer = await partial_post(getattr(platform, process), path, headers, [CHUNK])
    assert answer.status == 401
    assert answer.problem["code"] == "missing_token"
    assert answer.seconds < 2.0


@pytest.mark.parametrize("process", ["gateway", "registry"])
async def test_a_non_ascii_header_value_is_never_a_500(
    platform: Platform, admin_headers: dict[str, str], process: str
) -> None:
    async with httpx.AsyncClient(base_url=getattr(platform, process), timeout=10) as client:
        anonymous = await client.get("/api/v1/registry/institutions", headers={b"X-Foo": "é".encode()})
        allowed = await client.get(
            "/api/v1/registry/institutions", headers={**_raw(admin_headers), b"X-Foo": "é".encode()}
        )
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "missing_token"
    assert allowed.status_code == 200, allowed.text


@pytest.mark.parametrize(("process", "path"), TARGETS[1:])
async def test_a_non_ascii_idempotency_key_is_a_422_problem(
    platform: Platform, admin_headers: dict[str, str], process: str, path: str
) -> None:
    key = {b"Idempotency-Key": "键".encode()}
    async with httpx.AsyncClient(base_url=getattr(platform, process), timeout=10) as client:
        anonymous = await client.post(path, json={}, headers=key)
        keyed = await client.post(path, json={}, headers={**_raw(admin_headers), **key})
    # without a token: refused either for the token or for the header (both before the body is read)
    assert anonymous.status_code in (401, 422)
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert keyed.status_code == 422, keyed.text
    assert keyed.json()["code"] == "invalid_idempotency_key"
