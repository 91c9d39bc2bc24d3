"""The list answers from rows (libs/common/row_pages.py): the bytes the model path would have sent.

For every role that may read the list and every filter (alone and combined), the page's bytes are
checked against ``Page[InstitutionRead]`` (valid, and nothing more than it declares) and compared byte
for byte with the reference: the same page loaded as ORM objects, turned into ``InstitutionRead`` by
``service.to_read`` (phone masked, as lists never disclose it) and serialised as FastAPI serialises a
``response_model``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, Role
from libs.common.pagination import Page, PageParams
from libs.common.row_pages import serialised_keys
from libs.common.testing import Tokens
from services.registry.institutions import service
from services.registry.institutions.schemas import InstitutionRead, NearbyInstitution
from services.registry.institutions.service import InstitutionFilter
from tests.registry.factories import INSTITUTIONS, create_institution, hospital_body, institution_body

PAGE = TypeAdapter(Page[InstitutionRead])
MARK = "快路径"

FILTERS: list[tuple[dict[str, Any], InstitutionFilter]] = [
    ({}, InstitutionFilter()),
    ({"kind": "medical"}, InstitutionFilter(kinds=["medical"])),  # type: ignore[list-item]
    (
        {"kind": ["elderly_care", "integrated"]},
        InstitutionFilter(kinds=["elderly_care", "integrated"]),  # type: ignore[list-item]
    ),
    ({"category": "hospital"}, InstitutionFilter(categories=["hospital"])),  # type: ignore[list-item]
    ({"region_code": "350200"}, InstitutionFilter(region_code="350200")),
    ({"region_code": "350104"}, InstitutionFilter(region_code="350104")),
    ({"active": "false"}, InstitutionFilter(active=False)),
    ({"active": "true"}, InstitutionFilter(active=True)),
    (
        {"operating_since_from": "2010-01-01", "operating_since_to": "2020-12-31"},
        InstitutionFilter(
            operating_since_from=date(2010, 1, 1),
            operating_since_to=date(2020, 12, 31),
        ),
    ),
    *(
        ({flag: value}, InstitutionFilter(flags={flag: value == "true"}))
        for flag in (
            "medical_insurance_designated",
            "elderly_green_channel",
            "hospice_care",
            "home_bed_service",
            "internet_nursing_provider",
            "elderly_friendly",
            "tcm_hall",
            "has_medical_unit",
        )
        for value in ("true", "false")
    ),
    (
        {"beds_elderly_care_min": 100, "beds_elderly_care_max": 200},
        InstitutionFilter(bed_ranges={"beds_elderly_care": (100, 200)}),
    ),
    ({"beds_medical_min": 1}, InstitutionFilter(bed_ranges={"beds_medical": (1, None)})),
    ({"beds_integrated_max": 0}, InstitutionFilter(bed_ranges={"beds_integrated": (None, 0)})),
    (
        {"kind": "medical", "region_code": "350200", "home_bed_service": "true", "beds_medical_min": 100},
        InstitutionFilter(
            kinds=["medical"],  # type: ignore[list-item]
            region_code="350200",
            flags={"home_bed_service": True},
            bed_ranges={"beds_medical": (100, None)},
        ),
    ),
]


async def _landscape(client: httpx.AsyncClient, tokens: Tokens) -> dict[str, Any]:
    """Institutions that differ in every way the list shows: kinds, grades, labels, regions, phone or
    none, place or none, flags, an inactive one."""
    home = await create_institution(client, tokens, name=f"{MARK}颐养院", beds_elderly_care=150)
    await create_institution(
        client,
        tokens,
        hospital_body(
            name=f"{MARK}医院",
            home_bed_service=True,
            medical_insurance_designated=True,
            elderly_green_channel=True,
            elderly_friendly_year=2022,
            tcm_hall=True,
            hospice_care=True,
            beds_hospice=10,
        ),
    )
    await create_institution(
        client,
        tokens,
        institution_body(
            name=f"{MARK}结合院",
            kind="integrated",
            integrated_model="medical_runs_elderly_care",
            category="hospital",
            region_code="350203",
            contact_phone=None,
            lat=None,
            lng=None,
            operating_since=None,
            beds_medical=30,
            beds_integrated=20,
        ),
    )
    await create_institution(
        client, tokens, name=f"{MARK}福州院", region_code="350104", contact_phone="0591-87654321"
    )
    closed = await create_institution(client, tokens, name=f"{MARK}停业院", region_code="350128")
    response = await client.post(
        f"{INSTITUTIONS}/{closed['id']}/deactivate",
        json={"reason": "停业"},
        headers={**tokens.headers(Role.county_admin, "350128"), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    return home


def _readers(home_id: uuid.UUID) -> Iterator[tuple[Principal, dict[str, Any]]]:
    yield Principal(sub="p", role=Role.province_admin, region_code="350000"), {}
    yield Principal(sub="c", role=Role.city_admin, region_code="350200"), {}
    yield Principal(sub="k", role=Role.county_admin, region_code="350206"), {}
    for role in (Role.institution_admin, Role.institution_staff):
        yield (
            Principal(sub="i", role=role, region_code="350206", institution_id=home_id),
            {"institution_id": home_id},
        )
    yield Principal(sub="cp", role=Role.city_platform, region_code="350200"), {}


async def _reference(
    db: AsyncSession, app: FastAPI, principal: Principal, filters: InstitutionFilter, params: PageParams
) -> bytes:
    rows, next_cursor = await service.list_(db, principal, params=params, filters=filters)
    items = [service.to_read(row, app.state.cipher, disclose=False) for row in rows]
    return PAGE.dump_json(Page[InstitutionRead](items=items, next_cursor=next_cursor, limit=params.limit))


@pytest.mark.parametrize("reader", range(6), ids=["province", "city", "county", "admin", "staff", "platform"])
async def test_every_filter_and_role_gets_the_model_paths_bytes(
    client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession, registry_app: FastAPI, reader: int
) -> None:
    home = await _landscape(client, tokens)
    principal, extra = list(_readers(uuid.UUID(home["id"])))[reader]
    headers = tokens.headers(principal.role, principal.region_code, **extra)
    for query, filters in FILTERS:
        for with_mark in (False, True):
            params = {**query, "limit": 200}
            the_filters = filters
            if with_mark:
                params["q"] = MARK
                the_filters = InstitutionFilter(**{**_fields(filters), "q": MARK})
            response = await client.get(INSTITUTIONS, params=params, headers=headers)
            assert response.status_code == 200, (query, response.text)
            assert response.headers["content-type"] == "application/json"
            page = PAGE.validate_json(response.content)  # what the schema says …
            assert PAGE.dump_json(page) == response.content  # … and nothing it does not say
            expected = await _reference(
                db, registry_app, principal, the_filters, PageParams(limit=200, cursor=None)
            )
            assert response.content == expected, query


def _fields(filters: InstitutionFilter) -> dict[str, Any]:
    return {name: getattr(filters, name) for name in InstitutionFilter.__slots__}


async def test_pages_and_cursors_match_the_model_path(
    client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession, registry_app: FastAPI
) -> None:
    await _landscape(client, tokens)
    principal = Principal(sub="p", role=Role.province_admin, region_code="350000")
    headers = tokens.headers(Role.province_admin)
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"q": MARK, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(INSTITUTIONS, params=params, headers=headers)
        assert response.status_code == 200, response.text
        expected = await _reference(
            db, registry_app, principal, InstitutionFilter(q=MARK), PageParams(limit=2, cursor=cursor)
        )
        assert response.content == expected
        pages += 1
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == 3  # 5 institutions, 2 a page


async def test_list_items_carry_every_key_of_the_schema_in_its_order(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    await _landscape(client, tokens)
    response = await client.get(INSTITUTIONS, params={"q": MARK}, headers=tokens.headers(Role.province_admin))
    items = response.json()["items"]
    assert len(items) == 5
    for item in items:
        assert tuple(item) == serialised_keys(InstitutionRead)
        assert item["lat"] == item["latitude"]
        assert item["lng"] == item["longitude"]
        assert item["contact_phone"] is None or "****" in item["contact_phone"]  # never whole in a list
    phones = {item["name"]: item["contact_phone"] for item in items}
    assert phones[f"{MARK}颐养院"] == "138****5678"
    assert phones[f"{MARK}结合院"] is None


async def test_list_still_answers_problems(client: httpx.AsyncClient, tokens: Tokens) -> None:
    headers = tokens.headers(Role.province_admin)
    bad_cursor = await client.get(INSTITUTIONS, params={"cursor": "garbage!"}, headers=headers)
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["code"] == "invalid_cursor"
    unknown = await client.get(INSTITUTIONS, params={"region_code": "359999"}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_region"
    anonymous = await client.get(INSTITUTIONS)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")


NEARBY = TypeAdapter(list[NearbyInstitution])


@pytest.mark.parametrize("reader", range(6), ids=["province", "city", "county", "admin", "staff", "platform"])
async def test_nearby_gets_the_model_paths_bytes(
    client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession, registry_app: FastAPI, reader: int
) -> None:
    home = await _landscape(client, tokens)
    principal, extra = list(_readers(uuid.UUID(home["id"])))[reader]
    headers = tokens.headers(principal.role, principal.region_code, **extra)
    point = {"latitude": 24.50, "longitude": 118.10}
    queries: list[dict[str, Any]] = [
        {},
        {"kind": "medical"},
        {"category": ["hospital", "elderly_care_home"]},
        {"limit": 2},
    ]
    for query in queries:
        params: dict[str, Any] = {**point, "radius_km": 50, **query}
        response = await client.get(f"{INSTITUTIONS}/nearby", params=params, headers=headers)
        assert response.status_code == 200, response.text
        found = await service.nearby(
            db,
            principal,
            latitude=point["latitude"],
            longitude=point["longitude"],
            radius_km=50,
            kinds=[query["kind"]] if "kind" in query else (),
            categories=query.get("category", ()),
            limit=query.get("limit", 20),
        )
        expected = NEARBY.dump_json(
            [
                NearbyInstitution(
                    institution=service.to_read(row, registry_app.state.cipher, disclose=False),
                    distance_km=distance,
                )
                for row, distance in found
            ]
        )
        assert response.content == expected, query
        if not query:
            assert response.json(), "every reader sees at least the home in 湖里"
        assert NEARBY.dump_json(NEARBY.validate_json(response.content)) == response.content
