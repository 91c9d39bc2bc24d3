"""The gateway serves the web console's build (issue 15; web_plan.md): index.html for the console's
pages (history mode) with a strict CSP, hashed assets cached for a year, nothing outside the build, and
never the console where the API answers — an unknown API path stays a problem+json 404."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import TokenIssuer
from libs.common.testing import TestDatabases, rolled_back_client, running
from services.gateway.app import create_app
from tests.gateway.conftest import REGISTRY_URL, gateway_settings

INDEX = (
    b'<!doctype html><html><head><script type="module" src="/assets/app-abc123.js"></script></head></html>'
)
SCRIPT = b"console.log('app')"
NURSE_INDEX = (
    b'<!doctype html><html><head><script type="module" src="/nurse/assets/nurse-def456.js"></script>'
    b"</head></html>"
)
NURSE_SCRIPT = b"console.log('nurse')"
SECRET = "the-secret-outside-the-build"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


@pytest.fixture(scope="module")
def console_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("console")
    (root / "secret.txt").write_text(SECRET)
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_bytes(INDEX)
    (dist / "assets" / "app-abc123.js").write_bytes(SCRIPT)
    (dist / "assets" / "app-abc123.css").write_text("body{margin:0}")
    (dist / "robots.txt").write_text("User-agent: *\nDisallow: /\n")
    (dist / "nurse" / "assets").mkdir(parents=True)
    (dist / "nurse" / "index.html").write_bytes(NURSE_INDEX)
    (dist / "nurse" / "assets" / "nurse-def456.js").write_bytes(NURSE_SCRIPT)
    (dist / "nurse" / "sw.js").write_text("self.skipWaiting()")
    (dist / "assets" / "leak.txt").symlink_to(root / "secret.txt")
    return dist


@pytest.fixture(scope="module")
async def console_gateway(
    test_databases: TestDatabases, token_issuer: TokenIssuer, registry_app: FastAPI, console_dir: Path
) -> AsyncIterator[FastAPI]:
    app = create_app(
        gateway_settings(test_databases, console_dir=console_dir),
        issuer=token_issuer,
        upstream_mounts={REGISTRY_URL: httpx.ASGITransport(app=registry_app)},
    )
    async with running(app):
        yield app


@pytest.fixture
async def web(console_gateway: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with rolled_back_client(console_gateway) as client:
        yield client


def _is_index(response: httpx.Response) -> None:
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.content == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize(
    "path", ["/", "/index.html", "/institutions", "/institutions/7d0c6f1e-1b2a-4c55-9a8e-2f6b1d0e9a11/edit"]
)
async def test_console_pages_answer_index_html(web: httpx.AsyncClient, path: str) -> None:
    _is_index(await web.get(path))


async def test_index_html_revalidates_with_its_etag(web: httpx.AsyncClient) -> None:
    first = await web.get("/")
    again = await web.get("/dashboard", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""


async def test_hashed_assets_are_cached_for_a_year(web: httpx.AsyncClient) -> None:
    script = await web.get("/assets/app-abc123.js")
    assert script.status_code == 200
    assert script.content == SCRIPT
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert script.headers["x-content-type-options"] == "nosniff"
    style = await web.get("/assets/app-abc123.css")
    assert style.headers["content-type"].startswith("text/css")


async def test_other_files_of_the_build_revalidate(web: httpx.AsyncClient) -> None:
    response = await web.get("/robots.txt")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("path", ["/nurse", "/nurse/", "/nurse/login", "/nurse/orders/7d0c6f1e/record"])
async def test_the_nurse_app_answers_its_own_index_html(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path)
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.content == NURSE_INDEX
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-security-policy"] == CSP
    again = await web.get(path, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


async def test_the_nurse_apps_files_hashed_cached_its_service_worker_revalidated(
    web: httpx.AsyncClient,
) -> None:
    script = await web.get("/nurse/assets/nurse-def456.js")
    assert script.content == NURSE_SCRIPT
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    worker = await web.get("/nurse/sw.js")
    assert worker.status_code == 200
    assert worker.headers["cache-control"] == "no-cache"
    missing = await web.get("/nurse/assets/nurse-000000.js")
    assert missing.status_code == 404


@pytest.mark.parametrize("path", ["/assets/app-000000.js", "/favicon.ico", "/assets/"])
async def test_a_missing_file_is_404_not_index_html(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path",
    [
        "/api",
        "/api/",
        "/api/v1/nothing",
        "/api/v1/auth/nothing",
        "/api/v2/registry/institutions",
        "/docs/nothing",
        "/redoc/x",
        "/openapi.json/x",
        "/.well-known/openid-configuration",
        "/healthz/x",
        "/metrics/x",
    ],
)
async def test_api_paths_never_fall_back_to_the_console(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path)
    assert response.status_code == 404, path
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"
    assert "content-security-policy" not in response.headers


async def test_the_api_and_docs_still_answer_beside_the_console(web: httpx.AsyncClient) -> None:
    assert (await web.get("/healthz")).json()["status"] == "ok"
    assert "swagger-ui" in (await web.get("/docs")).text
    assert (await web.get("/openapi.json")).json()["openapi"].startswith("3.1")
    assert (await web.get("/.well-known/jwks.json")).json()["keys"]
    assert (await web.get("/api/v1/auth/me")).json()["code"] == "missing_token"
    assert "yiyang_http_requests_total" in (await web.get("/metrics")).text  # its own, internal (issue 17)


async def test_writes_to_console_paths_are_404(web: httpx.AsyncClient) -> None:
    response = await web.post("/institutions", json={})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/assets/../../secret.txt",
        b"/../secret.txt",
        b"/assets/%2e%2e/%2e%2e/secret.txt",
        b"/%2e%2e%2fsecret.txt",
        b"/assets/..%2f..%2fsecret.txt",
        b"/assets/leak.txt",
        b"//etc/passwd",
        b"/assets/%2e%2e/index.html/../../secret.txt",
    ],
)
async def test_nothing_outside_the_build_is_served(web: httpx.AsyncClient, raw_path: bytes) -> None:
    # the raw target is sent as is (httpx would otherwise normalise the dot segments)
    request = web.build_request("GET", "http://testserver/")
    request.url = request.url.copy_with(raw_path=raw_path)
    response = await web.send(request)
    assert SECRET not in response.text
    assert b"root:" not in response.content
    assert response.status_code in (404, 200)
    if response.status_code == 200:
        assert response.content == INDEX  # a page path: the console, never a file


async def test_without_a_build_the_gateway_answers_the_api_alone(
    test_databases: TestDatabases, token_issuer: TokenIssuer, registry_app: FastAPI, tmp_path: Path
) -> None:
    app = create_app(
        gateway_settings(test_databases, console_dir=tmp_path / "missing"),
        issuer=token_issuer,
        upstream_mounts={REGISTRY_URL: httpx.ASGITransport(app=registry_app)},
    )
    async with running(app), rolled_back_client(app) as client:
        page = await client.get("/institutions")
        assert page.status_code == 404
        assert page.headers["content-type"] == "application/problem+json"
        assert (await client.get("/healthz")).status_code == 200


async def test_a_rebuild_while_running_is_served_and_its_old_chunks_are_404(
    test_databases: TestDatabases, token_issuer: TokenIssuer, registry_app: FastAPI, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_bytes(INDEX)
    (dist / "assets" / "app-abc123.js").write_bytes(SCRIPT)
    app = create_app(
        gateway_settings(test_databases, console_dir=dist),
        issuer=token_issuer,
        upstream_mounts={REGISTRY_URL: httpx.ASGITransport(app=registry_app)},
    )
    async with running(app), rolled_back_client(app) as client:
        assert (await client.get("/")).content == INDEX
        # `npm run build` replaces the hashed chunks and index.html while the gateway runs.
        (dist / "assets" / "app-abc123.js").unlink()
        (dist / "assets" / "app-def456.js").write_bytes(b"console.log('new')")
        rebuilt = INDEX.replace(b"app-abc123.js", b"app-def456.js")
        (dist / "index.html").write_bytes(rebuilt)
        stat = (dist / "index.html").stat()
        os.utime(dist / "index.html", ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))

        gone = await client.get("/assets/app-abc123.js")
        assert gone.status_code == 404
        assert gone.headers["content-type"] == "application/problem+json"
        page = await client.get("/institutions")
        assert page.status_code == 200
        assert page.content == rebuilt
        chunk = await client.get("/assets/app-def456.js")
        assert chunk.status_code == 200
        assert chunk.content == b"console.log('new')"
