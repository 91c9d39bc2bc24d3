"""巡诊 visits and the shortfall report (visits done against visits owed), in SQL."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Date, Float, Integer, Select, and_, case, cast, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit, divisions
from libs.common.auth import Principal, Role
from libs.common.pagination import PageParams, decode_cursor, encode_cursor, paginate
from libs.common.scope import region_condition
from services.contracts.agreements import service as agreements
from services.contracts.agreements.models import SIGNED_STATES, Agreement, AgreementState, VisitPeriod
from services.contracts.clock import Clock
from services.contracts.sql_dates import days_between
from services.contracts.visits.errors import (
    NotMedicalParty,
    PeriodInvalid,
    ServiceNotAgreed,
    VisitOutsideTerm,
)
from services.contracts.visits.models import Visit
from services.contracts.visits.schemas import RegionShortfall, Shortfall, VisitCreate

DAYS_PER_MONTH = 365.0 / 12.0


def in_force_on(agreement: Agreement, day: date) -> bool:
    if agreement.state not in SIGNED_STATES:
        return False
    end = agreement.end_date
    if agreement.state is AgreementState.terminated and agreement.terminated_on is not None:
        end = min(end, agreement.terminated_on)
    return agreement.start_date <= day <= end


def check_visit(agreement: Agreement, data: VisitCreate, *, today: date) -> None:
    """A visit lies within the agreement's term (up to a termination), not in the future (422
    ``visit_outside_term``), and gives only agreed services (422 ``service_not_agreed``)."""
    if data.visit_date > today or not in_force_on(agreement, data.visit_date):
        raise VisitOutsideTerm()
    extra = {s.value for s in data.services} - set(agreement.services)
    if extra:
        raise ServiceNotAgreed(f"协议未约定以下服务：{', '.join(sorted(extra))}")


def visit_values(agreement: Agreement, data: VisitCreate, *, recorded_by: str) -> dict[str, Any]:
    """The columns of a visit of ``agreement`` (scope copied from the agreement)."""
    return {
        "agreement_id": agreement.id,
        "region_code": agreement.region_code,
        "medical_region_code": agreement.medical_region_code,
        "medical_institution_id": agreement.medical_institution_id,
        "elderly_institution_id": agreement.elderly_institution_id,
        "visit_date": data.visit_date,
        "practitioner_ids": [str(p) for p in data.practitioner_ids],
        "residents_seen": data.residents_seen,
        "resident_refs": data.resident_refs,
        "services": [s.value for s in data.services],
        "findings": data.findings,
        "homebound_orders": [o.model_dump(mode="json") for o in data.homebound_orders],
        "recorded_by": recorded_by,
    }


def audit_changes(agreement: Agreement, data: VisitCreate) -> dict[str, Any]:
    return {
        "agreement_id": agreement.id,
        "visit_date": data.visit_date,
        "residents_seen": data.residents_seen,
    }


async def create(
    session: AsyncSession, principal: Principal, agreement: Agreement, data: VisitCreate, *, clock: Clock
) -> Visit:
    if principal.institution_id != agreement.medical_institution_id:
        raise NotMedicalParty()
    check_visit(agreement, data, today=clock.today())
    visit = Visit(**visit_values(agreement, data, recorded_by=principal.sub))
    session.add(visit)
    await session.flush()
    audit.record(
        session,
        principal,
        action="visit.create",
        entity_type="visit",
        entity_id=visit.id,
        changes=audit_changes(agreement, data),
    )
    return visit


async def list_(
    session: AsyncSession,
    agreement: Agreement,
    *,
    params: PageParams,
    date_from: date | None,
    date_to: date | None,
) -> tuple[list[Visit], str | None]:
    stmt = select(Visit).where(Visit.agreement_id == agreement.id)
    if date_from is not None:
        stmt = stmt.where(Visit.visit_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(Visit.visit_date <= date_to)
    return await paginate(
        session, stmt, order_by=[Visit.visit_date, Visit.id], params=params, descending=True
    )


# --------------------------------------------------------------------------------------- shortfall


def check_period(start: date, end: date) -> None:
    if end < start:
        raise PeriodInvalid("统计期止日不得早于起日")
    if (end - start).days > 3660:
        raise PeriodInvalid("统计期不得超过 10 年")


def counted_in(principal: Principal) -> Any:
    """The county an agreement counts in for ``principal``'s reports by region: its own (the elderly-care
    party's) when that lies in the caller's region, else its medical party's — so a county sees the
    agreements of its hospitals with homes elsewhere, and a city or the province counts each once."""
    if principal.role is Role.service or principal.is_institution_user:
        return Agreement.region_code
    scope = principal.scope
    return case(
        (region_condition(scope.prefix, scope.excluded, Agreement.region_code), Agreement.region_code),
        else_=Agreement.medical_region_code,
    )


def shortfall_select(
    principal: Principal,
    *,
    start: date,
    end: date,
    min_per_month: int,
    dialect: str,
    agreement_id: uuid.UUID | None = None,
    region_code: str | None = None,
) -> Select[Any]:
    """One row per agreement in force at some point of [start, end]: days in force, visits owed, done.

    Owed visits: the agreed rate (n a week = n/7 a day; n a month = n/(365/12) a day) and the province
    minimum (``min_per_month`` a month), whichever is higher, times the days in force in the period.
    """
    start_v, end_v = literal(start, Date), literal(end, Date)
    effective_end = case(
        (
            and_(Agreement.state == AgreementState.terminated, Agreement.terminated_on < Agreement.end_date),
            Agreement.terminated_on,
        ),
        else_=Agreement.end_date,
    )
    low = case((Agreement.start_date > start_v, Agreement.start_date), else_=start_v)
    high = case((effective_end < end_v, effective_end), else_=end_v)
    days = days_between(high, low, dialect) + 1.0
    daily = case(
        (Agreement.visit_period == VisitPeriod.week, cast(Agreement.visit_count, Float) / 7.0),
        else_=cast(Agreement.visit_count, Float) / DAYS_PER_MONTH,
    )
    agreed = daily * days
    minimum = (float(min_per_month) / DAYS_PER_MONTH) * days
    required = case((agreed >= minimum, agreed), else_=minimum)
    done = (
        select(func.count(Visit.id))
        .where(Visit.agreement_id == Agreement.id, Visit.visit_date >= start_v, Visit.visit_date <= end_v)
        .correlate(Agreement)
        .scalar_subquery()
    )
    stmt = select(
        Agreement.id.label("agreement_id"),
        Agreement.region_code.label("region_code"),
        counted_in(principal).label("counted_in"),
        Agreement.medical_name.label("medical_name"),
        Agreement.elderly_name.label("elderly_name"),
        Agreement.visit_count.label("visit_count"),
        Agreement.visit_period.label("visit_period"),
        cast(days, Integer).label("days_in_force"),
        agreed.label("agreed"),
        minimum.label("province_minimum"),
        required.label("required"),
        done.label("done"),
    ).where(
        Agreement.state.in_(SIGNED_STATES),
        Agreement.start_date <= end_v,
        effective_end >= start_v,
        agreements.visible(principal),
    )
    if agreement_id is not None:
        stmt = stmt.where(Agreement.id == agreement_id)
    if region_code is not None:
        stmt = stmt.where(agreements.in_region(region_code))
    return stmt


def _shortfall(row: Any, start: date, end: date) -> Shortfall:
    required = round(float(row.required), 2)
    missing = round(max(0.0, required - int(row.done)), 2)
    return Shortfall(
        agreement_id=row.agreement_id,
        region_code=row.region_code,
        medical_name=row.medical_name,
        elderly_name=row.elderly_name,
        period_start=start,
        period_end=end,
        days_in_force=int(row.days_in_force),
        visit_count=row.visit_count,
        visit_period=row.visit_period,
        agreed=round(float(row.agreed), 2),
        province_minimum=round(float(row.province_minimum), 2),
        required=required,
        done=int(row.done),
        shortfall=missing,
        falling_short=missing >= 1.0,
    )


def clip_to_today(end: date, today: date) -> date:
    return min(end, today)


async def agreement_shortfall(
    session: AsyncSession,
    principal: Principal,
    agreement: Agreement,
    *,
    start: date,
    end: date,
    min_per_month: int,
) -> Shortfall:
    dialect = session.get_bind().dialect.name
    stmt = shortfall_select(
        principal,
        start=start,
        end=end,
        min_per_month=min_per_month,
        dialect=dialect,
        agreement_id=agreement.id,
    )
    row = (await session.execute(stmt)).one_or_none()
    if row is None:  # not in force during the period: nothing owed
        return Shortfall(
            agreement_id=agreement.id,
            region_code=agreement.region_code,
            medical_name=agreement.medical_name,
            elderly_name=agreement.elderly_name,
            period_start=start,
            period_end=end,
            days_in_force=0,
            visit_count=agreement.visit_count,
            visit_period=agreement.visit_period,
            agreed=0.0,
            province_minimum=0.0,
            required=0.0,
            done=0,
            shortfall=0.0,
            falling_short=False,
        )
    return _shortfall(row, start, end)


async def list_shortfalls(
    session: AsyncSession,
    principal: Principal,
    *,
    start: date,
    end: date,
    min_per_month: int,
    params: PageParams,
    only_falling_short: bool,
    region_code: str | None = None,
) -> tuple[list[Shortfall], str | None]:
    dialect = session.get_bind().dialect.name
    inner = shortfall_select(
        principal,
        start=start,
        end=end,
        min_per_month=min_per_month,
        dialect=dialect,
        region_code=region_code,
    ).subquery()
    stmt = select(inner)
    if only_falling_short:
        stmt = stmt.where(inner.c.required - inner.c.done >= 1.0)
    if params.cursor:
        (after,) = decode_cursor(params.cursor, [Agreement.id])
        stmt = stmt.where(inner.c.agreement_id > after)
    rows = list((await session.execute(stmt.order_by(inner.c.agreement_id).limit(params.limit + 1))).all())
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        next_cursor = encode_cursor([rows[-1].agreement_id])
    return [_shortfall(r, start, end) for r in rows], next_cursor


async def region_shortfalls(
    session: AsyncSession,
    principal: Principal,
    *,
    start: date,
    end: date,
    min_per_month: int,
    group_by: str,
    region_code: str | None = None,
) -> list[RegionShortfall]:
    dialect = session.get_bind().dialect.name
    inner = shortfall_select(
        principal,
        start=start,
        end=end,
        min_per_month=min_per_month,
        dialect=dialect,
        region_code=region_code,
    ).subquery()
    group = divisions.city_unit_sql(inner.c.counted_in) if group_by == "city" else inner.c.counted_in
    missing = case((inner.c.required > inner.c.done, inner.c.required - inner.c.done), else_=0.0)
    stmt = (
        select(
            group.label("region"),
            func.count().label("agreements"),
            func.sum(inner.c.required).label("required"),
            func.sum(inner.c.done).label("done"),
            func.sum(missing).label("shortfall"),
            func.sum(case((inner.c.required - inner.c.done >= 1.0, 1), else_=0)).label("falling_short"),
        )
        .group_by(group)
        .order_by(group)
    )
    result = []
    for row in (await session.execute(stmt)).all():
        division = divisions.get(row.region)
        result.append(
            RegionShortfall(
                region_code=row.region,
                region_name=division.name if division else row.region,
                agreements=int(row.agreements),
                required=round(float(row.required or 0), 2),
                done=int(row.done or 0),
                shortfall=round(float(row.shortfall or 0), 2),
                falling_short=int(row.falling_short or 0),
            )
        )
    return result
