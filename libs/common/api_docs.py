"""``/docs`` (Swagger UI) and ``/redoc`` with their scripts and styles served by the service itself.

FastAPI's own pages load Swagger UI and ReDoc from a public CDN (and ReDoc's fonts from Google), so they
are blank on a network without the internet (政务外网). Here the assets come from the ``fastapi-offline``
package (pinned in ``pyproject.toml``; Swagger UI 5 under Apache-2.0, ReDoc 2 under MIT, FastAPI's favicon
under MIT, see the package's licence file) and are answered at ``/docs/assets/{name}``. Only the package's
files are used, not its app factory. Swagger UI's validator badge (a call to validator.swagger.io) is off.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from libs.common.errors import NotFound

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs/assets"
# The files served, each with its media type: an allow-list, never a path taken from the request.
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
_ASSET_CACHE = "public, max-age=86400"
_PAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def assets_dir() -> Path:
    return Path(str(files("fastapi_offline").joinpath("static")))


def install(app: FastAPI) -> None:
    """Add ``/docs``, ``/redoc`` and their assets to an app built with ``docs_url=None, redoc_url=None``."""
    directory = assets_dir()
    missing = [name for name in ASSETS if not (directory / name).is_file()]
    if missing:
        raise RuntimeError(f"API 文档资源缺失 (fastapi-offline assets missing): {missing}")

    def asset_url(request: Request, name: str) -> str:
        return f"{request.scope.get('root_path', '')}{ASSETS_URL}/{name}"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} · 接口文档",
            swagger_js_url=asset_url(request, "swagger-ui-bundle.js"),
            swagger_css_url=asset_url(request, "swagger-ui.css"),
            swagger_favicon_url=asset_url(request, "favicon.png"),
            oauth2_redirect_url=None,
            swagger_ui_parameters={"validatorUrl": None},
        )
        page.headers.update(_PAGE_HEADERS)
        return page

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} · 接口文档 (ReDoc)",
            redoc_js_url=asset_url(request, "redoc.standalone.js"),
            redoc_favicon_url=asset_url(request, "favicon.png"),
            with_google_fonts=False,
        )
        page.headers.update(_PAGE_HEADERS)
        return page

    @app.get(f"{ASSETS_URL}/{{name}}", include_in_schema=False)
    async def docs_asset(name: str) -> FileResponse:
        media_type = ASSETS.get(name)
        if media_type is None:
            raise NotFound("文档资源不存在", code="not_found")
        return FileResponse(
            directory / name,
            media_type=media_type,
            headers={"Cache-Control": _ASSET_CACHE, "X-Content-Type-Options": "nosniff"},
        )
