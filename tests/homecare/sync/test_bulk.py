from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event

from tests.homecare.world import HC, HOME, SIMING, World, crew, id_number, phone

SOURCE = "xm-ijiankang"


def _recipient(external_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": external_id,
        "name": "林阿公",
        "id_number": id_number(),
        "phone": phone(),
        "address": "福建省厦门市湖里区禾山街道 9 号",
        "region_code": "350206",
        "latitude": HOME[0],
        "longitude": HOME[1],
        "disability_level": 1,
        "consent": {"given_at": "2026-10-01T00:00:00Z", "method": "electronic", "signed_by": "family"},
    }
    body.update(overrides)
    return body


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


async def _bulk(
    world: World, kind: str, records: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> Any:
    return await world.client.post(
        f"{HC}/{kind}/bulk",
        json={"source_system": SOURCE, "records": records},
        headers=headers or world.platform(),
    )


async def test_recipients_bulk_gives_each_record_its_outcome_and_a_replay_changes_nothing(
    world: World,
) -> None:
    records = [
        _recipient("R1"),
        _recipient("R2", region_code=SIMING, address="福建省厦门市思明区中山路 1 号"),
        _recipient("R3", region_code="350104", address="福建省福州市仓山区 1 号"),
        _recipient("R4", id_number="350206194001010000"),
        _recipient("R1"),
    ]
    first = await _bulk(world, "recipients", records)
    assert first.status_code == 200, first.text
    body = first.json()
    assert [r["outcome"] for r in body["results"]] == [
        "created",
        "created",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert [r["code"] for r in body["results"][2:]] == [
        "out_of_scope",
        "validation_failed",
        "duplicate_in_batch",
    ]
    assert body["results"][3]["errors"][0]["field"] == "records.3.id_number"
    assert body["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 3}
    for secret in (records[0]["id_number"], records[0]["phone"], records[3]["id_number"]):
        assert secret not in first.text

    replay = await _bulk(world, "recipients", records)
    assert replay.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 3}
    assert [r["id"] for r in replay.json()["results"][:2]] == [r["id"] for r in body["results"][:2]]

    changed = [{**records[0], "disability_level": 3}, records[1]]
    again = await _bulk(world, "recipients", changed)
    assert [r["outcome"] for r in again.json()["results"]] == ["updated", "unchanged"]
    listed = await world.client.get(f"{HC}/recipients", headers=world.platform())
    ours = [r for r in listed.json()["items"] if r["source_system"] == SOURCE]
    assert len(ours) == 2
    assert {r["external_id"]: r["disability_level"] for r in ours} == {"R1": 3, "R2": 1}
    assert {r["version"] for r in ours if r["external_id"] == "R1"} == {2}


async def test_only_city_platforms_bulk_upsert(world: World) -> None:
    c = await crew(world)
    for headers in (world.admin(c.provider), world.city()):
        response = await _bulk(world, "recipients", [_recipient("X")], headers)
        assert response.status_code == 403


async def test_the_province_loads_recipients_anywhere_in_the_province(world: World) -> None:
    """Issue 14: the province loads the recipients of past orders (the historical import) through the
    platforms' bulk path, anywhere in Fujian; a city admin still may not."""
    response = await _bulk(
        world,
        "recipients",
        [_recipient("P1"), _recipient("P2", region_code="350104", address="福建省福州市仓山区 1 号")],
        world.province(),
    )
    assert response.status_code == 200, response.text
    assert [r["outcome"] for r in response.json()["results"]] == ["created", "created"]


async def test_a_thousand_recipients_take_a_handful_of_statements(
    world: World, homecare_app: FastAPI
) -> None:
    records = [_recipient(f"K{i:04d}") for i in range(1000)]
    with counting_statements(homecare_app) as statements:
        response = await _bulk(world, "recipients", records)
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["created"] == 1000
    writes = [
        s for s in statements if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))
    ]
    assert len(writes) <= 12, writes
    with counting_statements(homecare_app) as statements:
        replay = await _bulk(world, "recipients", records)
    assert replay.json()["counts"]["unchanged"] == 1000
    assert len(statements) <= 8


async def test_orders_bulk_places_updates_and_rejects_per_record(world: World) -> None:
    c = await crew(world)
    await _bulk(world, "recipients", [_recipient("P1", institution_id=str(c.provider.id))])
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    base = {
        "institution_id": str(c.provider.id),
        "recipient_external_id": "P1",
        "item_codes": ["HC01"],
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=2)).isoformat(),
    }
    records = [
        {**base, "external_id": "O1"},
        {**base, "external_id": "O2", "item_codes": ["HC01", "HC05"]},
        {**base, "external_id": "O3", "item_codes": ["HC02"]},
        {**base, "external_id": "O4", "recipient_external_id": "nobody"},
        {**base, "external_id": "O5", "region_code": "350104", "address": "福州市仓山区某路 1 号"},
    ]
    first = await _bulk(world, "orders", records)
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "created", "rejected", "rejected", "rejected"]
    assert [r["code"] for r in results[2:]] == ["item_not_offered", "recipient_not_found", "out_of_scope"]
    order = (await world.client.get(f"{HC}/orders/{results[1]['id']}", headers=world.platform())).json()
    assert order["status"] == "submitted"
    assert order["fees"]["items_total_yuan"] == "140.00"
    assert order["requires_doctor"] is True

    replay = await _bulk(world, "orders", records)
    assert replay.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 3}

    moved = {
        **records[0],
        "window_start": (start + timedelta(hours=3)).isoformat(),
        "window_end": (start + timedelta(hours=4)).isoformat(),
        "item_codes": ["HC01", "HC05"],
    }
    updated = await _bulk(world, "orders", [moved])
    assert updated.json()["results"][0]["outcome"] == "updated"
    after = (await world.client.get(f"{HC}/orders/{results[0]['id']}", headers=world.platform())).json()
    assert [i["item_code"] for i in after["items"]] == ["HC01", "HC05"]
    assert after["version"] == 2

    # once the provider has started on it, the platform may no longer change it
    assess = await world.act(
        results[0]["id"],
        "assess",
        world.staff(c.provider, c.doctor),
        {"service_group": "frail_disabled_demented"},
    )
    assert assess.status_code == 200, assess.text
    late = await _bulk(world, "orders", [{**moved, "note": "改时间"}])
    assert late.json()["results"][0]["code"] == "order_already_processed"


async def test_the_change_feed_carries_bulk_writes_without_personal_data(world: World) -> None:
    record = _recipient("F1")
    await _bulk(world, "recipients", [record])
    feed = await world.client.get(f"{HC}/changes", headers=world.platform())
    assert feed.status_code == 200, feed.text
    entries = [
        e
        for e in feed.json()["items"]
        if e["entity_type"] == "recipient" and e["data"]["external_id"] == "F1"
    ]
    assert len(entries) == 1
    data = entries[0]["data"]
    assert "name_enc" not in data
    assert "latitude" not in data
    assert record["id_number"] not in feed.text
    assert record["phone"] not in feed.text
