"""The order list's reference path (tests only): the page as the list endpoint made it before it read rows
(issue 16) — ORM objects with their items, recipients and ratings (``selectinload``), each turned into
``OrderSummary`` (the recipient's name masked). ``test_list_rows.py`` holds the row path
(services/homecare/orders/listing.py) to its bytes, and ``bench_order_list.py`` measures against it; no
route calls it, so it lives here and not in the service. The conditions are the service's own
(``service.list_conditions``, which the row path uses too)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from libs.common.auth import Principal
from libs.common.pagination import PageParams, paginate
from libs.common.personal_data import mask_name
from services.homecare.orders import service
from services.homecare.orders.models import Order, OrderStatus
from services.homecare.orders.schemas import OrderSummary


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    status: OrderStatus | None = None,
    flagged: bool | None = None,
    institution_id: uuid.UUID | None = None,
    region_code: str | None = None,
    recipient_id: uuid.UUID | None = None,
    home_bed_id: uuid.UUID | None = None,
) -> tuple[list[Order], str | None]:
    """The list's page as ORM objects with their relations."""
    conditions = service.list_conditions(
        principal,
        status=status,
        flagged=flagged,
        institution_id=institution_id,
        region_code=region_code,
        recipient_id=recipient_id,
        home_bed_id=home_bed_id,
    )
    stmt = (
        select(Order)
        .where(*conditions)
        .options(selectinload(Order.items), selectinload(Order.recipient), selectinload(Order.rating))
    )
    return await paginate(session, stmt, order_by=[Order.id], params=params)


def to_summary(order: Order, name: str | None) -> OrderSummary:
    """An order of the page as the list shows it (``name``: the recipient's, from
    ``service.recipient_names``; masked here)."""
    return OrderSummary(
        id=order.id,
        institution_id=order.institution_id,
        provider_name=order.provider_name,
        region_code=order.region_code,
        recipient_id=order.recipient_id,
        recipient_name=mask_name(name) if name is not None else None,
        status=order.status,
        window_start=order.window_start,
        window_end=order.window_end,
        item_codes=[i.item_code for i in order.items],
        nurse_practitioner_id=order.nurse_practitioner_id,
        home_bed_id=order.home_bed_id,
        flagged=order.flagged,
        flag_reasons=list(order.flag_reasons or []),
        total_yuan=service.order_fees(order).total_yuan,
        version=order.version,
        created_at=order.created_at,
    )
