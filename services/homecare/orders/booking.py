"""No double-booking of a nurse: overlapping wanted windows of one nurse cannot both be assigned.

The check and the insert run under a per-nurse lock: on PostgreSQL a ``nurse_lock`` row held with
``SELECT … FOR UPDATE`` until the transaction ends; on SQLite every writing transaction already runs
under ``BEGIN IMMEDIATE`` (one writer at a time), so the check cannot race either.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.homecare.orders.errors import NurseDoubleBooked
from services.homecare.orders.models import NurseBooking, NurseLock, Order


async def _lock_nurse(session: AsyncSession, practitioner_id: uuid.UUID) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            postgresql.insert(NurseLock).values(practitioner_id=practitioner_id).on_conflict_do_nothing()
        )
        await session.execute(
            select(NurseLock.practitioner_id)
            .where(NurseLock.practitioner_id == practitioner_id)
            .with_for_update()
        )
    else:
        await session.execute(
            sqlite.insert(NurseLock).values(practitioner_id=practitioner_id).on_conflict_do_nothing()
        )


async def book(session: AsyncSession, order: Order, practitioner_id: uuid.UUID) -> None:
    await _lock_nurse(session, practitioner_id)
    conflicting = await session.scalar(
        select(NurseBooking.order_id)
        .where(
            NurseBooking.practitioner_id == practitioner_id,
            NurseBooking.start_at < order.window_end,
            NurseBooking.end_at > order.window_start,
            NurseBooking.order_id != order.id,
        )
        .limit(1)
    )
    if conflicting is not None:
        raise NurseDoubleBooked(conflicting)
    session.add(
        NurseBooking(
            order_id=order.id,
            practitioner_id=practitioner_id,
            start_at=order.window_start,
            end_at=order.window_end,
        )
    )
    await session.flush()


async def release(session: AsyncSession, order: Order) -> None:
    await session.execute(delete(NurseBooking).where(NurseBooking.order_id == order.id))
