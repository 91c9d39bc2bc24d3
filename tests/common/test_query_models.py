"""Query models read in one pass (libs/common/query_models.py): the same answers as FastAPI's own reading.

The same endpoint is mounted twice on one app — on a service router (the one-pass reading) and as a plain
FastAPI route (FastAPI's reading) — and every query below, valid or not, must answer the same status and
the same body on both; the OpenAPI parameters of the two are the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, Query
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from libs.common import query_models
from libs.common.errors import install_error_handlers
from libs.common.pagination import MAX_LIMIT, PageDep, PageParams
from libs.common.query_models import QueryModelRoute, accelerated
from libs.common.routing import ServiceRouter


class Colour(StrEnum):
    red = "red"
    blue = "blue"


class Filters(BaseModel):
    colour: Annotated[list[Colour] | None, Field(description="颜色（可重复）")] = None
    code: Annotated[str | None, Field(pattern=r"^35\d{4}$")] = None
    active: bool | None = None
    since: date | None = None
    beds_min: Annotated[int | None, Field(ge=0, le=10)] = None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    tags: list[str] = []


class Aliased(BaseModel):
    region: Annotated[str | None, Field(alias="region_code")] = None


async def filters_of(query: Annotated[Filters, Query()]) -> Filters:
    return query


async def endpoint(
    page: PageDep,
    filters: Annotated[Filters, Depends(filters_of)],
    x_trace: Annotated[str | None, Header(max_length=3)] = None,
) -> dict[str, Any]:
    return {"page": page.model_dump(), "filters": filters.model_dump(mode="json"), "trace": x_trace}


async def strict_endpoint(strict: Annotated[Strict, Query()]) -> dict[str, Any]:
    return strict.model_dump()


def _app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    fast = ServiceRouter(prefix="/fast")
    plain = APIRouter(prefix="/plain")
    for router in (fast, plain):
        router.get("/items")(endpoint)
        router.get("/strict")(strict_endpoint)
        app.include_router(router)
    # a route of the app itself (not of an included router)
    app.router.routes.append(QueryModelRoute("/direct-fast/items", endpoint, methods=["GET"]))
    app.router.routes.append(QueryModelRoute("/direct-fast/strict", strict_endpoint, methods=["GET"]))
    return app


@pytest.fixture(scope="module")
def app() -> FastAPI:
    return _app()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


QUERIES: list[str] = [
    "",
    "colour=red",
    "colour=red&colour=blue&colour=red",
    "code=350206&active=true&since=2024-01-31&beds_min=3",
    "active=false&active=true",  # a single parameter repeated: the last one
    "unknown=1&unknown=2&other=x",  # not the model's: ignored by Filters, refused by Strict
    "limit=10&cursor=abc&name=n&tags=a&tags=b",
    "colour=green",
    "colour=",
    "code=110000",
    "active=maybe",
    "active=",
    "since=2024-02-30",
    "beds_min=11",
    "beds_min=-1&colour=green&limit=0",  # errors of three parameters, in FastAPI's order
    "limit=0&code=1",
    "limit=201",
    "name=a&name=b",
    "tags=",
]


@pytest.mark.parametrize("path", ["items", "strict"])
@pytest.mark.parametrize("query", QUERIES)
async def test_same_answer_as_fastapi(client: httpx.AsyncClient, query: str, path: str) -> None:
    plain = await client.get(f"/plain/{path}?{query}")
    for prefix in ("/fast", "/direct-fast"):
        fast = await client.get(f"{prefix}/{path}?{query}")
        assert fast.status_code == plain.status_code
        body, expected = fast.json(), plain.json()
        if plain.status_code == 422:
            body.pop("instance"), expected.pop("instance")
            body.pop("request_id", None), expected.pop("request_id", None)
        assert body == expected


async def test_header_errors_beside_query_errors(client: httpx.AsyncClient) -> None:
    headers = {"X-Trace": "toolong"}
    plain = await client.get("/plain/items?colour=green", headers=headers)
    fast = await client.get("/fast/items?colour=green", headers=headers)
    assert plain.status_code == fast.status_code == 422
    assert [e["field"] for e in fast.json()["errors"]] == [e["field"] for e in plain.json()["errors"]]
    assert [e["field"] for e in fast.json()["errors"]] == ["query.colour.0", "header.x-trace"]


async def test_valid_query_read_in_one_pass(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A valid query never reaches FastAPI's field-by-field reading on the service router's route; a
    refused one does (the documented handler answers it)."""
    from fastapi.dependencies import utils

    calls: list[str] = []
    original = utils._request_param_model_to_args

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append("slow")
        return original(*args, **kwargs)

    monkeypatch.setattr(utils, "_request_param_model_to_args", counting)
    assert (await client.get("/fast/items?colour=red&limit=5")).status_code == 200
    assert (await client.get("/direct-fast/strict?name=n")).status_code == 200
    assert calls == []
    assert (await client.get("/plain/items?colour=red")).status_code == 200
    assert calls == ["slow", "slow"]  # the page parameters and the filters
    calls.clear()
    assert (await client.get("/fast/items?colour=green")).status_code == 422
    assert calls == ["slow", "slow"]


