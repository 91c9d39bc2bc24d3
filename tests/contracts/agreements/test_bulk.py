"""City-platform bulk upsert (issues 7, 12): per-record results in the common bulk shape, replay,
out-of-city, few statements."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.contracts.conftest import agreement_body
from tests.contracts.flows import AGREEMENTS, draft
from tests.contracts.registry_data import RegistryData

BULK = f"{AGREEMENTS}/bulk"


def record(
    medical: dict[str, Any], elderly: dict[str, Any], external_id: str, **overrides: Any
) -> dict[str, Any]:
    body = agreement_body(medical, elderly, start_date="2026-01-01", end_date="2026-12-31")
    body.update({"external_id": external_id, **overrides})
    return body


def batch(*records: dict[str, Any], source_system: str = "xm-ijk") -> dict[str, Any]:
    return {"source_system": source_system, "records": list(records)}


def platform(tokens: Tokens, city: str = "350200") -> dict[str, str]:
    return tokens.headers(Role.city_platform, city, sub=f"client:platform-{city}")


async def test_each_record_gets_its_own_result_and_bad_ones_never_lose_good_ones(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical("350206"), await registry.elderly("350206")
    fuzhou = await registry.elderly("350104")
    closed = await registry.elderly("350203", active=False)
    records = [
        record(medical, elderly, "A-1"),
        {**record(medical, elderly, "A-2"), "visit_count": -1},
        record(medical, fuzhou, "A-3"),
        record({"id": str(uuid.uuid4())}, elderly, "A-4"),
        record(medical, closed, "A-5"),
        record(elderly, medical, "A-6"),
        record(medical, elderly, "A-1"),
    ]
    response = await client.post(BULK, json=batch(*records), headers=platform(tokens))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 6}
    outcomes = [(r["index"], r["outcome"], r["code"]) for r in body["results"]]
    assert outcomes == [
        (0, "created", None),
        (1, "rejected", "validation_failed"),
        (2, "rejected", "out_of_scope"),
        (3, "rejected", "party_not_found"),
        (4, "rejected", "party_inactive"),
        (5, "rejected", "party_wrong_kind"),
        (6, "rejected", "duplicate_in_batch"),
    ]
    assert body["results"][1]["errors"][0]["field"] == "records.1.visit_count"
    assert body["results"][3]["errors"][0]["field"] == "records.3.medical_institution_id"
    assert body["results"][0]["version"] == 1
    created = await client.get(f"{AGREEMENTS}/{body['results'][0]['id']}", headers=platform(tokens))
    agreement = created.json()
    assert (
        agreement["state"],
        agreement["status"],
        agreement["source_system"],
        agreement["external_id"],
    ) == (
        "active",
        "active",
        "xm-ijk",
        "A-1",
    )
    assert agreement["elderly_party"]["name"] == elderly["name"]


async def test_replaying_a_batch_changes_nothing_and_edits_update(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical = await registry.medical("350206")
    first, second = await registry.elderly("350206"), await registry.elderly("350211")
    first_batch = batch(record(medical, first, "B-1"), record(medical, second, "B-2"))
    created = (await client.post(BULK, json=first_batch, headers=platform(tokens))).json()
    assert created["counts"]["created"] == 2
    replay = (await client.post(BULK, json=first_batch, headers=platform(tokens))).json()
    assert replay["counts"] == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert [(r["id"], r["version"]) for r in replay["results"]] == [(r["id"], 1) for r in created["results"]]

    edited = batch(
        record(medical, first, "B-1", visit_count=3),
        record(
            medical,
            second,
            "B-2",
            status="terminated",
            termination_reason="养老机构停业整顿",
            terminated_on="2026-03-10",
        ),
    )
    updated = (await client.post(BULK, json=edited, headers=platform(tokens))).json()
    assert updated["counts"]["updated"] == 2
    assert [r["version"] for r in updated["results"]] == [2, 2]
    one = (await client.get(f"{AGREEMENTS}/{created['results'][0]['id']}", headers=platform(tokens))).json()
    assert (one["visit_count"], one["version"]) == (3, 2)
    two = (await client.get(f"{AGREEMENTS}/{created['results'][1]['id']}", headers=platform(tokens))).json()
    assert (two["state"], two["terminated_on"]) == ("terminated", "2026-03-10")
    reopen = (await client.post(BULK, json=first_batch, headers=platform(tokens))).json()
    assert [r["code"] for r in reopen["results"]] == [None, "terminated_final"]
    changes = await client.get(
        "/api/v1/contracts/changes", headers=tokens.headers(Role.city_platform, "350200")
    )
    versions = [(c["entity_id"], c["version"]) for c in changes.json()["items"]]
    assert (one["id"], 2) in versions


async def test_a_record_for_a_pair_with_an_agreement_in_progress_is_rejected(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical("350206"), await registry.elderly("350206")
    await draft(client, tokens, medical, elderly)
    response = await client.post(
        BULK,
        json=batch(record(medical, elderly, "C-1", start_date="2026-06-01")),
        headers=platform(tokens),
    )
    assert response.json()["results"][0]["code"] == "duplicate_agreement"


async def test_out_of_city_for_a_platform_is_allowed_for_the_province(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, fuzhou = await registry.medical("350104"), await registry.elderly("350104")
    body = batch(record(medical, fuzhou, "D-1"), source_system="fz-zhyl")
    city = (await client.post(BULK, json=body, headers=platform(tokens))).json()
    assert city["results"][0]["code"] == "out_of_scope"
    province = (await client.post(BULK, json=body, headers=tokens.headers(Role.province_admin))).json()
    assert province["results"][0]["outcome"] == "created"


async def test_more_than_a_thousand_records_is_422(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.post(BULK, json=batch(*[{}] * 1001), headers=platform(tokens))
    assert (response.status_code, response.json()["code"]) == (422, "batch_too_large")


@contextmanager
def counting_statements(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_a_large_batch_takes_a_handful_of_statements(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, contracts_app: FastAPI
) -> None:
    hospitals = [await registry.medical("350206") for _ in range(3)]
    homes = [await registry.elderly("350211") for _ in range(40)]
    records = [record(hospitals[i % 3], home, f"E-{i}") for i, home in enumerate(homes)]
    with counting_statements(contracts_app) as statements:
        response = await client.post(BULK, json=batch(*records), headers=platform(tokens))
    assert response.json()["counts"]["created"] == 40
    assert len(statements) <= 12, statements
    with counting_statements(contracts_app) as statements:
        edited = [{**r, "visit_count": 2} for r in records]
        response = await client.post(BULK, json=batch(*edited), headers=platform(tokens))
    assert response.json()["counts"]["updated"] == 40
    assert len(statements) <= 12, statements
