"""The agreement list's reference path (tests only): the page as the list endpoint made it before it read
rows (issue 16) — ORM objects, each presented by ``service.present`` (contacts masked).
``test_list_rows.py`` holds the row path (services/contracts/agreements/listing.py) to its bytes, and
``tests/contracts/bench_agreement_list.py`` measures against it; no route calls it, so it lives here and not
in the service. The conditions are the service's own (``service.list_conditions``, which the row path uses
too)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.pagination import PageParams, paginate
from services.contracts.agreements import service
from services.contracts.agreements.models import Agreement, AgreementState


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    today: date,
    status: AgreementState | None = None,
    institution_id: uuid.UUID | None = None,
    region_code: str | None = None,
    ending_before: date | None = None,
    awaiting_filing: bool = False,
) -> tuple[list[Agreement], str | None]:
    """The list's page as ORM objects (for ``service.present``)."""
    conditions = service.list_conditions(
        principal,
        today=today,
        status=status,
        institution_id=institution_id,
        region_code=region_code,
        ending_before=ending_before,
        awaiting_filing=awaiting_filing,
    )
    stmt = select(Agreement).where(*conditions)
    return await paginate(session, stmt, order_by=[Agreement.id], params=params)
