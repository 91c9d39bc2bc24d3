"""The web console at ``/``: the gateway answers what no route answers (``app.router.default``).

- a file of the build → that file; ``/assets/*`` (content-hashed names) cached for a year, ``immutable``;
  other files revalidated (``no-cache``);
- any other ``GET``/``HEAD`` of a page path → ``index.html`` (history-mode routing), ``no-cache`` with an
  ``ETag``; a missing ``/assets/*`` file or a path with a file extension stays 404 (a missing chunk must
  not come back as HTML);
- an app built into a folder of its own (the nurses' app: ``/nurse/index.html``, its hashed files under
  ``/nurse/assets/``) answers its pages the same way: ``/nurse`` and ``/nurse/…`` → ``/nurse/index.html``;
- the API's paths (``/api/``, ``/docs``, ``/redoc``, ``/openapi.json``, ``/.well-known/``, ``/healthz``,
  ``/readyz``, ``/metrics``) never fall back to the console: an unknown one stays a problem+json 404, as
  does everything when there is no build.

Console responses carry a strict Content-Security-Policy (scripts and connections to this origin only),
``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin``.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import PurePosixPath

import anyio.to_thread
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketClose

from services.gateway.console.files import ConsoleBuild, load
from services.gateway.settings import GatewaySettings

log = logging.getLogger("services.gateway.console")

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
API_PATHS = ("/api", "/docs", "/redoc", "/openapi.json", "/.well-known", "/healthz", "/readyz", "/metrics")
ASSETS_PREFIX = "/assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def is_api_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in API_PATHS)


def _hashed(path: str) -> bool:
    """A content-hashed file: under ``/assets/`` or under an app folder's ``/<app>/assets/``."""
    parts = path.split("/")
    return path.startswith(ASSETS_PREFIX) or (len(parts) > 3 and parts[2] == "assets")


def _looks_like_a_file(path: str) -> bool:
    return _hashed(path) or bool(PurePosixPath(path).suffix)


def _app_index(build: ConsoleBuild, path: str) -> str | None:
    """The ``index.html`` of an app built into the folder the path starts with, if the build has one."""
    first = path.strip("/").split("/", 1)[0]
    index = f"/{first}/index.html"
    return index if first and index in build.files else None


def _index(html: bytes, request: Request) -> Response:
    etag = f'"{hashlib.sha256(html).hexdigest()[:32]}"'
    headers = {**SECURITY_HEADERS, "Cache-Control": REVALIDATE, "ETag": etag}
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(html, media_type="text/html; charset=utf-8", headers=headers)


async def _current(request: Request, build: ConsoleBuild) -> ConsoleBuild | None:
    """The build, indexed again when ``index.html`` changed since (``npm run build`` while running)."""
    if not await anyio.to_thread.run_sync(build.rebuilt):
        return build
    fresh = await anyio.to_thread.run_sync(load, build.root)
    if fresh is not None:
        request.app.state.console = fresh
        log.info("console rebuilt: indexed again", extra={"files": len(fresh.files)})
    return fresh


async def _existing(request: Request, build: ConsoleBuild, path: str) -> tuple[ConsoleBuild | None, bool]:
    """``(build, found)`` for a file path: a file indexed but since deleted (a rebuild replaced the hashed
    names) re-reads the build instead of failing mid-response."""
    found = build.files.get(path)
    if found is not None and await anyio.Path(found.path).is_file():
        return build, True
    current = await _current(request, build)
    return current, current is not None and path in current.files


async def console_or_not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """The router's default: the console where the rules above say so, else the usual 404 problem."""
    if scope["type"] != "http":
        await WebSocketClose()(scope, receive, send)
        return
    request = Request(scope, receive)
    build: ConsoleBuild | None = getattr(request.app.state, "console", None)
    path: str = scope["path"]
    if build is None or request.method not in ("GET", "HEAD") or is_api_path(path):
        raise HTTPException(status_code=404)
    response: Response
    if path != "/index.html" and (path in build.files or _looks_like_a_file(path)):
        build, exists = await _existing(request, build, path)
        if build is None or not exists:
            raise HTTPException(status_code=404)  # a missing chunk must not come back as HTML
        found = build.files[path]
        cache = IMMUTABLE if _hashed(path) else REVALIDATE
        response = FileResponse(
            found.path, media_type=found.media_type, headers={**SECURITY_HEADERS, "Cache-Control": cache}
        )
    else:
        current = await _current(request, build)
        if current is None:
            raise HTTPException(status_code=404)
        app_index = _app_index(current, path)
        if app_index is None:
            response = _index(current.index_html, request)
        else:
            current, exists = await _existing(request, current, app_index)
            if current is None or not exists:
                raise HTTPException(status_code=404)
            response = _index(await anyio.Path(current.files[app_index].path).read_bytes(), request)
    await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """Answer unrouted requests with the console (when the gateway started with a build)."""
    app.router.default = console_or_not_found


@asynccontextmanager
async def console_build(app: FastAPI) -> AsyncIterator[None]:
    """Lifespan extension: index ``console_dir`` once (None without a build: the API alone)."""
    settings: GatewaySettings = app.state.settings
    app.state.console = await anyio.to_thread.run_sync(load, settings.console_dir)
    if app.state.console is None:
        log.info("no console build", extra={"console_dir": str(settings.console_dir)})
    yield
