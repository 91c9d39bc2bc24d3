"""The order list, row path against the model path it replaced (issue 16; measured, not asserted).

Run: ``TEST_DATABASE=sqlite|postgresql .venv/bin/python -m pytest -q -s -p no:cacheprovider
tests/homecare/orders/bench_order_list.py`` — 60 orders of three items each (clones of a placed one, in
the test's rolled-back transaction; 4 recipients linked to the person index), ``GET /orders?limit=50``
as the county admin; the old path (ORM objects with ``selectinload`` of items, recipients and ratings →
``list_reference.to_summary`` → ``Page[OrderSummary]`` as ``response_model``) is mounted on the same app as
``/bench/old-orders``, the bytes compared first. Both call the person index once a page (the
residents app, in this process: its work is counted too); a second table leaves it out.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from sqlalchemy import insert, select

from libs.common.database import SessionDep
from libs.common.pagination import Page, PageDep
from services.homecare.deps import CipherDep
from services.homecare.orders import service
from services.homecare.orders.models import Order, OrderItem
from services.homecare.orders.schemas import OrderSummary
from services.homecare.permissions import OrdersRead
from tests.bench_lists import measure, report
from tests.homecare.orders import list_reference
from tests.homecare.world import HC, HULI, World, crew

OLD = "/bench/old-orders"
ORDERS = f"{HC}/orders"


async def _old_list(
    request: Request, session: SessionDep, principal: OrdersRead, cipher: CipherDep, page: PageDep
) -> Page[OrderSummary]:
    """The endpoint as it was (no filters given: the same code path)."""
    rows, next_cursor = await list_reference.list_(session, principal, params=page)
    names = await service.recipient_names(
        request.app.state.person_index, cipher, rows, principal=principal, purpose="GET orders"
    )
    return Page(
        items=[list_reference.to_summary(o, names.get(o.recipient_id)) for o in rows],
        next_cursor=next_cursor,
        limit=page.limit,
    )


async def test_bench_order_list(world: World, homecare_app: FastAPI) -> None:
    c = await crew(world)
    recipients = [c.recipient["id"], *[(await world.recipient(c.provider))["id"] for _ in range(3)]]
    placed = [await world.order(c.provider, r, items=["HC20", "HC01", "HC05"]) for r in recipients]
    orders, items = Order.__table__, OrderItem.__table__
    async with homecare_app.state.database.session() as session:
        now = datetime.now(UTC)
        for n in range(56):
            source = uuid.UUID(placed[n % len(placed)]["id"])
            row = dict((await session.execute(select(orders).where(orders.c.id == source))).one()._mapping)
            clone = uuid.uuid4()
            await session.execute(insert(Order), [{**row, "id": clone, "created_at": now, "updated_at": now}])
            lines = (await session.execute(select(items).where(items.c.order_id == source))).all()
            await session.execute(
                insert(OrderItem),
                [{**line._mapping, "id": uuid.uuid4(), "order_id": clone} for line in lines],
            )
        await session.commit()
    if not any(getattr(route, "path", None) == OLD for route in homecare_app.router.routes):
        homecare_app.add_api_route(OLD, _old_list, response_model=Page[OrderSummary])
    headers = world.county(HULI)
    params = {"limit": 50}
    new = await world.client.get(ORDERS, params=params, headers=headers)
    old = await world.client.get(OLD, params=params, headers=headers)
    assert new.content == old.content
    assert len(new.json()["items"]) == 50
    figures = await measure(world.client, [OLD, ORDERS, "/healthz"], params, headers)
    print(report("GET /orders?limit=50 (county admin)", figures))
    # homecare's own work: the person index (the residents app, in this process) left out of both
    held = homecare_app.state.person_index
    homecare_app.state.person_index = None
    try:
        figures = await measure(world.client, [OLD, ORDERS], params, headers)
    finally:
        homecare_app.state.person_index = held
    print(report("the same without the person index call (names empty on both paths)", figures))