def test_openapi_parameters_unchanged(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    assert paths["/fast/items"]["get"]["parameters"] == paths["/plain/items"]["get"]["parameters"]
    assert paths["/fast/strict"]["get"]["parameters"] == paths["/plain/strict"]["get"]["parameters"]
    names = [p["name"] for p in paths["/fast/items"]["get"]["parameters"]]
    assert {"colour", "code", "active", "since", "beds_min", "limit", "cursor", "x-trace"} <= set(names)


def test_what_is_not_accelerated() -> None:
    """Writes, aliased models and routes without a query model keep FastAPI's reading."""

    async def aliased(query: Annotated[Aliased, Query()]) -> str:
        return query.region or ""

    async def plain(
        limit: Annotated[int, Query()] = 1, name: Annotated[list[str] | None, Query()] = None
    ) -> int:
        return limit

    assert accelerated(APIRoute("/a", aliased).dependant) is None
    assert accelerated(APIRoute("/p", plain).dependant) is None
    assert accelerated(APIRoute("/e", endpoint).dependant) is not None
    post = QueryModelRoute("/w", endpoint, methods=["POST"])
    get = QueryModelRoute("/r", endpoint, methods=["GET"])
    assert post.get_route_handler().__qualname__ != get.get_route_handler().__qualname__
    assert query_models.READ_ONLY == {"GET", "HEAD"}


async def _old_page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="每页条数 (≤200)")] = 50,
    cursor: Annotated[str | None, Query(max_length=500, description="上一页返回的 next_cursor")] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


async def test_page_parameters_as_before() -> None:
    """``PageDep`` reads a query model now: the same values, the same 422s and the same OpenAPI
    parameters as the two plain parameters it was declared with before."""

    async def new(page: PageDep, x: Annotated[int | None, Query()] = None) -> PageParams:
        return page

    async def old(
        page: Annotated[PageParams, Depends(_old_page_params)], x: Annotated[int | None, Query()] = None
    ) -> PageParams:
        return page

    app = FastAPI()
    install_error_handlers(app)
    router = ServiceRouter()
    router.get("/new")(new)
    router.get("/old")(old)
    app.include_router(router)
    too_long = "a" * 501
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        for query in [
            "",
            "limit=3&cursor=c",
            "limit=0",
            "limit=abc",
            "limit=",
            "limit=1&limit=2",
            f"cursor={too_long}",
            f"limit=0&cursor={too_long}&x=y",
            "limit=2.5",
            "cursor=",
            "limit=201&x=1",
        ]:
            before, after = await client.get(f"/old?{query}"), await client.get(f"/new?{query}")
            assert before.status_code == after.status_code, query
            expected, body = before.json(), after.json()
            for answer in (expected, body):
                answer.pop("instance", None)
                answer.pop("request_id", None)
            assert body == expected, query
    paths = app.openapi()["paths"]
    assert paths["/new"]["get"]["parameters"] == paths["/old"]["get"]["parameters"]


async def test_overrides_take_fastapis_path() -> None:
    """With dependency overrides (tests), FastAPI rebuilds the dependencies from them: the documented
    handler answers, and the override is honoured."""
    app = _app()

    async def fixed() -> Filters:
        return Filters(code="350206")

    app.dependency_overrides[filters_of] = fixed
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/fast/items?code=350100")
    assert response.json()["filters"]["code"] == "350206"


COUNTED: list[str] = []


async def counted(query: Annotated[Filters, Query()]) -> Filters:
    COUNTED.append("called")
    return query


async def inner(filters: Annotated[Filters, Depends(counted)]) -> Filters:
    return filters


async def twice(
    first: Annotated[Filters, Depends(counted)], second: Annotated[Filters, Depends(inner)]
) -> bool:
    return first is second


async def test_a_dependency_met_twice_is_called_once() -> None:
    """FastAPI calls a dependency met twice in a route's tree once a request; so does the one-pass
    reading (one function a dependency, whatever the route)."""
    app = FastAPI()
    router = ServiceRouter()
    router.get("/twice")(twice)
    router.get("/twice-again")(twice)
    app.include_router(router)
    COUNTED.clear()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        for path in ("/twice", "/twice-again"):
            response = await client.get(f"{path}?colour=red")
            assert response.json() is True
    assert COUNTED == ["called", "called"]
