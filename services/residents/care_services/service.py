"""Twice-yearly 医养结合 services to assessed 失能 elders: record what was done; who was owed in a window,
who was served, who is overdue, by county.

Rule (settings, care_services/windows.py): in each window of a year, one service is owed to every person
whose latest assessment on or before the window's last day is at or above ``care_service_min_level``.
A window's unserved persons are ``pending`` until its last day has passed, then ``overdue``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.pagination import PageParams, paginate
from libs.common.scope import visible_condition
from services.residents import clock
from services.residents.assessments import service as assessments
from services.residents.assessments.models import Assessment
from services.residents.care_services.errors import (
    CareServiceNotFound,
    CareServiceNotOwed,
    ClientRecordReused,
    WindowUnknown,
)
from services.residents.care_services.models import CareService
from services.residents.care_services.schemas import (
    CareServiceCreate,
    CareServiceRead,
    CareSummary,
    CareSummaryRow,
    OwedRead,
    OwedStatus,
)
from services.residents.care_services.windows import CareWindow, window_of, windows_of
from services.residents.checkups.errors import DateInFuture
from services.residents.checkups.service import institution_of
from services.residents.persons import service as persons
from services.residents.persons.models import ServingReason
from services.residents.settings import ResidentsSettings


async def record(
    session: AsyncSession, principal: Principal, settings: ResidentsSettings, data: CareServiceCreate
) -> tuple[CareService, bool]:
    """Record a service done (``True``), or return the one a retried request already recorded."""
    institution_id = institution_of(principal, "医养结合服务")
    if data.service_date > clock.today():
        raise DateInFuture("body.service_date", "服务日期")
    existing = await session.scalar(
        select(CareService).where(CareService.client_record_id == data.client_record_id)
    )
    if existing is not None:
        if existing.person_id != data.person_id or existing.institution_id != institution_id:
            raise ClientRecordReused()
        return existing, False
    person = await persons.get(session, principal, data.person_id)
    latest = await assessments.latest_of(session, person.id, as_of=data.service_date)
    if latest is None or latest.level < settings.care_service_min_level:
        raise CareServiceNotOwed(settings.care_service_min_level, latest.level if latest else None)
    window = window_of(data.service_date, settings.care_service_window_start_months)
    service = CareService(
        person_id=person.id,
        region_code=person.region_code,
        institution_id=institution_id,
        practitioner_id=principal.practitioner_id,
        assessment_id=latest.id,
        client_record_id=data.client_record_id,
        service_date=data.service_date,
        year=window.year,
        window_number=window.number,
        kinds=[k.value for k in data.kinds],
        note=data.note,
        created_by_sub=principal.sub,
    )
    session.add(service)
    await session.flush()
    await persons.link_institution(session, person.id, institution_id, ServingReason.care_service)
    audit.record(
        session,
        principal,
        action="care_service.create",
        entity_type="care_service",
        entity_id=service.id,
        changes={"service_date": data.service_date, "kinds": service.kinds, "window": window.number},
    )
    return service, True


async def get(session: AsyncSession, principal: Principal, service_id: uuid.UUID) -> CareService:
    service = await session.scalar(
        select(CareService).where(
            CareService.id == service_id,
            visible_condition(principal, CareService.region_code, CareService.institution_id),
        )
    )
    if service is None:
        raise CareServiceNotFound()
    return service


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    person_id: uuid.UUID | None,
    year: int | None,
    window_number: int | None,
    region_code: str | None,
) -> tuple[list[CareService], str | None]:
    stmt = select(CareService).where(
        visible_condition(principal, CareService.region_code, CareService.institution_id)
    )
    if person_id is not None:
        stmt = stmt.where(CareService.person_id == person_id)
    if year is not None:
        stmt = stmt.where(CareService.year == year)
    if window_number is not None:
        stmt = stmt.where(CareService.window_number == window_number)
    if region_code is not None:
        stmt = stmt.where(CareService.region_code == region_code)
    return await paginate(session, stmt, order_by=[CareService.id], params=params)


def window(settings: ResidentsSettings, year: int, number: int) -> CareWindow:
    windows = windows_of(year, settings.care_service_window_start_months)
    if not 1 <= number <= len(windows):
        raise WindowUnknown(len(windows))
    return windows[number - 1]


def _served_in(w: CareWindow) -> Any:
    return (
        select(CareService.id)
        .where(
            CareService.person_id == Assessment.person_id,
            CareService.year == w.year,
            CareService.window_number == w.number,
        )
        .exists()
    )


def _owed(principal: Principal, settings: ResidentsSettings, w: CareWindow) -> Any:
    """The latest assessment (as of the window's end) of each person owed a service in the window."""
    latest = assessments.latest_per_person(w.end)
    return (
        select(Assessment)
        .join(latest, latest.c.id == Assessment.id)
        .where(
            latest.c.rank == 1,
            Assessment.level >= settings.care_service_min_level,
            visible_condition(principal, Assessment.region_code, Assessment.institution_id),
        )
    )


async def owed(
    session: AsyncSession,
    principal: Principal,
    settings: ResidentsSettings,
    *,
    params: PageParams,
    year: int,
    window_number: int,
    status: OwedStatus | None,
    region_code: str | None,
) -> tuple[list[OwedRead], str | None]:
    w = window(settings, year, window_number)
    ended = w.end < clock.today()
    stmt = _owed(principal, settings, w)
    if region_code is not None:
        stmt = stmt.where(Assessment.region_code == region_code)
    if status is OwedStatus.done:
        stmt = stmt.where(_served_in(w))
    elif status is not None:
        if (status is OwedStatus.overdue) != ended:
            return [], None
        stmt = stmt.where(~_served_in(w))
    rows, next_cursor = await paginate(session, stmt, order_by=[Assessment.id], params=params)
    served = set(
        await session.scalars(
            select(CareService.person_id).where(
                CareService.person_id.in_([a.person_id for a in rows]),
                CareService.year == w.year,
                CareService.window_number == w.number,
            )
        )
    )
    unserved = OwedStatus.overdue if ended else OwedStatus.pending
    items = [
        OwedRead(
            person_id=a.person_id,
            region_code=a.region_code,
            assessment_id=a.id,
            assessed_date=a.assessed_date,
            assessed_by_institution_id=a.institution_id,
            level=a.level,
            year=w.year,
            window_number=w.number,
            window_start=w.start,
            window_end=w.end,
            status=OwedStatus.done if a.person_id in served else unserved,
        )
        for a in rows
    ]
    return items, next_cursor


async def summary(
    session: AsyncSession, principal: Principal, settings: ResidentsSettings, *, year: int
) -> CareSummary:
    """Per county and window of ``year``: persons owed, served, pending and overdue."""
    today = clock.today()
    rows: list[CareSummaryRow] = []
    for w in windows_of(year, settings.care_service_window_start_months):
        owed_rows = _owed(principal, settings, w).subquery()
        served = (
            select(CareService.id)
            .where(
                CareService.person_id == owed_rows.c.person_id,
                CareService.year == w.year,
                CareService.window_number == w.number,
            )
            .exists()
        )
        counted = (
            await session.execute(
                select(owed_rows.c.region_code, func.count(), func.sum(case((served, 1), else_=0)))
                .group_by(owed_rows.c.region_code)
                .order_by(owed_rows.c.region_code)
            )
        ).all()
        for region, total, done in counted:
            done = int(done or 0)
            unserved = total - done
            ended = w.end < today
            rows.append(
                CareSummaryRow(
                    region_code=region,
                    window_number=w.number,
                    owed=total,
                    done=done,
                    pending=0 if ended else unserved,
                    overdue=unserved if ended else 0,
                )
            )
    rows.sort(key=lambda r: (r.region_code, r.window_number))
    return CareSummary(year=year, min_level=settings.care_service_min_level, rows=rows)


def to_read(service: CareService, principal: Principal) -> CareServiceRead:
    read = CareServiceRead.model_validate(service, from_attributes=True)
    if not (principal.is_institution_user and principal.institution_id == service.institution_id):
        read.note = None
    return read
