"""The typed service-client read: a 200 is the caller's wire model, a 404 is None, anything else a 502."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from libs.common.errors import UpstreamError
from libs.common.http_client import ServiceClient, StaticTokenSource

KNOWN = uuid.UUID("00000000-0000-4000-8000-000000000001")


class Thing(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: uuid.UUID
    name: str


def _upstream() -> FastAPI:
    app = FastAPI()

    @app.get("/things/{thing_id}")
    async def thing(thing_id: str) -> JSONResponse:
        if thing_id == str(KNOWN):
            return JSONResponse({"id": thing_id, "name": "颐养院", "extra": 1})
        if thing_id == "refused":
            return JSONResponse({"code": "forbidden"}, status_code=403)
        if thing_id == "garbled":
            return JSONResponse(["not", "a", "thing"])
        return JSONResponse({"code": "not_found"}, status_code=404)

    return app


class ThingsClient(ServiceClient):
    upstream_name = "测试服务"
    refused_code = "things_refused"
    bad_payload_code = "things_bad_payload"


@pytest.fixture
async def client() -> ThingsClient:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(_upstream()), base_url="http://things")
    return ThingsClient(http, StaticTokenSource("t"))


async def test_a_found_resource_is_read_as_the_callers_model(client: ThingsClient) -> None:
    assert await client.get_or_none(f"/things/{KNOWN}", Thing) == Thing(id=KNOWN, name="颐养院")


async def test_a_404_is_none(client: ThingsClient) -> None:
    assert await client.get_or_none(f"/things/{uuid.uuid4()}", Thing) is None


@pytest.mark.parametrize(("path", "code"), [("refused", "things_refused"), ("garbled", "things_bad_payload")])
async def test_a_refusal_or_an_unreadable_body_is_a_502_with_the_clients_code(
    client: ThingsClient, path: str, code: str
) -> None:
    with pytest.raises(UpstreamError) as caught:
        await client.get_or_none(f"/things/{path}", Thing)
    assert caught.value.status == 502
    assert caught.value.code == code
