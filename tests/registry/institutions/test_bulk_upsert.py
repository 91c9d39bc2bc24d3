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
from tests.registry.factories import INSTITUTIONS, institution_body

BULK = f"{INSTITUTIONS}/bulk"
XIAMEN = "350200"


def record(external_id: str, **overrides: Any) -> dict[str, Any]:
    body = institution_body(name=f"厦门平台机构{external_id}", **overrides)
    return {"external_id": external_id, **body}


def platform(tokens: Tokens, city: str = XIAMEN) -> dict[str, str]:
    return tokens.headers(Role.city_platform, city, sub="client:xm_city_platform")


async def test_created_updated_unchanged_and_rejected_each_get_their_result(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    first = await client.post(
        BULK,
        json={"source_system": "xm-ijiankang", "records": [record("A1"), record("A2")]},
        headers=platform(tokens),
    )
    assert first.status_code == 200, first.text
    assert [r["outcome"] for r in first.json()["results"]] == ["created", "created"]
    a1, a2 = (r["id"] for r in first.json()["results"])
    a1_record = record("A1")
    a1_record.update(uscc=(await client.get(f"{INSTITUTIONS}/{a1}", headers=platform(tokens))).json()["uscc"])
    a2_body = (await client.get(f"{INSTITUTIONS}/{a2}", headers=platform(tokens))).json()
    second = await client.post(
        BULK,
        json={
            "source_system": "xm-ijiankang",
            "records": [
                {**a1_record, "beds_elderly_care": 200},
                {**record("A2"), "uscc": a2_body["uscc"]},
                record("A3", region_code="350104"),
                record("A4", kind="nonsense"),
            ],
        },
        headers=platform(tokens),
    )
    body = second.json()
    statuses = [r["outcome"] for r in body["results"]]
    assert statuses == ["updated", "unchanged", "rejected", "rejected"]
    assert body["counts"] == {"created": 0, "updated": 1, "unchanged": 1, "rejected": 2}
    assert body["results"][0]["id"] == a1
    assert body["results"][0]["version"] == 2
    assert body["results"][2]["code"] == "out_of_scope"
    assert body["results"][2]["errors"][0]["code"] == "out_of_scope"
    assert body["results"][3]["code"] == "validation_failed"
    assert body["results"][3]["errors"][0]["field"] == "records.3.kind"
    fetched = await client.get(f"{INSTITUTIONS}/{a1}", headers=platform(tokens))
    assert fetched.json()["beds_elderly_care"] == 200
    assert fetched.json()["version"] == 2
    assert fetched.json()["external_id"] == "A1"


async def test_replaying_a_batch_changes_nothing(client: httpx.AsyncClient, tokens: Tokens) -> None:
    batch = {"source_system": "xm-ijiankang", "records": [record(f"R{i}") for i in range(5)]}
    first = await client.post(BULK, json=batch, headers=platform(tokens))
    assert first.json()["counts"]["created"] == 5
    feed_before = await client.get(
        "/api/v1/registry/changes", params={"limit": 1000}, headers=platform(tokens)
    )
    replay = await client.post(BULK, json=batch, headers=platform(tokens))
    assert replay.json()["counts"]["unchanged"] == 5
    assert [r["id"] for r in replay.json()["results"]] == [r["id"] for r in first.json()["results"]]
    feed_after = await client.get(
        "/api/v1/registry/changes", params={"limit": 1000}, headers=platform(tokens)
    )
    assert len(feed_after.json()["items"]) == len(feed_before.json()["items"])


async def test_created_and_updated_records_reach_the_change_feed(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    created = await client.post(
        BULK, json={"source_system": "sys", "records": [record("C1")]}, headers=platform(tokens)
    )
    entity_id = created.json()["results"][0]["id"]
    feed = await client.get("/api/v1/registry/changes", params={"limit": 1000}, headers=platform(tokens))
    entries = [e for e in feed.json()["items"] if e["entity_id"] == entity_id]
    assert len(entries) == 1
    assert entries[0]["data"]["external_id"] == "C1"
    assert entries[0]["version"] == 1
    assert "contact_phone_enc" not in entries[0]["data"]


async def test_a_record_outside_the_clients_city_is_rejected(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await client.post(
        BULK,
        json={"source_system": "fz", "records": [record("F1", region_code="350104"), record("F2")]},
        headers=platform(tokens, "350100"),
    )
    results = response.json()["results"]
    assert results[0]["outcome"] == "created"
    assert results[1]["outcome"] == "rejected"
    assert results[1]["errors"][0]["code"] == "out_of_scope"


async def test_pingtan_is_not_part_of_fuzhou(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.post(
        BULK,
        json={"source_system": "fz", "records": [record("P1", region_code="350128")]},
        headers=platform(tokens, "350100"),
    )
    assert response.json()["results"][0]["code"] == "out_of_scope"


async def test_duplicate_keys_and_codes_within_a_batch_are_rejected(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    one = record("D1")
    response = await client.post(
        BULK,
        json={
            "source_system": "sys",
            "records": [one, {**record("D1")}, {**record("D2"), "uscc": one["uscc"]}, {"name": "x"}],
        },
        headers=platform(tokens),
    )
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "rejected", "rejected", "rejected"]
    assert results[1]["code"] == "duplicate_in_batch"
    assert results[2]["code"] == "duplicate_in_batch"
    assert results[2]["errors"][0]["field"] == "records.2.uscc"
    assert results[3]["code"] == "invalid_external_id"
    assert results[3]["errors"][0]["field"] == "records.3.external_id"


async def test_a_code_registered_to_another_institution_is_rejected(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    existing = institution_body()
    await client.post(INSTITUTIONS, json=existing, headers=tokens.headers(Role.county_admin, "350206"))
    response = await client.post(
        BULK,
        json={"source_system": "sys", "records": [{**record("U1"), "uscc": existing["uscc"]}]},
        headers=platform(tokens),
    )
    assert response.json()["results"][0]["code"] == "uscc_taken"
    assert response.json()["results"][0]["errors"][0]["field"] == "records.0.uscc"


async def test_more_than_a_thousand_records_is_422(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.post(
        BULK,
        json={"source_system": "sys", "records": [{"external_id": str(i)} for i in range(1001)]},
        headers=platform(tokens),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "batch_too_large"


async def test_only_city_platforms_and_the_province_may_bulk_upsert(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    batch = {"source_system": "sys", "records": [record("Z1")]}
    for role, region in (
        (Role.county_admin, "350206"),
        (Role.city_admin, XIAMEN),
        (Role.institution_admin, "350206"),
    ):
        denied = await client.post(
            BULK,
            json=batch,
            headers=tokens.headers(
                role, region, institution_id=uuid.uuid4() if role is Role.institution_admin else None
            ),
        )
        assert denied.status_code == 403
    allowed = await client.post(BULK, json=batch, headers=tokens.headers(Role.province_admin, "350000"))
    assert allowed.json()["counts"]["created"] == 1


@contextmanager
def counted_statements(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = app.state.database.engine.sync_engine

    def count(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        statements.append(statement.split()[0])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_a_thousand_records_take_a_handful_of_statements(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    records = [record(f"L{i}") for i in range(1000)]
    batch = {"source_system": "load", "records": records}
    with counted_statements(registry_app) as created_statements:
        created = await client.post(BULK, json=batch, headers=platform(tokens))
    assert created.json()["counts"]["created"] == 1000
    for item in records[:500]:
        item["beds_elderly_care"] = 99
    with counted_statements(registry_app) as updated_statements:
        updated = await client.post(BULK, json=batch, headers=platform(tokens))
    assert (updated.json()["counts"]["updated"], updated.json()["counts"]["unchanged"]) == (500, 500)
    # SELECT keys, SELECT codes, INSERT/UPDATE (batched), INSERT audit, INSERT change feed, savepoints
    assert len(created_statements) <= 20, created_statements
    assert len(updated_statements) <= 20, updated_statements


async def test_the_statements_of_a_batch_do_not_grow_with_its_size(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    """A batch costs the same statements for 10 records as for 1,000: a SELECT of the keys, one of the codes,
    then one INSERT each of the institutions, their name grams, feed entries and audit records, and the
    statistics' summary cells of the counties written counted again (one DELETE, one INSERT … SELECT) —
    never one per record (libs/common/bulk_insert.py)."""
    counted: dict[int, list[str]] = {}
    for size in (10, 1000):
        batch = {"source_system": f"size-{size}", "records": [record(f"S{size}-{i}") for i in range(size)]}
        with counted_statements(registry_app) as statements:
            answer = await client.post(BULK, json=batch, headers=platform(tokens))
        assert answer.json()["counts"]["created"] == size
        counted[size] = [s for s in statements if s not in ("SAVEPOINT", "RELEASE")]
    assert counted[10] == counted[1000], counted
    # institutions, name grams, statistics cells, feed entries, audit records
    assert counted[1000].count("INSERT") == 5
