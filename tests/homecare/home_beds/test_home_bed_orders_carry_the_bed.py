"""建床对象满意率 (``domain/indicators.md`` ``home_bed_satisfaction``: satisfied ratings / all ratings of
closed home beds) needs to know which ratings belong to a home bed. A home bed is not rated itself: the
services done for it are orders linked to it (``home_bed_id``), each rated on its own. So the order's list
row and its change-feed entry carry ``home_bed_id``, and a rating (keyed by ``order_id``) reaches its bed
through the order."""

from __future__ import annotations

from libs.common.auth import Role
from tests.feed_readers import read_feed
from tests.homecare.home_beds.test_router import _bed
from tests.homecare.world import HC, World, crew


async def test_an_order_for_a_home_bed_carries_the_bed_in_its_list_row_and_its_feed_entry(
    world: World,
) -> None:
    c = await crew(world)
    bed = await _bed(world, c, "opened")
    for_bed = await world.order(c.provider, c.recipient["id"], home_bed_id=bed["id"])
    other = await world.order(c.provider, c.recipient["id"])

    listed = await world.client.get(f"{HC}/orders", headers=world.admin(c.provider))
    rows = {row["id"]: row for row in listed.json()["items"]}
    assert rows[for_bed["id"]]["home_bed_id"] == bed["id"]
    assert rows[other["id"]]["home_bed_id"] is None

    status, entries = await read_feed(
        world.client,
        f"{HC}/changes",
        world.tokens.headers(Role.service, "350000", sub="client:indicators"),
        entity_types="order",
    )
    assert status == 200
    carried = {e["entity_id"]: e["data"]["home_bed_id"] for e in entries if e["op"] == "upsert"}
    assert carried[for_bed["id"]] == bed["id"]
    assert carried[other["id"]] is None
