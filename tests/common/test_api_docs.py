"""``/docs`` and ``/redoc`` work without the internet (issue 15): the pages name no address outside the
service, and every script, style and icon they reference is answered by the service itself."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

URL_IN_PAGE = re.compile(r"""https?://[^\s"'<>)]+""")


class _References(HTMLParser):
    """The URLs a page makes the browser load: ``<script src>``, ``<link href>``, ``<img src>``."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def _references(page: str) -> list[str]:
    parser = _References()
    parser.feed(page)
    return parser.urls


EXPECTED_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_pages_reference_only_the_service_itself(client: httpx.AsyncClient, page: str) -> None:
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert URL_IN_PAGE.findall(response.text) == []  # no CDN, no web fonts, no validator
    references = _references(response.text)
    assert any(url.endswith(".js") for url in references)
    if page == "/docs":
        assert any(url.endswith(".css") for url in references)
        assert '"validatorUrl": null' in response.text
    for url in references:
        assert url.startswith("/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rindex(".") :]
        assert asset.headers["content-type"].startswith(EXPECTED_TYPES[suffix]), url
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert len(asset.content) > 100


async def test_swagger_ui_is_version_5_which_reads_openapi_3_1(client: httpx.AsyncClient) -> None:
    script = await client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert re.search(r'"5\.\d+\.\d+"', script.text)
    assert (await client.get("/openapi.json")).json()["openapi"].startswith("3.1")


@pytest.mark.parametrize(
    "name", ["index.html", "..%2Fswagger-ui.css", "%2e%2e%2f%2e%2e%2fcore.py", "swagger-ui.css.map"]
)
async def test_only_the_listed_assets_are_served(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/docs/assets/{name}")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
