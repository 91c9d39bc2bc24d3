"""Historical import of 巡诊 visits (issue 14): ``POST /visits/bulk`` — past visits under the rules of
``POST /agreements/{id}/visits`` (within the agreement's term, not in the future, agreed services), keyed
by (source_system, external_id), fed with their original dates.

"Today" is 2026-03-16 (the tests' clock).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.contracts.agreements.test_bulk import BULK as AGREEMENTS_BULK
from tests.contracts.agreements.test_bulk import batch, counting_statements, platform, record
from tests.contracts.flows import AGREEMENTS, admin_of
from tests.contracts.registry_data import RegistryData

VISITS_BULK = "/api/v1/contracts/visits/bulk"
CHANGES = "/api/v1/contracts/changes"
DOCTOR = str(uuid.UUID(int=7))


def visit(external_id: str, agreement: str, visit_date: str, **overrides: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "agreement_external_id": agreement,
        "visit_date": visit_date,
        "practitioner_ids": [DOCTOR],
        "residents_seen": 12,
        "services": ["medical_rounds"],
        "findings": "常规巡诊",
        "recorded_by": "doctor_li",
        **overrides,
    }


async def _agreements(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, region: str = "350206"
) -> list[dict[str, Any]]:
    """XY-1: 2025-01-01 … 2025-12-31 (expired); XY-2: terminated 2025-06-30; both for 巡诊 and referrals."""
    medical, elderly, other = (
        await registry.medical(region),
        await registry.elderly(region),
        await registry.elderly(region),
    )
    response = await client.post(
        AGREEMENTS_BULK,
        json=batch(
            record(medical, elderly, "XY-1", start_date="2025-01-01", end_date="2025-12-31"),
            record(
                medical,
                other,
                "XY-2",
                status="terminated",
                start_date="2025-01-01",
                end_date="2025-12-31",
                termination_reason="养老机构停业",
                terminated_on="2025-06-30",
            ),
        ),
        headers=tokens.headers(Role.province_admin),
    )
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "created"], results
    return [
        (await client.get(f"{AGREEMENTS}/{r['id']}", headers=tokens.headers(Role.province_admin))).json()
        for r in results
    ]


def _medical(agreement: dict[str, Any]) -> dict[str, Any]:
    party = agreement["medical_party"]
    return {"id": party["institution_id"], "region_code": party["region_code"]}


async def test_past_visits_are_created_fed_with_their_dates_and_a_replay_changes_nothing(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    first, _ = await _agreements(client, registry, tokens)
    records = [
        visit("V-1", "XY-1", "2025-03-04"),
        visit("V-2", "XY-1", "2025-12-31", agreement_external_id=None, agreement_id=first["id"]),
    ]
    body = {"source_system": "xm-ijk", "records": records}
    created = (await client.post(VISITS_BULK, json=body, headers=platform(tokens))).json()
    assert created["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 0}, created
    listed = (
        await client.get(f"{AGREEMENTS}/{first['id']}/visits", headers=admin_of(tokens, _medical(first)))
    ).json()["items"]
    assert [(v["visit_date"], v["recorded_by"]) for v in listed] == [
        ("2025-12-31", "doctor_li"),
        ("2025-03-04", "doctor_li"),
    ]
    feed = (await client.get(CHANGES, params={"limit": 200}, headers=platform(tokens))).json()["items"]
    visits = [c for c in feed if c["entity_type"] == "visit"]
    assert [(c["entity_id"], c["data"]["visit_date"]) for c in visits] == [
        (created["results"][0]["id"], "2025-03-04"),
        (created["results"][1]["id"], "2025-12-31"),
    ]

    replay = (await client.post(VISITS_BULK, json=body, headers=platform(tokens))).json()
    assert replay["counts"] == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    edited = {"source_system": "xm-ijk", "records": [visit("V-1", "XY-1", "2025-03-05")]}
    updated = (await client.post(VISITS_BULK, json=edited, headers=platform(tokens))).json()
    assert (updated["counts"]["updated"], updated["results"][0]["version"]) == (1, 2)


async def test_a_visit_outside_the_term_in_the_future_or_of_services_not_agreed_is_refused(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    await _agreements(client, registry, tokens)
    records = [
        visit("W-1", "XY-1", "2024-12-31"),
        visit("W-2", "XY-1", "2026-01-01"),
        visit("W-3", "XY-2", "2025-07-01"),
        visit("W-4", "XY-1", "2025-05-01", services=["hospice"]),
        visit("W-5", "XY-9", "2025-05-01"),
        visit("W-6", "XY-1", "2025-05-01", agreement_id=str(uuid.uuid4())),
        visit("W-7", "XY-1", "2025-05-01", practitioner_ids=[]),
        visit("W-8", "XY-2", "2025-06-30"),
    ]
    body = (
        await client.post(
            VISITS_BULK, json={"source_system": "xm-ijk", "records": records}, headers=platform(tokens)
        )
    ).json()
    assert [(r["code"], [e["field"] for e in r["errors"]]) for r in body["results"]] == [
        ("visit_outside_term", ["records.0.visit_date"]),
        ("visit_outside_term", ["records.1.visit_date"]),
        ("visit_outside_term", ["records.2.visit_date"]),
        ("service_not_agreed", []),
        ("agreement_not_found", []),
        ("validation_failed", ["records.5"]),
        ("validation_failed", ["records.6.practitioner_ids"]),
        (None, []),
    ]


async def test_a_visit_in_the_future_is_refused(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical("350206"), await registry.elderly("350206")
    created = await client.post(
        AGREEMENTS_BULK,
        json=batch(record(medical, elderly, "XY-5", start_date="2026-01-01", end_date="2026-12-31")),
        headers=platform(tokens),
    )
    assert created.json()["counts"]["created"] == 1
    body = (
        await client.post(
            VISITS_BULK,
            json={"source_system": "xm-ijk", "records": [visit("F-1", "XY-5", "2026-03-17")]},
            headers=platform(tokens),
        )
    ).json()
    assert body["results"][0]["code"] == "visit_outside_term"


async def test_a_pushed_visit_keeps_its_agreement(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    await _agreements(client, registry, tokens)
    first = {"source_system": "xm-ijk", "records": [visit("M-1", "XY-1", "2025-03-04")]}
    assert (await client.post(VISITS_BULK, json=first, headers=platform(tokens))).json()["counts"][
        "created"
    ] == 1
    moved = {"source_system": "xm-ijk", "records": [visit("M-1", "XY-2", "2025-03-04")]}
    body = (await client.post(VISITS_BULK, json=moved, headers=platform(tokens))).json()
    assert body["results"][0]["code"] == "agreement_changed"


async def test_only_the_province_and_the_agreement_s_city_platform_import_visits(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    first, _ = await _agreements(client, registry, tokens)
    by_id = visit("S-1", "XY-1", "2025-03-04", agreement_external_id=None, agreement_id=first["id"])
    body = {"source_system": "xm-ijk", "records": [by_id]}
    for headers in (admin_of(tokens, _medical(first)), tokens.headers(Role.county_admin, "350206")):
        refused = await client.post(VISITS_BULK, json=body, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    fuzhou = (await client.post(VISITS_BULK, json=body, headers=platform(tokens, "350100"))).json()
    assert fuzhou["results"][0]["code"] == "out_of_scope"
    province = (await client.post(VISITS_BULK, json=body, headers=tokens.headers(Role.province_admin))).json()
    assert province["counts"]["created"] == 1
    too_many = {"source_system": "xm-ijk", "records": [{}] * 1001}
    response = await client.post(VISITS_BULK, json=too_many, headers=platform(tokens))
    assert (response.status_code, response.json()["code"]) == (422, "batch_too_large")


async def test_a_batch_of_visits_takes_a_handful_of_statements(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, contracts_app: FastAPI
) -> None:
    await _agreements(client, registry, tokens)
    records = [visit(f"N-{i}", "XY-1", f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}") for i in range(60)]
    body = {"source_system": "xm-ijk", "records": records}
    with counting_statements(contracts_app) as statements:
        response = await client.post(VISITS_BULK, json=body, headers=platform(tokens))
    assert response.json()["counts"]["created"] == 60
    assert len(statements) <= 8, statements
