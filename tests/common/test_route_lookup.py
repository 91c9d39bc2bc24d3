"""The router's first full match remembered per method and path (libs/common/route_lookup.py): the same
route, path parameters, 404, 405 and redirects as the router alone, and the routes' changes followed."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from starlette.responses import PlainTextResponse
from starlette.routing import Host, Mount, Route

from libs.common import route_lookup
from libs.common.route_lookup import RouteLookup


def answer(request: Request) -> dict[str, Any]:
    route = request.scope["route"]
    return {
        "route": f"{sorted(route.methods or [])} {route.path}",
        "params": request.path_params,
        "endpoint": request.scope["endpoint"].__name__,
    }


def make_app(*, lookup: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz(request: Request) -> dict[str, Any]:
        return answer(request)

    items = APIRouter(prefix="/api/items")

    @items.get("/enums")
    async def enums(request: Request) -> dict[str, Any]:
        return answer(request)

    @items.get("")
    async def list_items(request: Request) -> dict[str, Any]:
        return answer(request)

    @items.post("")
    async def create_item(request: Request) -> dict[str, Any]:
        return answer(request)

    @items.get("/{item_id}")
    async def get_item(item_id: int, request: Request) -> dict[str, Any]:
        return answer(request)

    @items.patch("/{item_id}")
    async def patch_item(item_id: int, request: Request) -> dict[str, Any]:
        return answer(request)

    @items.get("/{item_id}/history/")
    async def history(item_id: str, request: Request) -> dict[str, Any]:
        return answer(request)

    bulk = APIRouter(prefix="/api/items")

    @bulk.post("/bulk")
    async def bulk_items(request: Request) -> dict[str, Any]:
        return answer(request)

    outer = APIRouter(prefix="/api/outer")
    inner = APIRouter(prefix="/inner")

    @inner.get("/{name}")
    async def inner_named(name: str, request: Request) -> dict[str, Any]:
        return answer(request)

    outer.include_router(inner)
    app.include_router(bulk)  # first: /api/items/bulk before /api/items/{item_id}
    app.include_router(items)
    app.include_router(outer)

    async def plain(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"plain {request.path_params}")

    app.router.routes.append(Route("/plain/{rest:path}", plain, methods=["GET"]))
    app.router.routes.append(Mount("/static", app=PlainTextResponse("mounted")))
    if lookup:
        route_lookup.install(app.router)
    return app


REQUESTS = [
    ("GET", "/healthz"),
    ("HEAD", "/healthz"),
    ("GET", "/healthz/"),  # redirect
    ("GET", "/api/items"),
    ("GET", "/api/items/"),  # redirect
    ("POST", "/api/items"),
    ("DELETE", "/api/items"),  # 405
    ("GET", "/api/items/enums"),
    ("GET", "/api/items/7"),
    ("PATCH", "/api/items/7"),
    ("PUT", "/api/items/7"),  # 405
    ("GET", "/api/items/x"),  # 422 (the path matches, the int does not)
    ("POST", "/api/items/bulk"),
    ("GET", "/api/items/bulk"),  # /api/items/{item_id}: 422
    ("GET", "/api/items/7/history/"),
    ("GET", "/api/items/7/history"),  # redirect
    ("GET", "/api/outer/inner/abc"),
    ("GET", "/api/outer/inner/"),
    ("GET", "/plain/a/b/c"),
    ("POST", "/plain/a"),  # 405
    ("GET", "/static/x.js"),
    ("GET", "/nope"),  # 404
    ("GET", "/"),
    ("OPTIONS", "/api/items"),
]


async def responses(app: FastAPI, rounds: int = 2) -> list[tuple[int, str, str | None]]:
    seen = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for _ in range(rounds):  # the second round answered from what the first remembered
            for method, path in REQUESTS:
                response = await client.request(method, path)
                seen.append((response.status_code, response.text, response.headers.get("location")))
    return seen


async def test_the_same_answers_as_the_router_alone() -> None:
    with_lookup = make_app(lookup=True)
    assert await responses(with_lookup) == await responses(make_app(lookup=False))
    lookup = with_lookup.router.middleware_stack
    assert isinstance(lookup, RouteLookup)
    # full matches remembered; 404, 405 and redirects not
    assert ("GET", "/api/items") in lookup._entries
    assert ("GET", "/api/outer/inner/abc") in lookup._entries
    assert ("GET", "/static/x.js") in lookup._entries
    for key in [("GET", "/nope"), ("DELETE", "/api/items"), ("GET", "/api/items/"), ("GET", "/healthz/")]:
        assert key not in lookup._entries


async def get(app: FastAPI, path: str, method: str = "GET") -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.request(method, path)


async def test_a_route_added_to_an_included_router_later_is_matched() -> None:
    app = FastAPI()
    first, second = APIRouter(prefix="/a"), APIRouter(prefix="/a")

    @second.get("/x")
    async def second_x() -> str:
        return "second"

    app.include_router(first)
    app.include_router(second)
    route_lookup.install(app.router)
    assert (await get(app, "/a/x")).json() == "second"

    @first.get("/x")  # FastAPI sees it (the router's version moves): so does the lookup
    async def first_x() -> str:
        return "first"

    assert (await get(app, "/a/x")).json() == "first"


async def test_routes_inserted_or_removed_at_the_top_are_matched() -> None:
    app = FastAPI()

    @app.get("/x")
    async def late() -> str:
        return "late"

    route_lookup.install(app.router)
    assert (await get(app, "/x")).json() == "late"

    async def early(request: Request) -> PlainTextResponse:
        return PlainTextResponse("early")

    app.router.routes.insert(0, Route("/x", early))
    assert (await get(app, "/x")).text == "early"
    del app.router.routes[0]
    assert (await get(app, "/x")).json() == "late"
    app.router.routes.clear()
    assert (await get(app, "/x")).status_code == 404


async def test_a_route_that_reads_more_than_the_path_is_left_to_the_router() -> None:
    app = FastAPI()
    app.router.routes.append(Host("other.example", app=PlainTextResponse("host")))

    @app.get("/x")
    async def x() -> str:
        return "x"

    lookup = route_lookup.install(app.router)
    assert (await get(app, "/x")).json() == "x"
    assert lookup._entries == {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://other.example"
    ) as client:
        assert (await client.get("/x")).text == "host"


@pytest.mark.parametrize("bound", [0, 2])
async def test_at_most_max_entries_paths_are_remembered(bound: int) -> None:
    app = make_app(lookup=False)
    lookup = RouteLookup(app.router, max_entries=bound)
    app.router.middleware_stack = lookup
    for item in range(5):
        assert (await get(app, f"/api/items/{item}")).json()["params"] == {"item_id": str(item)}
    assert len(lookup._entries) == bound
