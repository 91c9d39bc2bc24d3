"""``POST /orders/history/bulk``: past orders in a final state with their original times, checked by the
rules of the single writes (placing, the nurse of assign, the doctor of assess, the visit record) plus the
date rules of a history; written with their events, visit record, rating, SOS and complaint, audited and in
the change feed with the original times; a replayed batch changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from libs.common.auth import Role
from libs.common.models import AuditRecord
from services.homecare import clock
from tests.feed_readers import read_feed
from tests.homecare.home_beds.test_router import _bed
from tests.homecare.sync.test_bulk import counting_statements
from tests.homecare.world import HC, HULI, Crew, World, crew, id_number

URL = f"{HC}/orders/history/bulk"
SOURCE = "xm-legacy"
#: a past morning (Asia/Shanghai): 2025-03-12 09:00
START = datetime(2025, 3, 12, 9, 0, tzinfo=clock.CHINA_TZ)


def _timeline(start: datetime, *, upto: str = "completed_at") -> dict[str, str]:
    steps = {
        "submitted_at": start - timedelta(hours=20),
        "assessed_at": start - timedelta(hours=19),
        "accepted_at": start - timedelta(hours=18, minutes=50),
        "assigned_at": start - timedelta(hours=18),
        "departed_at": start - timedelta(minutes=30),
        "checked_in_at": start + timedelta(minutes=5),
        "started_at": start + timedelta(minutes=8),
        "checked_out_at": start + timedelta(minutes=70),
        "completed_at": start + timedelta(minutes=75),
    }
    out: dict[str, str] = {}
    for name, at in steps.items():
        out[name] = at.isoformat()
        if name == upto:
            break
    return out


def past_order(c: Crew, external_id: str, **overrides: Any) -> dict[str, Any]:
    """A rated order of ``c``'s provider, done by its eligible nurse, with visit record and rating."""
    start = overrides.pop("start", START)
    body: dict[str, Any] = {
        "external_id": external_id,
        "institution_id": str(c.provider.id),
        "recipient_id": c.recipient["id"],
        "item_codes": ["HC01"],
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=2)).isoformat(),
        "status": "rated",
        "service_group": "chronic",
        "nurse_practitioner_id": str(c.nurse),
        "timeline": _timeline(start),
        "visit_record": {
            "items_done": ["HC01"],
            "vital_signs": {"bp_systolic": 136, "bp_diastolic": 84, "pulse": 74},
            "consumables": [{"name": "一次性换药包", "qty": 1, "unit_price_yuan": 12.5}],
            "notes": "生命体征平稳",
        },
        "rating": {
            "score": 5,
            "comment": "护士很耐心",
            "rated_by": "family",
            "rated_at": (start + timedelta(hours=4)).isoformat(),
        },
    }
    body.update(overrides)
    return body


def cancelled_order(c: Crew, external_id: str, **overrides: Any) -> dict[str, Any]:
    timeline = _timeline(START, upto="accepted_at")
    timeline["cancelled_at"] = (START - timedelta(hours=10)).isoformat()
    return past_order(
        c,
        external_id,
        status="cancelled",
        nurse_practitioner_id=None,
        timeline=timeline,
        cancel_reason="家属改期",
        visit_record=None,
        rating=None,
        **overrides,
    )


