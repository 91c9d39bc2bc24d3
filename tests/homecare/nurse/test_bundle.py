"""The nurse's day bundle (``GET /nurse/bundle``, issue 18): her assignments of today and tomorrow
(Asia/Shanghai) with the order, the person's whole contact (disclosure audited once), the notes and the
catalog items, in the same number of statements for 1 or 12 assignments; a strong ETag and 304 without
body or audit; self-only (another nurse sees none of it, admins and officials 403); yesterday's, the day
after tomorrow's and other nurses' orders left out, a cancelled one shown as cancelled. The notes' disability
level is the person's latest ability assessment (issue 19), the declared level only for one never assessed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, func, select, update

from libs.common.clock import CHINA_TZ, today_in_china
from libs.common.models import AuditRecord
from services.homecare.orders.models import Order
from tests.homecare.orders.test_disability_assessment import INTACT, MODERATE, Assessor
from tests.homecare.world import HC, World, crew, to_status

BUNDLE = f"{HC}/nurse/bundle"


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


def tomorrow_at(hour: float) -> datetime:
    """``hour`` o'clock tomorrow in Asia/Shanghai."""
    day = datetime.now(CHINA_TZ).date() + timedelta(days=1)
    return datetime.combine(day, time(0), CHINA_TZ) + timedelta(hours=hour)


async def disclosures(app: FastAPI) -> int:
    async with app.state.database.session() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.action == "personal_data.disclose", AuditRecord.entity_type == "recipient")
            )
            or 0
        )


async def test_twelve_assignments_in_one_request_without_n_plus_one(
    world: World, homecare_app: FastAPI
) -> None:
    c = await crew(world)
    nurse = world.staff(c.provider, c.nurse)
    first = await world.order(c.provider, c.recipient["id"], start=tomorrow_at(6), hours=0.75)
    await to_status(world, c, first, "assigned")
    with counting_statements(homecare_app) as one:
        alone = await world.client.get(BUNDLE, headers=nurse)
    assert alone.status_code == 200, alone.text
    assert len(alone.json()["assignments"]) == 1

    others = [await world.recipient(c.provider) for _ in range(3)]
    for n in range(11):
        order = await world.order(
            c.provider, others[n % 3]["id"], start=tomorrow_at(7 + n), hours=0.75, items=["HC01", "HC05"]
        )
        await to_status(world, c, order, "assigned")
    with counting_statements(homecare_app) as twelve:
        full = await world.client.get(BUNDLE, headers=nurse)
    assert full.status_code == 200, full.text
    bundle = full.json()
    assert len(bundle["assignments"]) == 12
    assert len(twelve) == len(one), "\n".join(twelve)
    assert len(one) <= 10, "\n".join(one)  # orders, items, persons, catalog, events cursor, the audit
    assert {i["code"] for i in bundle["catalog_items"]} == {"HC01", "HC05"}
    # the visit form of each item: the current record template version, its base and these items' own
    templates = bundle["record_templates"]
    assert templates["version"] == "tpl-1"
    assert set(templates["items"]) == {"HC01", "HC05"}
    assert {f["key"] for f in templates["items"]["HC01"]["fields"]} >= {"temperature_c", "respiration_rate"}
    assert "medical_order_checked" in {f["key"] for f in templates["items"]["HC05"]["fields"]}
    assert templates["base"]["fields"]

    starts = [a["order"]["window_start"] for a in bundle["assignments"]]
    assert starts == sorted(starts)
    first_item = bundle["assignments"][0]
    assert first_item["order"]["id"] == first["id"]
    assert first_item["order"]["status"] == "assigned"
    assert first_item["order"]["version"] >= 1
    whole = (
        await world.client.get(f"{HC}/recipients/{c.recipient['id']}", headers=world.admin(c.provider))
    ).json()
    assert first_item["person"] == {
        "recipient_id": c.recipient["id"],
        "name": whole["name"],
        "phone": whole["phone"],
        "home_address": whole["address"],
    }
    assert first_item["order"]["address"] == whole["address"]
    assert first_item["notes"]["disability_level"] == 2
    assert first_item["notes"]["disability_label"] == "中度失能"
    assert first_item["notes"]["chronic_diseases"] == ["高血压", "2型糖尿病"]
    assert (
        bundle["to_date"]
        == (datetime.fromisoformat(bundle["from_date"]) + timedelta(days=1)).date().isoformat()
    )


