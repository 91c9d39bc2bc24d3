"""Complaints about an order: filed for the recipient (by the provider's staff or the city platform),
resolved by the provider's admin."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal, Role
from libs.common.concurrency import check_if_match
from libs.common.errors import Conflict, NotFound
from libs.common.pagination import PageParams, paginate
from libs.common.scope import ensure_in_scope_for_write, visible_condition
from services.homecare import clock
from services.homecare.orders.complaints.models import Complaint, ComplaintStatus
from services.homecare.orders.complaints.schemas import ComplaintCreate, ComplaintResolve
from services.homecare.orders.lifecycle import ensure_provider_admin, ensure_provider_user
from services.homecare.orders.models import Order


async def file(session: AsyncSession, principal: Principal, order: Order, data: ComplaintCreate) -> Complaint:
    if principal.role is Role.city_platform:
        ensure_in_scope_for_write(principal, region_code=order.region_code, what="订单")
    else:
        ensure_provider_user(principal, order)
    complaint = Complaint(
        order_id=order.id,
        institution_id=order.institution_id,
        region_code=order.region_code,
        status=ComplaintStatus.open,
        content=data.content,
        filed_by_sub=principal.sub,
        filed_by_role=principal.role.value,
    )
    session.add(complaint)
    await session.flush()
    audit.record(session, principal, action="complaint.file", entity_type="complaint", entity_id=complaint.id)
    return complaint


async def get(session: AsyncSession, principal: Principal, complaint_id: uuid.UUID) -> Complaint:
    complaint = await session.scalar(
        select(Complaint).where(
            Complaint.id == complaint_id,
            visible_condition(principal, Complaint.region_code, Complaint.institution_id),
        )
    )
    if complaint is None:
        raise NotFound("投诉不存在", code="complaint_not_found")
    return complaint


async def list_(
    session: AsyncSession, principal: Principal, *, params: PageParams, status: ComplaintStatus | None
) -> tuple[list[Complaint], str | None]:
    stmt = select(Complaint).where(
        visible_condition(principal, Complaint.region_code, Complaint.institution_id)
    )
    if status is not None:
        stmt = stmt.where(Complaint.status == status)
    return await paginate(session, stmt, order_by=[Complaint.id], params=params)


async def resolve(
    session: AsyncSession,
    principal: Principal,
    complaint: Complaint,
    data: ComplaintResolve,
    if_match: str | None,
) -> Complaint:
    order = await session.get(Order, complaint.order_id)
    assert order is not None
    ensure_provider_admin(principal, order)
    check_if_match(if_match, complaint.version)
    if complaint.status is ComplaintStatus.resolved:
        raise Conflict("投诉已办结", code="complaint_already_resolved")
    complaint.status = ComplaintStatus.resolved
    complaint.resolution = data.resolution
    complaint.resolved_at = clock.now()
    await session.flush()
    audit.record(
        session, principal, action="complaint.resolve", entity_type="complaint", entity_id=complaint.id
    )
    return complaint