async def _import(
    world: World, records: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> httpx.Response:
    return await world.client.post(
        URL, json={"source_system": SOURCE, "records": records}, headers=headers or world.platform()
    )


def _outcomes(response: httpx.Response) -> list[tuple[str, str | None]]:
    assert response.status_code == 200, response.text
    return [(r["outcome"], r["code"]) for r in response.json()["results"]]


async def test_past_orders_are_written_with_their_times_and_a_replay_changes_nothing(world: World) -> None:
    c = await crew(world)
    rated = past_order(
        c,
        "H1",
        sos={
            "raised_at": (START + timedelta(minutes=20)).isoformat(),
            "message": "家属情绪激动",
            "resolved_at": (START + timedelta(minutes=40)).isoformat(),
            "resolution": "机构电话安抚，服务完成",
        },
        complaint={
            "content": "护士比约定晚到二十分钟",
            "filed_at": (START + timedelta(days=1)).isoformat(),
            "resolution": "已致歉并调整排班",
            "resolved_at": (START + timedelta(days=3)).isoformat(),
        },
    )
    records = [rated, cancelled_order(c, "H2")]
    first = await _import(world, records)
    assert _outcomes(first) == [("created", None), ("created", None)]
    ids = [r["id"] for r in first.json()["results"]]

    order = (await world.client.get(f"{HC}/orders/{ids[0]}", headers=world.admin(c.provider))).json()
    assert order["status"] == "rated"
    assert order["nurse_practitioner_id"] == str(c.nurse)
    assert datetime.fromisoformat(order["completed_at"]) == START + timedelta(minutes=75)
    assert datetime.fromisoformat(order["created_at"]) == START - timedelta(hours=20)
    # item price 80 (the provider's) + visit fee 50 + consumables 12.50
    assert order["fees"]["total_yuan"] == "142.50"
    assert order["fees"]["fixed"] is True
    visit = await world.client.get(f"{HC}/orders/{ids[0]}/visit-record", headers=world.admin(c.provider))
    assert visit.status_code == 200, visit.text
    assert visit.json()["items_done"] == ["HC01"]
    cancelled = (await world.client.get(f"{HC}/orders/{ids[1]}", headers=world.admin(c.provider))).json()
    assert cancelled["status"] == "cancelled"

    sos = await world.client.get(f"{HC}/sos?open=false", headers=world.admin(c.provider))
    assert [a["order_id"] for a in sos.json()["items"]] == [ids[0]]
    complaints = await world.client.get(f"{HC}/complaints", headers=world.admin(c.provider))
    assert [(x["order_id"], x["status"]) for x in complaints.json()["items"]] == [(ids[0], "resolved")]

    status, entries = await read_feed(
        world.client, f"{HC}/changes", world.tokens.headers(Role.service, "350000", sub="client:indicators")
    )
    assert status == 200
    mine = [e for e in entries if e["entity_id"] in ids]
    assert {e["entity_id"] for e in mine} == set(ids)
    fed = next(e["data"] for e in mine if e["entity_id"] == ids[0])
    # the payload carries the original times: placed the day before, for the window of that day
    assert datetime.fromisoformat(fed["created_at"]) == START - timedelta(hours=20)
    assert datetime.fromisoformat(fed["window_start"]) == START
    assert fed["status"] == "rated"
    rating = next(
        e["data"] for e in entries if e["entity_type"] == "rating" and e["data"]["order_id"] == ids[0]
    )
    assert datetime.fromisoformat(rating["rated_at"]) == START + timedelta(hours=4)
    visits = [e for e in entries if e["entity_type"] == "visit_record" and e["data"]["order_id"] == ids[0]]
    assert len(visits) == 1

    again = await _import(world, records)
    assert _outcomes(again) == [("unchanged", None), ("unchanged", None)]
    assert [r["id"] for r in again.json()["results"]] == ids
    _, after = await read_feed(
        world.client, f"{HC}/changes", world.tokens.headers(Role.service, "350000", sub="client:indicators")
    )
    assert len(after) == len(entries)

    changed = past_order(c, "H1", rating={**rated["rating"], "score": 3})
    assert _outcomes(await _import(world, [changed])) == [("rejected", "history_already_imported")]


async def test_each_write_is_audited_as_a_history_import(world: World, homecare_app: Any) -> None:
    c = await crew(world)
    response = await _import(world, [past_order(c, "A1")])
    order_id = response.json()["results"][0]["id"]
    async with homecare_app.state.database.session() as session:
        actions = {
            (a.action, a.changes.get("via"))
            for a in await session.scalars(
                select(AuditRecord).where(AuditRecord.actor_sub == "client:platform-350200")
            )
            if a.changes
        }
    assert ("order.create", "history_import") in actions
    assert ("visit_record.create", "history_import") in actions
    assert order_id


@pytest.mark.parametrize(
    ("change", "code"),
    [
        # a time in the future
        (
            lambda c, r: r["timeline"].update(
                completed_at=(datetime.now(UTC) + timedelta(days=1)).isoformat()
            ),
            "history_in_future",
        ),
        # checked in before departing
        (
            lambda c, r: r["timeline"].update(checked_in_at=(START - timedelta(hours=1)).isoformat()),
            "history_out_of_order",
        ),
        # rated before completion
        (
            lambda c, r: r["rating"].update(rated_at=(START + timedelta(minutes=1)).isoformat()),
            "history_out_of_order",
        ),
        # an SOS before the nurse set off
        (
            lambda c, r: r.update(
                sos={
                    "raised_at": (START - timedelta(hours=2)).isoformat(),
                    "resolved_at": START.isoformat(),
                    "resolution": "已处理",
                }
            ),
            "history_out_of_order",
        ),
        # the junior nurse (2 years, 护士) may not visit
        (lambda c, r: r.update(nurse_practitioner_id=str(c.junior_nurse)), "nurse_not_eligible"),
        # a nurse the registry does not know
        (lambda c, r: r.update(nurse_practitioner_id=str(uuid.uuid4())), "nurse_not_eligible"),
        # HC05 needs a 医嘱: a doctor of the provider must have assessed it
        (
            lambda c, r: r.update(item_codes=["HC01", "HC05"]),
            "doctor_assessment_required",
        ),
        # a visit record naming an item not in the order
        (lambda c, r: r["visit_record"].update(items_done=["HC01", "HC20"]), "items_not_in_order"),
        # an item the provider does not offer
        (lambda c, r: r.update(item_codes=["HC02"]), "item_not_offered"),
        # a completed order without its visit record
        (lambda c, r: r.update(visit_record=None), "validation_failed"),
        # not a final state
        (lambda c, r: r.update(status="assigned"), "validation_failed"),
    ],
)
async def test_a_refused_record_names_the_rule_and_writes_nothing(
    world: World, change: Any, code: str
) -> None:
    c = await crew(world)
    record = past_order(c, "R1")
    change(c, record)
    response = await _import(world, [record, past_order(c, "R2", start=START + timedelta(days=1))])
    assert _outcomes(response) == [("rejected", code), ("created", None)]
    assert response.json()["results"][0]["errors"] or code not in (
        "history_in_future",
        "history_out_of_order",
    )
    listed = await world.client.get(f"{HC}/orders", headers=world.admin(c.provider))
    assert len(listed.json()["items"]) == 1


async def test_the_service_group_fits_the_recipient_on_the_day_of_the_assessment(world: World) -> None:
    c = await crew(world)
    # 80 on 2025-06-01: not yet 高龄 when assessed in March 2025, though she is now
    born_1945 = await world.recipient(c.provider, id_number=id_number(birth="19450601"))
    then = past_order(c, "G1", recipient_id=born_1945["id"], service_group="very_old")
    later = past_order(
        c,
        "G2",
        recipient_id=born_1945["id"],
        service_group="very_old",
        start=datetime(2025, 7, 1, 9, 0, tzinfo=clock.CHINA_TZ),
    )
    assert _outcomes(await _import(world, [then, later])) == [
        ("rejected", "service_group_mismatch"),
        ("created", None),
    ]


async def test_a_doctor_of_the_provider_makes_a_medical_order_importable(world: World) -> None:
    c = await crew(world)
    record = past_order(c, "D1", item_codes=["HC01", "HC05"], assessed_by_practitioner_id=str(c.doctor))
    record["visit_record"]["items_done"] = ["HC01", "HC05"]
    nurse_as_doctor = past_order(
        c,
        "D2",
        item_codes=["HC05"],
        assessed_by_practitioner_id=str(c.nurse),
        start=START + timedelta(days=2),
    )
    nurse_as_doctor["visit_record"]["items_done"] = ["HC05"]
    assert _outcomes(await _import(world, [record, nurse_as_doctor])) == [
        ("created", None),
        ("rejected", "doctor_assessment_required"),
    ]


async def test_a_home_bed_must_have_been_open_on_the_day(world: World) -> None:
    c = await crew(world)
    bed = await _bed(world, c, "opened")  # opened today
    before = past_order(c, "B1", home_bed_id=bed["id"])
    now = clock.now()
    today = max(clock.start_of_day(clock.today()), now - timedelta(hours=2))
    timeline = {
        name: (today + timedelta(seconds=5 * k)).isoformat()
        for k, name in enumerate(
            [
                "submitted_at",
                "assessed_at",
                "accepted_at",
                "assigned_at",
                "departed_at",
                "checked_in_at",
                "started_at",
                "checked_out_at",
                "completed_at",
            ]
        )
    }
    on_the_day = past_order(
        c,
        "B2",
        start=today,
        home_bed_id=bed["id"],
        status="completed",
        rating=None,
        timeline=timeline,
    )
    elsewhere = past_order(c, "B3", home_bed_id=str(uuid.uuid4()))
    assert _outcomes(await _import(world, [before, on_the_day, elsewhere])) == [
        ("rejected", "home_bed_not_open"),
        ("created", None),
        ("rejected", "order_invalid"),
    ]


async def test_who_may_import(world: World) -> None:
    c = await crew(world)
    # an institution's own users and the officials below the province may not import
    for headers in (world.admin(c.provider), world.county(HULI), world.city()):
        response = await _import(world, [past_order(c, "S1")], headers)
        assert response.status_code == 403, response.text
    # another city's platform: the record is rejected as out of its scope (the recipient is not visible)
    fuzhou = await _import(world, [past_order(c, "S1")], world.platform("350100"))
    assert _outcomes(fuzhou) == [("rejected", "recipient_not_found")]
    # Xiamen's own platform, for a service address in Fuzhou: outside its city
    away = past_order(c, "S2", address="福建省福州市仓山区上渡街道 1 号", region_code="350104")
    assert _outcomes(await _import(world, [away])) == [("rejected", "out_of_scope")]
    # the province may
    province = await _import(world, [past_order(c, "S1")], world.province())
    assert _outcomes(province) == [("created", None)]


async def test_a_batch_over_the_limit_is_refused_whole(world: World, homecare_app: Any) -> None:
    c = await crew(world)
    limit = homecare_app.state.settings.bulk_max_records
    response = await _import(world, [past_order(c, f"L{i}") for i in range(limit + 1)])
    assert response.status_code == 422
    assert response.json()["code"] == "batch_too_large"


async def test_a_batch_costs_a_handful_of_statements_whatever_its_size(
    world: World, homecare_app: Any
) -> None:
    """Load, check, then bulk statements: the look-ups are one per kind for the whole batch (no query per
    record), the writes one per table."""
    c = await crew(world)
    counts = []
    for size, prefix in ((1, "N"), (60, "M")):
        records = [past_order(c, f"{prefix}{i}", start=START + timedelta(days=i)) for i in range(size)]
        with counting_statements(homecare_app) as statements:
            response = await _import(world, records)
        assert _outcomes(response) == [("created", None)] * size
        counts.append(len(statements))
    assert counts[1] == counts[0], counts
    assert counts[0] <= 20, counts  # 15 on SQLite, 16 on PostgreSQL (2026-11-30)


async def test_a_visit_record_id_is_used_once(world: World) -> None:
    c = await crew(world)
    shared = str(uuid.uuid4())
    first = past_order(c, "V1")
    first["visit_record"]["record_id"] = shared
    second = past_order(c, "V2", start=START + timedelta(days=1))
    second["visit_record"]["record_id"] = shared
    assert _outcomes(await _import(world, [first, second])) == [
        ("created", None),
        ("rejected", "duplicate_in_batch"),
    ]
    # a later batch naming the stored record's id for another order
    assert _outcomes(await _import(world, [second])) == [("rejected", "visit_record_id_taken")]
