"""Institutions: the service layer (flushes, never commits)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.pagination import PageParams, paginate
from libs.common.scope import can_see, ensure_in_scope_for_write, visible_condition
from services.registry.institutions.errors import InstitutionNotFound
from services.registry.institutions.models import Institution, InstitutionKind
from services.registry.institutions.schemas import InstitutionCreate


async def get(session: AsyncSession, principal: Principal, institution_id: uuid.UUID) -> Institution:
    institution = await session.get(Institution, institution_id)
    if institution is None or not can_see(
        principal, region_code=institution.region_code, institution_ids=[institution.id]
    ):
        raise InstitutionNotFound()
    return institution


async def list_(
    session: AsyncSession, principal: Principal, *, params: PageParams, kind: InstitutionKind | None = None
) -> tuple[list[Institution], str | None]:
    stmt = select(Institution).where(visible_condition(principal, Institution.region_code, Institution.id))
    if kind is not None:
        stmt = stmt.where(Institution.kind == kind)
    return await paginate(session, stmt, order_by=[Institution.id], params=params)


async def create(session: AsyncSession, principal: Principal, data: InstitutionCreate) -> Institution:
    ensure_in_scope_for_write(principal, region_code=data.region_code, what="行政区划")
    institution = Institution(**data.model_dump())
    session.add(institution)
    await session.flush()
    audit.record(
        session,
        principal,
        action="institution.create",
        entity_type="institution",
        entity_id=institution.id,
        changes=data.model_dump(),
    )
    return institution
