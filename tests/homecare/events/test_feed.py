"""The order events feed (``GET /events/feed``, issue 18): who sees which event (a nurse her own, the
provider's dispatcher every event of the institution, another nurse or institution nothing), the events
of each step (assign, unassign, reschedule, cancel, complete, SOS raised and acknowledged), paging by
cursor without repeats, and the payloads' allow-list (no personal data). The reschedule step itself:
before the nurse sets off, the nurse's slot rule as in assign."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.homecare.world import HC, Crew, World, crew, located, soon, submit_record, to_status

FEED = f"{HC}/events/feed"


async def feed(
    world: World, headers: dict[str, str], after: str | None = None, limit: int = 100
) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit}
    if after is not None:
        params["after"] = after
    response = await world.client.get(FEED, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def kinds(page: dict[str, Any], order_id: str | None = None) -> list[str]:
    return [i["type"] for i in page["items"] if order_id is None or i["order_id"] == order_id]


async def assigned_order(world: World, c: Crew, *, start: datetime | None = None) -> dict[str, Any]:
    order = await world.order(c.provider, c.recipient["id"], start=start)
    await to_status(world, c, order, "assigned")
    return order


async def test_a_nurse_sees_her_assignment_and_its_cancellation_and_nobody_else_does(world: World) -> None:
    c = await crew(world)
    other_nurse = await world.practitioner(c.provider)
    elsewhere = await crew(world)
    order = await assigned_order(world, c)
    cancelled = await world.act(order["id"], "cancel", world.admin(c.provider), {"reason": "家属取消"})
    assert cancelled.status_code == 200, cancelled.text

    mine = await feed(world, world.staff(c.provider, c.nurse))
    assert kinds(mine) == ["assigned", "cancelled"]
    assigned, cancel = mine["items"]
    assert assigned["order_id"] == order["id"]
    assert assigned["payload"]["nurse_practitioner_id"] == str(c.nurse)
    assert assigned["payload"]["order_status"] == "assigned"
    assert cancel["payload"]["previous_status"] == "assigned"
    assert cancel["payload"]["order_status"] == "cancelled"
    assert mine["next_cursor"] == cancel["cursor"]
    assert mine["has_more"] is False

    # the dispatcher (the provider's admin) sees the institution's events; others nothing
    assert kinds(await feed(world, world.admin(c.provider))) == ["assigned", "cancelled"]
    assert kinds(await feed(world, world.staff(c.provider, other_nurse))) == []
    assert kinds(await feed(world, world.staff(elsewhere.provider, elsewhere.nurse))) == []
    assert kinds(await feed(world, world.admin(elsewhere.provider))) == []
    # a staff token of the provider without a practitioner id follows nobody's events
    assert kinds(await feed(world, world.staff(c.provider))) == []


async def test_officials_and_city_platforms_may_not_follow_order_events(world: World) -> None:
    for headers in (world.province(), world.city(), world.county(), world.platform()):
        refused = await world.client.get(FEED, headers=headers)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "permission_denied"


async def test_unassign_tells_the_nurse_and_frees_her_slot(world: World) -> None:
    c = await crew(world)
    order = await assigned_order(world, c)
    taken_back = await world.act(order["id"], "unassign", world.admin(c.provider), {"reason": "护士临时请假"})
    assert taken_back.status_code == 200, taken_back.text
    assert taken_back.json()["status"] == "accepted"
    assert taken_back.json()["nurse_practitioner_id"] is None
    # only the dispatcher may take it back
    again = await assigned_order(world, c, start=soon(30))
    refused = await world.act(again["id"], "unassign", world.staff(c.provider, c.nurse), {})
    assert refused.status_code == 403, refused.text

    page = await feed(world, world.staff(c.provider, c.nurse))
    first = [i for i in page["items"] if i["order_id"] == order["id"]]
    assert [i["type"] for i in first] == ["assigned", "unassigned"]
    assert first[1]["payload"] == {
        "nurse_practitioner_id": str(c.nurse),
        "order_status": "accepted",
        "order_version": taken_back.json()["version"],
    }
    # her slot is free again: the same nurse can be given an order at the same time
    same_slot = await world.order(
        c.provider, c.recipient["id"], start=datetime.fromisoformat(order["window_start"])
    )
    await to_status(world, c, same_slot, "assigned")


async def test_reschedule_before_departure_moves_the_slot_and_tells_the_nurse(world: World) -> None:
    c = await crew(world)
    order = await assigned_order(world, c)
    new_start = soon(26)
    moved = await world.act(
        order["id"],
        "reschedule",
        world.admin(c.provider),
        {"window_start": new_start.isoformat(), "window_end": (new_start + timedelta(hours=2)).isoformat()},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "assigned"
    assert datetime.fromisoformat(moved.json()["window_start"]) == new_start

    page = await feed(world, world.staff(c.provider, c.nurse))
    assert kinds(page) == ["assigned", "rescheduled"]
    payload = page["items"][1]["payload"]
    assert datetime.fromisoformat(payload["window_start"]) == new_start
    assert datetime.fromisoformat(payload["previous_window_start"]) == datetime.fromisoformat(
        order["window_start"]
    )
    assert payload["nurse_practitioner_id"] == str(c.nurse)

    # the old slot is free, the new one is hers: an order in the new slot cannot be assigned to her
    clash = await world.order(c.provider, c.recipient["id"], start=new_start + timedelta(minutes=30))
    await to_status(world, c, clash, "accepted")
    double = await world.act(
        clash["id"], "assign", world.admin(c.provider), {"nurse_practitioner_id": str(c.nurse)}
    )
    assert double.status_code == 409, double.text
    assert double.json()["code"] == "nurse_double_booked"


async def test_reschedule_onto_another_booking_of_the_nurse_is_refused(world: World) -> None:
    c = await crew(world)
    first = await assigned_order(world, c, start=soon(5))
    second = await assigned_order(world, c, start=soon(9))
    onto_first = await world.act(
        second["id"],
        "reschedule",
        world.admin(c.provider),
        {"window_start": first["window_start"], "window_end": first["window_end"]},
    )
    assert onto_first.status_code == 409, onto_first.text
    assert onto_first.json()["code"] == "nurse_double_booked"
    assert kinds(await feed(world, world.admin(c.provider))) == ["assigned", "assigned"]


async def test_reschedule_is_refused_once_the_nurse_set_off_or_into_the_past(world: World) -> None:
    c = await crew(world)
    order = await assigned_order(world, c)
    past = datetime.now(UTC) - timedelta(hours=3)
    into_the_past = await world.act(
        order["id"],
        "reschedule",
        world.admin(c.provider),
        {"window_start": past.isoformat(), "window_end": (past + timedelta(hours=1)).isoformat()},
    )
    assert into_the_past.status_code == 422, into_the_past.text
    assert into_the_past.json()["code"] == "order_invalid"
    too_long = await world.act(
        order["id"],
        "reschedule",
        world.admin(c.provider),
        {"window_start": soon(3).isoformat(), "window_end": soon(20).isoformat()},
    )
    assert too_long.status_code == 422, too_long.text
    by_nurse = await world.act(
        order["id"],
        "reschedule",
        world.staff(c.provider, c.nurse),
        {"window_start": soon(3).isoformat(), "window_end": soon(4).isoformat()},
    )
    assert by_nurse.status_code == 403, by_nurse.text
    departed = await world.act(order["id"], "depart", world.staff(c.provider, c.nurse), {})
    assert departed.status_code == 200, departed.text
    late = await world.act(
        order["id"],
        "reschedule",
        world.admin(c.provider),
        {"window_start": soon(3).isoformat(), "window_end": soon(4).isoformat()},
    )
    assert late.status_code == 409, late.text
    assert late.json()["code"] == "illegal_transition"
    assert "reschedule" not in late.json()["extra"]["allowed"]


async def test_sos_raised_and_acknowledged_and_completion_reach_the_nurse(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "in_service")
    raised = await world.client.post(
        f"{HC}/orders/{order['id']}/sos",
        json={"client_event_id": str(uuid.uuid4()), "client_at": datetime.now(UTC).isoformat()},
        headers=world.staff(c.provider, c.nurse),
    )
    assert raised.status_code == 201, raised.text
    alert = raised.json()
    resolved = await world.client.post(
        f"{HC}/sos/{alert['id']}/resolve",
        json={"resolution": "机构已电话联系家属"},
        headers={**world.admin(c.provider), "If-Match": f'"{alert["version"]}"'},
    )
    assert resolved.status_code == 200, resolved.text
    nurse = world.staff(c.provider, c.nurse)
    assert (await world.act(order["id"], "check-out", nurse, located())).status_code == 200
    await submit_record(world, c, order)
    assert (await world.act(order["id"], "complete", nurse, {})).status_code == 200

    page = await feed(world, world.staff(c.provider, c.nurse))
    assert kinds(page) == ["assigned", "sos_raised", "sos_acknowledged", "completed"]
    ack = page["items"][2]["payload"]
    assert ack["sos_id"] == alert["id"]
    assert ack["resolved_at"] is not None
    assert kinds(await feed(world, world.admin(c.provider))) == kinds(page)


async def test_pages_continue_after_the_cursor_without_repeats(world: World) -> None:
    c = await crew(world)
    orders = [await assigned_order(world, c, start=soon(3 + 3 * n)) for n in range(3)]
    for order in orders:
        cancelled = await world.act(order["id"], "cancel", world.admin(c.provider), {})
        assert cancelled.status_code == 200, cancelled.text
    headers = world.staff(c.provider, c.nurse)
    seen: list[str] = []
    after = None
    while True:
        page = await feed(world, headers, after=after, limit=2)
        seen += [i["cursor"] for i in page["items"]]
        after = page["next_cursor"]
        if not page["has_more"]:
            break
    assert len(seen) == len(set(seen)) == 6
    everything = await feed(world, headers)
    assert seen == [i["cursor"] for i in everything["items"]]
    # nothing new: the cursor stays
    assert (await feed(world, headers, after=after))["items"] == []
    assert (await feed(world, headers, after=after))["next_cursor"] == after


async def test_no_personal_data_in_any_event(world: World) -> None:
    c = await crew(world)
    order = await assigned_order(world, c)
    await world.act(order["id"], "cancel", world.admin(c.provider), {"reason": "陈阿婆住院"})
    text = json.dumps(await feed(world, world.admin(c.provider)), ensure_ascii=False)
    recipient = await world.client.get(
        f"{HC}/recipients/{c.recipient['id']}", headers=world.admin(c.provider)
    )
    whole = recipient.json()
    for value in (whole["name"], whole["phone"], whole["address"], "住院"):
        assert value not in text


async def test_a_forged_cursor_is_refused(world: World) -> None:
    c = await crew(world)
    for cursor in ("nope", "c2VxOi0x", "c2VxOjE_MA"):
        response = await world.client.get(
            FEED, params={"after": cursor}, headers=world.staff(c.provider, c.nurse)
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "invalid_cursor"


async def test_the_feed_is_read_on_its_indexes(world: World, client: httpx.AsyncClient) -> None:
    """A nurse's feed and an institution's feed each filter on an indexed column pair (seq last)."""
    from services.homecare.events.models import OrderNotice

    indexes = {tuple(c.name for c in ix.columns) for ix in OrderNotice.__table__.indexes}  # type: ignore[attr-defined]
    assert ("practitioner_id", "seq") in indexes
    assert ("institution_id", "seq") in indexes