async def test_etag_and_304_without_body_or_a_new_disclosure(world: World, homecare_app: FastAPI) -> None:
    c = await crew(world)
    nurse = world.staff(c.provider, c.nurse)
    order = await world.order(c.provider, c.recipient["id"], start=tomorrow_at(9))
    await to_status(world, c, order, "assigned")
    before = await disclosures(homecare_app)
    first = await world.client.get(BUNDLE, headers=nurse)
    assert first.status_code == 200, first.text
    tag = first.headers["etag"]
    assert tag.startswith('"')  # strong
    assert not tag.startswith("W/")
    assert await disclosures(homecare_app) == before + 1  # one person disclosed, once

    again = await world.client.get(BUNDLE, headers={**nurse, "If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    assert await disclosures(homecare_app) == before + 1

    # a change to her day changes the tag
    moved = await world.act(
        order["id"],
        "reschedule",
        world.admin(c.provider),
        {"window_start": tomorrow_at(14).isoformat(), "window_end": tomorrow_at(15).isoformat()},
    )
    assert moved.status_code == 200, moved.text
    changed = await world.client.get(BUNDLE, headers={**nurse, "If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert changed.json()["assignments"][0]["order"]["version"] == moved.json()["version"]
    assert changed.json()["events_cursor"] != first.json()["events_cursor"]


async def test_only_her_days_and_her_orders_a_cancelled_one_as_cancelled(
    world: World, homecare_app: FastAPI
) -> None:
    c = await crew(world)
    colleague = await world.practitioner(c.provider, item_codes=["HC20"])
    nurse = world.staff(c.provider, c.nurse)
    tomorrow = await world.order(c.provider, c.recipient["id"], start=tomorrow_at(10))
    await to_status(world, c, tomorrow, "assigned")
    cancelled = await world.order(c.provider, c.recipient["id"], start=tomorrow_at(12))
    await to_status(world, c, cancelled, "assigned")
    assert (await world.act(cancelled["id"], "cancel", world.admin(c.provider), {})).status_code == 200
    taken_back = await world.order(c.provider, c.recipient["id"], start=tomorrow_at(14))
    await to_status(world, c, taken_back, "assigned")
    assert (await world.act(taken_back["id"], "unassign", world.admin(c.provider), {})).status_code == 200
    later = await world.order(c.provider, c.recipient["id"], start=tomorrow_at(24 + 10))
    await to_status(world, c, later, "assigned")
    yesterday = await world.order(c.provider, c.recipient["id"], start=tomorrow_at(16))
    await to_status(world, c, yesterday, "assigned")
    # the API refuses past windows: yesterday's visit is made by moving its window in the database
    async with homecare_app.state.database.session() as session:
        await session.execute(
            update(Order)
            .where(Order.id == uuid.UUID(yesterday["id"]))
            .values(window_start=tomorrow_at(-40), window_end=tomorrow_at(-39))
        )
        await session.commit()
    theirs = await world.order(c.provider, c.recipient["id"], start=tomorrow_at(10))
    assert (
        await world.act(
            theirs["id"], "assess", world.staff(c.provider, c.doctor), {"service_group": "chronic"}
        )
    ).status_code == 200
    assert (await world.act(theirs["id"], "accept", world.admin(c.provider), {})).status_code == 200
    assigned = await world.act(
        theirs["id"], "assign", world.admin(c.provider), {"nurse_practitioner_id": str(colleague)}
    )
    assert assigned.status_code == 200, assigned.text

    mine = (await world.client.get(BUNDLE, headers=nurse)).json()
    assert [(a["order"]["id"], a["order"]["status"]) for a in mine["assignments"]] == [
        (tomorrow["id"], "assigned"),
        (cancelled["id"], "cancelled"),
    ]
    three_days = (await world.client.get(BUNDLE, params={"days": 3}, headers=nurse)).json()
    assert later["id"] in [a["order"]["id"] for a in three_days["assignments"]]

    # self-only: her colleague's bundle holds only the colleague's order
    other = await world.client.get(BUNDLE, headers=world.staff(c.provider, colleague))
    assert [a["order"]["id"] for a in other.json()["assignments"]] == [theirs["id"]]


async def test_admins_and_officials_may_not_ask_for_a_bundle(world: World) -> None:
    c = await crew(world)
    for headers in (
        world.admin(c.provider),
        world.county(),
        world.city(),
        world.province(),
        world.platform(),
    ):
        refused = await world.client.get(BUNDLE, headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "permission_denied"
    # a staff token without a practitioner (not a nurse) has no bundle
    nobody = await world.client.get(BUNDLE, headers=world.staff(c.provider))
    assert nobody.status_code == 404
    assert nobody.json()["code"] == "nurse_not_found"


async def test_the_assessed_level_supersedes_the_declared_and_the_never_assessed_is_marked_declared(
    world: World, residents: httpx.AsyncClient
) -> None:
    c = await crew(world)
    nurse = world.staff(c.provider, c.nurse)
    assessor = await Assessor.make(world, residents)
    declared_body = world.recipient_body(disability_level=0, dementia=False)
    assessed = await world.client.post(
        f"{HC}/recipients", json=declared_body, headers=world.admin(c.provider)
    )
    assert assessed.status_code == 201, assessed.text
    never = await world.client.post(
        f"{HC}/recipients", json=world.recipient_body(disability_level=1), headers=world.admin(c.provider)
    )
    assert never.status_code == 201, never.text
    person_id = await assessor.person(declared_body)
    day = today_in_china() - timedelta(days=30)
    await assessor.assess(person_id, INTACT, day - timedelta(days=200))
    latest = await assessor.assess(person_id, MODERATE, day)  # 中度失能, declared 能力完好
    for n, recipient in enumerate((assessed.json(), never.json())):
        order = await world.order(c.provider, recipient["id"], start=tomorrow_at(8 + 2 * n))
        await to_status(world, c, order, "assigned")

    response = await world.client.get(BUNDLE, headers=nurse)
    assert response.status_code == 200, response.text
    notes = {a["person"]["recipient_id"]: a["notes"] for a in response.json()["assignments"]}
    by_assessment = notes[assessed.json()["id"]]
    assert (by_assessment["disability_level"], by_assessment["disability_label"]) == (2, "中度失能")
    assert (by_assessment["disability_source"], by_assessment["disability_source_label"]) == (
        "assessment",
        "能力评估",
    )
    assert by_assessment["assessment"] == {
        "id": latest["id"],
        "assessed_date": day.isoformat(),
        "level": 2,
        "level_label": "中度失能",
        "scale_version": latest["scale_version"],
    }
    declared = notes[never.json()["id"]]
    assert (declared["disability_level"], declared["disability_label"]) == (1, "轻度失能")
    assert (declared["disability_source"], declared["disability_source_label"]) == (
        "declared",
        "登记（未评估）",
    )
    assert declared["assessment"] is None
