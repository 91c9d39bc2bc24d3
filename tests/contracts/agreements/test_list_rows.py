"""The agreement list answers from rows (issue 16; services/contracts/agreements/listing.py): the bytes the
model path sends.

The reference is the path the list had before: the page loaded as ORM objects (``list_reference.list_``:
out of the service, no route calls it), each turned into ``AgreementRead`` by ``service.present``
(contacts masked: a list never discloses them) and ``Page[AgreementRead]`` serialised as FastAPI
serialises a ``response_model``. For every reading role and
every filter, on two dates (the effective status, its label and the allowed actions follow the date), and
page by page, the answer's bytes are the reference's.
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

from libs.common.auth import Principal, Role
from libs.common.pagination import Page, PageParams
from libs.common.row_pages import serialised_keys
from libs.common.testing import Tokens
from services.contracts.agreements import service
from services.contracts.agreements.models import AgreementState
from services.contracts.agreements.schemas import AgreementRead
from services.contracts.clock import ManualClock
from tests.contracts.agreements import list_reference
from tests.contracts.agreements.test_documents import PDF
from tests.contracts.flows import AGREEMENTS, admin_of, draft, signed, transition
from tests.contracts.registry_data import RegistryData

PAGE = TypeAdapter(Page[AgreementRead])
SIMING, HULI, XIAMEN = "350203", "350206", "350200"


async def _landscape(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> dict[str, dict[str, Any]]:
    """Agreements that differ in every way the list shows: each state, a signed PDF, contacts or none,
    a fee or none, another period and services, a cross-county pair, a filed and a renewed one."""
    hospital, siming_hospital = await registry.medical(HULI), await registry.medical(SIMING)
    homes = [await registry.elderly(HULI) for _ in range(6)]
    siming_home = await registry.integrated(SIMING)
    county = tokens.headers(Role.county_admin, HULI)

    active = await signed(client, tokens, hospital, homes[0], start_date="2026-03-01")
    uploaded = await client.post(
        f"{AGREEMENTS}/{active['id']}/document",
        files={"file": ("协议.pdf", PDF, "application/pdf")},
        headers={**admin_of(tokens, hospital), "If-Match": f'"{active["version"]}"'},
    )
    assert uploaded.status_code == 200, uploaded.text
    bare = await signed(
        client,
        tokens,
        hospital,
        homes[1],
        start_date="2026-05-01",
        end_date="2026-12-31",
        services=["tcm", "hospice", "telemedicine"],
        visit_period="month",
        visit_count=3,
        visit_staff=None,
        fee_payer="free",
        fee_amount_yuan=None,
        medical_contact=None,
        elderly_contact=None,
    )
    await signed(client, tokens, siming_hospital, homes[2], start_date="2026-03-01")
    filed = await signed(client, tokens, hospital, homes[3], start_date="2026-03-01")
    assert (await transition(client, filed, "file", county, json={"note": "予以备案"})).status_code == 200
    ended = await signed(client, tokens, hospital, homes[4], start_date="2026-03-01")
    terminated = await transition(
        client, ended, "terminate", admin_of(tokens, homes[4]), json={"reason": "停业"}
    )
    assert terminated.status_code == 200, terminated.text
    drafted = await draft(
        client, tokens, hospital, homes[5], title="（草稿）护理合作协议", fee_amount_yuan="0.50"
    )
    submitted = await draft(client, tokens, hospital, siming_home)
    assert (await transition(client, submitted, "submit", admin_of(tokens, siming_home))).status_code == 200
    return {"hospital": hospital, "home": homes[0], "active": active, "bare": bare, "drafted": drafted}


def _readers(hospital: uuid.UUID, home: uuid.UUID) -> Iterator[tuple[Principal, dict[str, Any]]]:
    yield Principal(sub="p", role=Role.province_admin, region_code="350000"), {}
    yield Principal(sub="c", role=Role.city_admin, region_code=XIAMEN), {}
    yield Principal(sub="k", role=Role.county_admin, region_code=HULI), {}
    yield Principal(sub="s", role=Role.county_admin, region_code=SIMING), {}
    yield (
        Principal(sub="a", role=Role.institution_admin, region_code=HULI, institution_id=hospital),
        {"institution_id": hospital},
    )
    yield (
        Principal(sub="f", role=Role.institution_staff, region_code=HULI, institution_id=home),
        {"institution_id": home},
    )
    yield Principal(sub="cp", role=Role.city_platform, region_code=XIAMEN), {}
    yield Principal(sub="service:indicators", role=Role.service, region_code="350000"), {}


READERS = [
    *("province", "city", "county", "other_county"),
    *("hospital_admin", "home_staff", "platform", "service"),
]


def _filters(hospital: str) -> list[dict[str, Any]]:
    return [
        {},
        *({"status": state.value} for state in AgreementState),
        {"institution_id": hospital},
        {"region_code": HULI},
        {"region_code": SIMING},
        {"region_code": XIAMEN},
        {"ending_before": "2026-12-31"},
        {"awaiting_filing": "true"},
        {"awaiting_filing": "true", "status": "active", "region_code": HULI, "institution_id": hospital},
    ]


async def _reference(
    app: FastAPI, principal: Principal, query: dict[str, Any], params: PageParams, today: date
) -> bytes:
    arguments: dict[str, Any] = {
        "status": AgreementState(query["status"]) if "status" in query else None,
        "institution_id": uuid.UUID(query["institution_id"]) if "institution_id" in query else None,
        "region_code": query.get("region_code"),
        "ending_before": date.fromisoformat(query["ending_before"]) if "ending_before" in query else None,
        "awaiting_filing": query.get("awaiting_filing") == "true",
    }
    async with app.state.database.session() as session:
        rows, next_cursor = await list_reference.list_(
            session, principal, params=params, today=today, **arguments
        )
        items = [service.present(row, today=today, cipher=app.state.cipher) for row in rows]
    return PAGE.dump_json(Page[AgreementRead](items=items, next_cursor=next_cursor, limit=params.limit))


@pytest.mark.parametrize("reader", range(len(READERS)), ids=READERS)
async def test_every_filter_role_and_date_gets_the_model_paths_bytes(
    client: httpx.AsyncClient,
    registry: RegistryData,
    tokens: Tokens,
    contracts_app: FastAPI,
    clock: ManualClock,
    reader: int,
) -> None:
    world = await _landscape(client, registry, tokens)
    hospital, home = uuid.UUID(world["hospital"]["id"]), uuid.UUID(world["home"]["id"])
    principal, extra = list(_readers(hospital, home))[reader]
    headers = tokens.headers(principal.role, principal.region_code, **extra)
    seen = 0
    for today in (date(2026, 3, 16), date(2027, 5, 1)):  # the second: every signed term is over
        clock.set_today(today)
        for query in _filters(world["hospital"]["id"]):
            response = await client.get(AGREEMENTS, params={**query, "limit": 200}, headers=headers)
            assert response.status_code == 200, (query, response.text)
            assert response.headers["content-type"] == "application/json"
            page = PAGE.validate_json(response.content)  # what the schema says …
            assert PAGE.dump_json(page) == response.content  # … and nothing it does not say
            params = PageParams(limit=200, cursor=None)
            expected = await _reference(contracts_app, principal, query, params, today)
            assert response.content == expected, (today, query)
            seen += len(page.items)
    assert seen, "every reader sees some agreement"


async def test_pages_and_cursors_match_the_model_path(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, contracts_app: FastAPI
) -> None:
    await _landscape(client, registry, tokens)
    principal = Principal(sub="k", role=Role.county_admin, region_code=HULI)
    headers = tokens.headers(Role.county_admin, HULI)
    cursor: str | None = None
    pages = 0
    while True:
        params = PageParams(limit=2, cursor=cursor)
        query: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(AGREEMENTS, params=query, headers=headers)
        assert response.status_code == 200, response.text
        assert response.content == await _reference(contracts_app, principal, {}, params, date(2026, 3, 16))
        pages += 1
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert pages == 4  # the county reads all 7 (the 思明 home's through its 湖里 hospital), 2 a page


async def test_list_items_carry_every_key_in_order_and_mask_the_contacts(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    world = await _landscape(client, registry, tokens)
    response = await client.get(AGREEMENTS, headers=tokens.headers(Role.province_admin))
    items = {item["id"]: item for item in response.json()["items"]}
    for item in items.values():
        assert tuple(item) == serialised_keys(AgreementRead)
    active, bare = items[world["active"]["id"]], items[world["bare"]["id"]]
    assert active["medical_contact"] == {"name": "李主任", "phone": "138****5678"}  # never whole in a list
    assert active["elderly_contact"] == {"name": "王院长", "phone": "139****5678"}
    assert active["document"]["filename"] == "协议.pdf"
    assert (active["status"], active["status_label"], active["allowed_actions"]) == (
        "active",
        "生效中",
        ["terminate", "renew"],
    )
    assert (bare["medical_contact"], bare["document"], bare["fee_amount_yuan"]) == (None, None, None)
    assert bare["service_labels"] == ["中医药服务", "安宁疗护", "远程医疗（远程咨询/会诊）"]
    assert bare["visit_frequency_label"] == "每月 3 次"
    assert (bare["status"], bare["state"]) == ("countersigned", "countersigned")
    assert items[world["drafted"]["id"]]["fee_amount_yuan"] == "0.50"


async def test_list_still_answers_problems(client: httpx.AsyncClient, tokens: Tokens) -> None:
    headers = tokens.headers(Role.province_admin)
    bad_cursor = await client.get(AGREEMENTS, params={"cursor": "garbage!"}, headers=headers)
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["code"] == "invalid_cursor"
    unknown = await client.get(AGREEMENTS, params={"region_code": "359999"}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_region"
    anonymous = await client.get(AGREEMENTS)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
