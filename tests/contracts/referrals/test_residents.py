"""A referral's resident is held by the residents' person index (issue 19): a new referral stores
``person_id`` only; reads fetch a page's residents in ONE ``POST /residents/persons/batch`` call and mask
them as before (whole only in a party's detail); the index down, lists answer with the resident's fields
empty and a party's detail is a 503 ``residents_unavailable``. The bulk path: test_bulk_persons.py."""

from __future__ import annotations

import random
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.auth import Role
from libs.common.http_client import StaticTokenSource
from libs.common.person_index import PersonIndex
from libs.common.testing import Tokens, live_client
from services.contracts.referrals.models import Referral
from tests.contracts.flows import admin_of
from tests.contracts.referrals.test_router import REFERRALS, _active, referral_body, with_check
from tests.contracts.registry_data import RegistryData

BATCH = "/api/v1/residents/persons/batch"
COPIES = ("resident_name_enc", "resident_id_number_enc", "resident_id_hash", "resident_phone_enc")


def _id_number() -> str:
    """A fresh ID number (the residents' index is shared by the session's tests and keeps its persons)."""
    return with_check(
        f"3502061940{random.randint(1, 12):02d}{random.randint(1, 28):02d}{random.randint(0, 999):03d}"
    )


def _down_index(status: int | None = None) -> PersonIndex:
    """A person index that refuses connections (or answers ``status``)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if status is None:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(status, json={"code": "internal_error"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://gateway")
    return PersonIndex(http, StaticTokenSource("token"))


class _Counting(httpx.AsyncBaseTransport):
    """The residents app behind a transport that counts the calls contracts makes (path → count)."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.calls: dict[str, int] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls[request.url.path] = self.calls.get(request.url.path, 0) + 1
        return await self.inner.handle_async_request(request)


def _counting_index(residents_app: FastAPI, tokens: Tokens) -> tuple[PersonIndex, _Counting]:
    transport = _Counting(residents_app)
    http = httpx.AsyncClient(transport=transport, base_url="http://gateway")
    token = tokens.token(Role.service, "350000", sub="service:contracts")
    return PersonIndex(http, StaticTokenSource(token)), transport


async def _stored(app: FastAPI, referral_id: str) -> Referral:
    async with app.state.database.session() as session:
        row: Referral | None = await session.scalar(
            select(Referral).where(Referral.id == uuid.UUID(referral_id))
        )
    assert row is not None
    return row


async def _register(residents_app: FastAPI, tokens: Tokens, name: str, id_number: str) -> str:
    """A person the index holds (committed: contracts' calls see it)."""
    async with live_client(residents_app, base_url="http://gateway") as residents:
        response = await residents.post(
            "/api/v1/residents/persons",
            json={"name": name, "id_number": id_number, "region_code": "350206"},
            headers=tokens.headers(Role.service, "350000", sub="service:contracts"),
        )
    assert response.status_code in (200, 201), response.text
    person_id: str = response.json()["id"]
    return person_id


def _body(agreement: dict[str, Any], id_number: str, name: str = "张三丰") -> dict[str, Any]:
    body = referral_body(agreement, id_number=id_number)
    body["resident"]["name"] = name
    return body


async def test_a_new_referral_stores_its_person_only(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, contracts_app: FastAPI
) -> None:
    _, elderly, agreement = await _active(client, registry, tokens)
    id_number = _id_number()
    created = await client.post(
        REFERRALS, json=_body(agreement, id_number), headers=admin_of(tokens, elderly)
    )
    assert created.status_code == 201, created.text
    assert created.json()["resident"]["masked"] is True
    row = await _stored(contracts_app, created.json()["id"])
    assert row.person_id is not None
    assert all(getattr(row, column) is None for column in COPIES)
    # one open referral per person still (the blind index is not stored any more)
    again = await client.post(REFERRALS, json=_body(agreement, id_number), headers=admin_of(tokens, elderly))
    assert (again.status_code, again.json()["code"]) == (409, "open_referral_exists")
    # found by its resident's ID number (the index's person of that number)
    found = await client.get(
        REFERRALS, params={"resident_id_number": id_number}, headers=tokens.headers(Role.province_admin)
    )
    assert [r["id"] for r in found.json()["items"]] == [created.json()["id"]]


async def test_a_page_reads_its_residents_in_one_call_and_officials_see_them_masked(
    client: httpx.AsyncClient,
    registry: RegistryData,
    tokens: Tokens,
    contracts_app: FastAPI,
    residents_app: FastAPI,
) -> None:
    medical, elderly, agreement = await _active(client, registry, tokens)
    numbers = [_id_number() for _ in range(3)]
    ids = []
    for number in numbers:
        created = await client.post(
            REFERRALS, json=_body(agreement, number), headers=admin_of(tokens, elderly)
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    held = contracts_app.state.person_index
    index, transport = _counting_index(residents_app, tokens)
    contracts_app.state.person_index = index
    try:
        official = await client.get(
            REFERRALS,
            params={"agreement_id": agreement["id"]},
            headers=tokens.headers(Role.county_admin, "350206"),
        )
        party = await client.get(
            REFERRALS, params={"agreement_id": agreement["id"]}, headers=admin_of(tokens, medical)
        )
        detail = await client.get(f"{REFERRALS}/{ids[0]}", headers=admin_of(tokens, medical))
    finally:
        contracts_app.state.person_index = held
    assert transport.calls == {BATCH: 3}  # one a page, one the detail
    for page in (official, party):
        items = page.json()["items"]
        assert sorted(i["id"] for i in items) == sorted(ids)
        assert all(i["resident"]["name"] == "张*丰" and i["resident"]["masked"] for i in items)
        for number in numbers:
            assert number not in page.text
    assert detail.json()["resident"] == {
        "name": "张三丰",
        "id_number": numbers[0],
        "phone": "13700001111",
        "masked": False,
    }


async def test_lists_degrade_and_a_party_s_detail_is_a_503_when_the_index_is_down(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, contracts_app: FastAPI
) -> None:
    medical, elderly, agreement = await _active(client, registry, tokens)
    created = await client.post(
        REFERRALS, json=_body(agreement, _id_number()), headers=admin_of(tokens, elderly)
    )
    assert created.status_code == 201, created.text
    referral_id = created.json()["id"]
    held = contracts_app.state.person_index
    try:
        for broken in (_down_index(), _down_index(status=500), None):
            contracts_app.state.person_index = broken
            listed = await client.get(
                REFERRALS, params={"agreement_id": agreement["id"]}, headers=admin_of(tokens, medical)
            )
            assert listed.status_code == 200, listed.text
            (item,) = listed.json()["items"]
            assert item["id"] == referral_id
            assert (item["resident"]["name"], item["resident"]["id_number"]) == (None, None)
            detail = await client.get(f"{REFERRALS}/{referral_id}", headers=admin_of(tokens, medical))
            assert detail.status_code == 503, detail.text
            assert detail.headers["content-type"].startswith("application/problem+json")
            assert detail.json()["code"] == "residents_unavailable"
            masked = await client.get(
                f"{REFERRALS}/{referral_id}", headers=tokens.headers(Role.county_admin, "350206")
            )
            assert masked.status_code == 200, masked.text
            assert masked.json()["resident"]["name"] is None
        accepted = await client.post(
            f"{REFERRALS}/{referral_id}/accept",
            headers={**admin_of(tokens, medical), "If-Match": f'"{created.json()["version"]}"'},
        )
    finally:
        contracts_app.state.person_index = held
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "accepted"
