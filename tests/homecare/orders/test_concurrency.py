"""Double-booking under concurrency: two admins assign one nurse to overlapping orders at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.homecare.world import World, crew, to_status


async def test_concurrent_overlapping_assignments_book_the_nurse_once(live_world: World) -> None:
    c = await crew(live_world)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=20)
    orders = [
        await live_world.order(c.provider, c.recipient["id"], start=start + timedelta(minutes=30 * i))
        for i in range(3)
    ]
    for order in orders:
        await to_status(live_world, c, order, "accepted")
    body = {"nurse_practitioner_id": str(c.nurse)}
    responses = await asyncio.gather(
        *(
            live_world.act(o["id"], "assign", live_world.admin(c.provider), body, if_match='"3"')
            for o in orders
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409, 409], [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"nurse_double_booked"}


@pytest.mark.postgres_only
async def test_concurrent_assignments_of_a_nurse_who_already_has_a_booking_book_her_once(
    live_world: World,
) -> None:
    """The race on state that already exists: the nurse holds a booking (so her lock row exists and
    the insert of it no longer serialises anyone); three overlapping orders assigned to her at once
    must still give her exactly one of them (a nurse never holds two overlapping bookings)."""
    c = await crew(live_world)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    earlier = await live_world.order(c.provider, c.recipient["id"], start=start - timedelta(days=1))
    await to_status(live_world, c, earlier, "assigned")
    orders = [
        await live_world.order(c.provider, c.recipient["id"], start=start + timedelta(minutes=30 * i))
        for i in range(3)
    ]
    for order in orders:
        await to_status(live_world, c, order, "accepted")
    body = {"nurse_practitioner_id": str(c.nurse)}
    responses = await asyncio.gather(
        *(
            live_world.act(o["id"], "assign", live_world.admin(c.provider), body, if_match='"3"')
            for o in orders
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409, 409], [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"nurse_double_booked"}
