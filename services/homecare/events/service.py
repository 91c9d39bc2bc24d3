"""Order events: written beside the order's event log and its SOS alerts (:func:`emit`, numbered in
commit order), read by the followers in their scope (:func:`list_after`).

Who follows what (enforced here, on every read):

- a nurse (``institution_staff`` with a ``practitioner_id``): the events addressed to them — their
  assignments, un-assignments, reschedules, cancellations and completions of their orders, and the
  acknowledgement of their SOS alerts — within their institution;
- the provider's dispatcher (``institution_admin``, who assigns): every event of their institution;
- anyone else: nothing (the routes' permission already refuses officials and city platforms).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import ColumnElement, Table, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, Role
from libs.common.change_feed import encode_seq_cursor
from libs.common.changes import queue_in_commit_order
from services.homecare.events.models import EventType, OrderNotice
from services.homecare.events.schemas import (
    AssignedPayload,
    CancelledPayload,
    CompletedPayload,
    EventFeedPage,
    OrderEventItem,
    RescheduledPayload,
    SosPayload,
    UnassignedPayload,
)
from services.homecare.orders.models import Order, OrderEvent
from services.homecare.orders.sos.models import SosAlert

_TABLE: Table = OrderNotice.__table__  # type: ignore[assignment]
_ITEM: TypeAdapter[Any] = TypeAdapter(OrderEventItem)

PAYLOADS: dict[EventType, type[BaseModel]] = {
    EventType.assigned: AssignedPayload,
    EventType.unassigned: UnassignedPayload,
    EventType.rescheduled: RescheduledPayload,
    EventType.cancelled: CancelledPayload,
    EventType.completed: CompletedPayload,
    EventType.sos_raised: SosPayload,
    EventType.sos_acknowledged: SosPayload,
}
#: the order_event actions that are events of the feed
ACTION_EVENTS: dict[str, EventType] = {
    "assign": EventType.assigned,
    "unassign": EventType.unassigned,
    "reschedule": EventType.rescheduled,
    "cancel": EventType.cancelled,
    "complete": EventType.completed,
}


def _queue(
    session: AsyncSession,
    event_type: EventType,
    *,
    order: Order,
    practitioner_id: uuid.UUID | None,
    occurred_at: datetime,
    payload: dict[str, Any],
    order_event_id: uuid.UUID | None = None,
    sos_alert_id: uuid.UUID | None = None,
) -> None:
    checked = PAYLOADS[event_type].model_validate(payload).model_dump(mode="json")
    queue_in_commit_order(
        session,
        _TABLE,
        {
            "event_type": event_type.value,
            "order_id": order.id,
            "institution_id": order.institution_id,
            "region_code": order.region_code,
            "practitioner_id": practitioner_id,
            "occurred_at": occurred_at,
            "order_event_id": order_event_id,
            "sos_alert_id": sos_alert_id,
            "payload": checked,
        },
    )


def emit_for_transition(
    session: AsyncSession,
    order: Order,
    event: OrderEvent,
    *,
    occurred_at: datetime,
    nurse_practitioner_id: uuid.UUID | None,
    extra: dict[str, Any] | None = None,
) -> None:
    """The feed's event of an order transition just logged as ``event`` (flushed, so it has its id), if
    its action is one the followers see. ``nurse_practitioner_id``: the nurse it concerns (for an
    un-assignment the nurse removed; else the order's nurse, if any)."""
    event_type = ACTION_EVENTS.get(event.action)
    if event_type is None:
        return
    payload: dict[str, Any] = {
        "nurse_practitioner_id": nurse_practitioner_id,
        "order_status": order.status.value,
        "order_version": order.version,
        "window_start": order.window_start,
        "window_end": order.window_end,
        "previous_status": event.from_status,
        **(extra or {}),
    }
    _queue(
        session,
        event_type,
        order=order,
        practitioner_id=nurse_practitioner_id,
        occurred_at=occurred_at,
        payload=payload,
        order_event_id=event.id,
    )


def emit_for_sos(session: AsyncSession, order: Order, alert: SosAlert, event_type: EventType) -> None:
    """An SOS alert raised or acknowledged (resolved): to its nurse and the provider's dispatcher."""
    _queue(
        session,
        event_type,
        order=order,
        practitioner_id=alert.practitioner_id,
        occurred_at=(alert.resolved_at or alert.raised_at)
        if event_type is EventType.sos_acknowledged
        else alert.raised_at,
        payload={
            "sos_id": alert.id,
            "nurse_practitioner_id": alert.practitioner_id,
            "raised_at": alert.raised_at,
            "resolved_at": alert.resolved_at,
        },
        sos_alert_id=alert.id,
    )


def visible(principal: Principal) -> ColumnElement[bool]:
    """The events ``principal`` follows (see the module's docstring); nothing for anyone else."""
    if principal.institution_id is None:
        return false()
    if principal.role is Role.institution_admin:
        return OrderNotice.institution_id == principal.institution_id
    if principal.role is Role.institution_staff and principal.practitioner_id is not None:
        return (OrderNotice.practitioner_id == principal.practitioner_id) & (
            OrderNotice.institution_id == principal.institution_id
        )
    return false()


def to_item(row: OrderNotice) -> dict[str, Any]:
    """The item as JSON values (validated against the type's schema)."""
    item = {
        "cursor": encode_seq_cursor(row.seq),
        "type": row.event_type.value,
        "order_id": row.order_id,
        "occurred_at": row.occurred_at,
        "payload": row.payload,
    }
    return dict(_ITEM.dump_python(_ITEM.validate_python(item), mode="json"))


async def list_after(
    session: AsyncSession, principal: Principal, *, after: int, limit: int
) -> tuple[list[dict[str, Any]], int, bool]:
    """Up to ``limit`` events after position ``after`` in the caller's scope, the position to continue
    from and whether more are waiting."""
    rows = list(
        (
            await session.scalars(
                select(OrderNotice)
                .where(OrderNotice.seq > after, visible(principal))
                .order_by(OrderNotice.seq)
                .limit(limit + 1)
            )
        ).all()
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    return [to_item(row) for row in rows], rows[-1].seq if rows else after, has_more


async def page(session: AsyncSession, principal: Principal, *, after: int, limit: int) -> EventFeedPage:
    items, last, has_more = await list_after(session, principal, after=after, limit=limit)
    return EventFeedPage.model_validate(
        {"items": items, "next_cursor": encode_seq_cursor(last), "has_more": has_more}
    )


async def head(session: AsyncSession) -> int:
    """The position of the latest event (0 when none): where a follower that wants only what comes next
    starts (the SSE stream without a cursor, the nurse's bundle)."""
    return int(await session.scalar(select(func.coalesce(func.max(OrderNotice.seq), 0))) or 0)
