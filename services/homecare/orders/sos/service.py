"""SOS: recorded at once (even when the order is in no state to move), seen by the provider's admins."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.concurrency import check_if_match
from libs.common.errors import Conflict, NotFound
from libs.common.pagination import PageParams, paginate
from libs.common.scope import visible_condition
from services.homecare import clock
from services.homecare.events import service as order_events
from services.homecare.events.models import EventType
from services.homecare.orders.errors import ClientEventReused
from services.homecare.orders.lifecycle import ensure_assigned_nurse, ensure_provider_admin
from services.homecare.orders.models import Order
from services.homecare.orders.sos.models import SosAlert
from services.homecare.orders.sos.schemas import SosRaise, SosResolve


async def raise_(
    session: AsyncSession, principal: Principal, order: Order, data: SosRaise
) -> tuple[SosAlert, bool]:
    existing = await session.scalar(select(SosAlert).where(SosAlert.client_event_id == data.client_event_id))
    if existing is not None:
        if existing.order_id != order.id:
            raise ClientEventReused()
        return existing, False
    ensure_assigned_nurse(principal, order)
    assert principal.practitioner_id is not None
    alert = SosAlert(
        order_id=order.id,
        institution_id=order.institution_id,
        region_code=order.region_code,
        practitioner_id=principal.practitioner_id,
        client_event_id=data.client_event_id,
        client_at=data.client_at,
        latitude=data.latitude,
        longitude=data.longitude,
        message=data.message,
    )
    session.add(alert)
    await session.flush()
    order_events.emit_for_sos(session, order, alert, EventType.sos_raised)
    audit.record(session, principal, action="sos.raise", entity_type="sos_alert", entity_id=alert.id)
    return alert, True


async def get(session: AsyncSession, principal: Principal, alert_id: uuid.UUID) -> SosAlert:
    alert = await session.scalar(
        select(SosAlert).where(
            SosAlert.id == alert_id,
            visible_condition(principal, SosAlert.region_code, SosAlert.institution_id),
        )
    )
    if alert is None:
        raise NotFound("报警记录不存在", code="sos_not_found")
    return alert


async def list_(
    session: AsyncSession, principal: Principal, *, params: PageParams, open_only: bool | None
) -> tuple[list[SosAlert], str | None]:
    stmt = select(SosAlert).where(visible_condition(principal, SosAlert.region_code, SosAlert.institution_id))
    if open_only is True:
        stmt = stmt.where(SosAlert.resolved_at.is_(None))
    elif open_only is False:
        stmt = stmt.where(SosAlert.resolved_at.is_not(None))
    return await paginate(
        session, stmt, order_by=[SosAlert.raised_at, SosAlert.id], params=params, descending=True
    )


async def resolve(
    session: AsyncSession, principal: Principal, alert: SosAlert, data: SosResolve, if_match: str | None
) -> SosAlert:
    order = await session.get(Order, alert.order_id)
    assert order is not None
    ensure_provider_admin(principal, order)
    check_if_match(if_match, alert.version)
    if alert.resolved_at is not None:
        raise Conflict("报警已处理", code="sos_already_resolved")
    alert.resolved_at = clock.now()
    alert.resolved_by_sub = principal.sub
    alert.resolution = data.resolution
    await session.flush()
    order_events.emit_for_sos(session, order, alert, EventType.sos_acknowledged)
    audit.record(
        session,
        principal,
        action="sos.resolve",
        entity_type="sos_alert",
        entity_id=alert.id,
        changes={"resolution": data.resolution},
    )
    return alert
