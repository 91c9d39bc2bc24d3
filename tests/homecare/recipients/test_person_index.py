"""A recipient names its person of the residents' person index (issue 19): ``POST /recipients`` resolves
the person first; the index unreachable is a 503 ``residents_unavailable`` with nothing written, an ID
number registered there under another name a 409 ``person_name_mismatch``."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from libs.common.auth import Role
from libs.common.http_client import StaticTokenSource
from libs.common.person_index import PersonIndex
from libs.common.testing import live_client
from services.homecare.recipients.models import Recipient
from tests.homecare.world import HC, HULI, World, crew


def _down_index(status: int | None = None) -> PersonIndex:
    """A person index that refuses connections (or answers ``status``)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if status is None:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(status, json={"code": "internal_error"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://gateway")
    return PersonIndex(http, StaticTokenSource("token"))


async def _count(app: FastAPI) -> int:
    async with app.state.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Recipient)) or 0)


async def test_a_new_recipient_names_its_person(world: World, homecare_app: FastAPI) -> None:
    c = await crew(world)
    created = await world.client.post(
        f"{HC}/recipients", json=world.recipient_body(), headers=world.admin(c.provider)
    )
    assert created.status_code == 201, created.text
    async with homecare_app.state.database.session() as session:
        person_id = await session.scalar(
            select(Recipient.person_id).where(Recipient.id == uuid.UUID(created.json()["id"]))
        )
    assert person_id is not None


async def test_the_person_index_down_is_a_503_and_nothing_is_registered(
    world: World, homecare_app: FastAPI
) -> None:
    c = await crew(world)
    before = await _count(homecare_app)
    held = homecare_app.state.person_index
    try:
        for broken in (_down_index(), _down_index(status=500), None):
            homecare_app.state.person_index = broken
            response = await world.client.post(
                f"{HC}/recipients", json=world.recipient_body(), headers=world.admin(c.provider)
            )
            assert response.status_code == 503, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == "residents_unavailable"
    finally:
        homecare_app.state.person_index = held
    assert await _count(homecare_app) == before


async def test_an_id_number_of_a_person_named_otherwise_is_a_409(
    world: World, residents_app: FastAPI, homecare_app: FastAPI
) -> None:
    c = await crew(world)
    body = world.recipient_body()
    # the index already holds this ID number under another name (committed: homecare's calls see it)
    async with live_client(residents_app, base_url="http://gateway") as residents_live:
        taken = await residents_live.post(
            "/api/v1/residents/persons",
            json={"name": "林阿公", "id_number": body["id_number"], "region_code": HULI},
            headers=world.tokens.headers(Role.service, "350000", sub="service:homecare"),
        )
    assert taken.status_code == 201, taken.text
    before = await _count(homecare_app)
    response = await world.client.post(f"{HC}/recipients", json=body, headers=world.admin(c.provider))
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "person_name_mismatch"
    assert "林阿公" not in response.text
    assert await _count(homecare_app) == before


class _Counting(httpx.AsyncBaseTransport):
    """The residents app behind a transport that counts the calls homecare makes (path → count)."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.calls: dict[str, int] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls[request.url.path] = self.calls.get(request.url.path, 0) + 1
        return await self.inner.handle_async_request(request)


def _counting_index(residents_app: FastAPI, tokens: Any) -> tuple[PersonIndex, _Counting]:
    transport = _Counting(residents_app)
    http = httpx.AsyncClient(transport=transport, base_url="http://gateway")
    token = tokens.token(Role.service, "350000", sub="service:homecare")
    return PersonIndex(http, StaticTokenSource(token)), transport


async def test_a_page_reads_its_persons_in_one_call_and_officials_see_them_masked(
    world: World, homecare_app: FastAPI, residents_app: FastAPI
) -> None:
    c = await crew(world)
    bodies = [world.recipient_body() for _ in range(3)]
    for body in bodies:
        created = await world.client.post(f"{HC}/recipients", json=body, headers=world.admin(c.provider))
        assert created.status_code == 201, created.text
    for _ in range(2):
        order = await world.order(c.provider, c.recipient["id"])
    held = homecare_app.state.person_index
    index, transport = _counting_index(residents_app, world.tokens)
    homecare_app.state.person_index = index
    try:
        pages = {
            "recipients": await world.client.get(
                f"{HC}/recipients", params={"institution_id": str(c.provider.id)}, headers=world.county(HULI)
            ),
            "orders": await world.client.get(
                f"{HC}/orders", params={"institution_id": str(c.provider.id)}, headers=world.county(HULI)
            ),
        }
        detail = await world.client.get(f"{HC}/orders/{order['id']}", headers=world.county(HULI))
    finally:
        homecare_app.state.person_index = held
    assert transport.calls == {"/api/v1/residents/persons/batch": 3}  # one a page, one the detail
    items = pages["recipients"].json()["items"]
    assert len(items) == 4
    assert len(pages["orders"].json()["items"]) == 2
    for body in bodies:
        for secret in (body["name"], body["id_number"], body["phone"], body["address"]):
            for response in (*pages.values(), detail):
                assert secret not in response.text
    assert all(item["name"] and item["name"] != "陈阿婆" for item in items)  # masked, not empty
    assert all("*" in item["id_number"] and "*" in item["phone"] for item in items)
    assert detail.json()["recipient_name"] not in (None, "陈阿婆")


async def test_lists_degrade_and_a_detail_is_a_503_when_the_person_index_is_down(
    world: World, homecare_app: FastAPI
) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    held = homecare_app.state.person_index
    homecare_app.state.person_index = _down_index()
    try:
        listed = await world.client.get(
            f"{HC}/recipients", params={"institution_id": str(c.provider.id)}, headers=world.admin(c.provider)
        )
        orders = await world.client.get(
            f"{HC}/orders", params={"institution_id": str(c.provider.id)}, headers=world.admin(c.provider)
        )
        detail = await world.client.get(
            f"{HC}/recipients/{c.recipient['id']}", headers=world.admin(c.provider)
        )
        order_detail = await world.client.get(f"{HC}/orders/{order['id']}", headers=world.admin(c.provider))
    finally:
        homecare_app.state.person_index = held
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert (item["id"], item["name"], item["id_number"], item["age"]) == (c.recipient["id"], None, None, None)
    assert item["disability_level"] == c.recipient["disability_level"]  # homecare's own data still there
    assert orders.status_code == 200
    assert orders.json()["items"][0]["recipient_name"] is None
    assert order_detail.status_code == 200
    assert order_detail.json()["recipient_name"] is None
    assert detail.status_code == 503, detail.text
    assert detail.json()["code"] == "residents_unavailable"
