"""A recipient names its person of the residents' person index (issue 19): ``POST /recipients`` resolves
the person first; the index unreachable is a 503 ``residents_unavailable`` with nothing written, an ID
number registered there under another name a 409 ``person_name_mismatch``."""

from __future__ import annotations

import uuid

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
