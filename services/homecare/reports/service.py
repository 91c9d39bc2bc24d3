"""Reports, computed in SQL (GROUP BY, window functions), within the caller's scope."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from libs.common import divisions
from libs.common.aggregate_plans import plan_for_aggregates
from libs.common.auth import Principal
from libs.common.scope import visible_condition
from services.homecare import clock
from services.homecare.home_beds.models import HomeBed, HomeBedStatus
from services.homecare.orders.complaints.models import Complaint, ComplaintStatus
from services.homecare.orders.models import STATUS_LABELS, Order, OrderItem, OrderStatus, Rating
from services.homecare.providers.models import Provider
from services.homecare.reports.schemas import (
    ComplaintRow,
    CountRow,
    GroupBy,
    HomeBedRow,
    OrderGroupBy,
    ResponseTimeRow,
    SatisfactionRow,
)

PCT = Decimal("0.01")


def _between(column: Any, from_date: date | None, to_date: date | None) -> ColumnElement[bool]:
    conditions = []
    if from_date is not None:
        conditions.append(column >= clock.start_of_day(from_date))
    if to_date is not None:
        conditions.append(column < clock.start_of_day(to_date + timedelta(days=1)))
    return and_(True, *conditions)


async def _provider_names(session: AsyncSession, ids: Sequence[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Provider.institution_id, Provider.institution_name).where(
            Provider.institution_id.in_([uuid.UUID(i) for i in ids])
        )
    )
    return {str(i): n for i, n in rows}


def _region_label(code: str) -> str | None:
    division = divisions.get(code)
    return division.name if division else None


async def _labels(session: AsyncSession, group_by: str, keys: Sequence[str]) -> dict[str, str | None]:
    if group_by == "provider":
        names = await _provider_names(session, keys)
        return {k: names.get(k) for k in keys}
    if group_by == "region":
        return {k: _region_label(k) for k in keys}
    if group_by == "status":
        return {k: STATUS_LABELS[OrderStatus(k)] for k in keys}
    return {k: None for k in keys}


def _key(
    group_by: str, region: InstrumentedAttribute[str], institution: InstrumentedAttribute[uuid.UUID]
) -> Any:
    return institution if group_by == GroupBy.provider else region


def _text(value: Any) -> str:
    return str(value.value) if hasattr(value, "value") else str(value)


async def satisfaction(
    session: AsyncSession,
    principal: Principal,
    *,
    group_by: GroupBy,
    from_date: date | None,
    to_date: date | None,
    bar_pct: int,
) -> list[SatisfactionRow]:
    await plan_for_aggregates(session)
    key = _key(group_by, Rating.region_code, Rating.institution_id)
    stmt = (
        select(key, func.count(), func.sum(case((Rating.score >= 4, 1), else_=0)))
        .where(
            visible_condition(principal, Rating.region_code, Rating.institution_id),
            _between(Rating.rated_at, from_date, to_date),
        )
        .group_by(key)
        .order_by(key)
    )
    rows = [(str(k), int(n), int(s or 0)) for k, n, s in (await session.execute(stmt)).all()]
    labels = await _labels(session, group_by, [k for k, _, _ in rows])
    result = []
    for k, n, s in rows:
        pct = (Decimal(s) * 100 / Decimal(n)).quantize(PCT, rounding=ROUND_HALF_UP) if n else Decimal(0)
        result.append(
            SatisfactionRow(
                key=k, label=labels[k], ratings=n, satisfied=s, satisfied_pct=pct, meets_bar=pct >= bar_pct
            )
        )
    return result


async def response_times(
    session: AsyncSession,
    principal: Principal,
    *,
    group_by: GroupBy,
    from_date: date | None,
    to_date: date | None,
) -> list[ResponseTimeRow]:
    """Minutes from submission to check-in: average and median (window functions) per group."""
    await plan_for_aggregates(session)
    key = _key(group_by, Order.region_code, Order.institution_id).label("k")
    minutes = Order.response_minutes
    scoped = and_(
        visible_condition(principal, Order.region_code, Order.institution_id),
        Order.response_minutes.is_not(None),
        _between(Order.created_at, from_date, to_date),
    )
    averages = await session.execute(select(key, func.count(), func.avg(minutes)).where(scoped).group_by(key))
    ranked = (
        select(
            key,
            minutes.label("m"),
            func.row_number().over(partition_by=key, order_by=minutes).label("rn"),
            func.count().over(partition_by=key).label("n"),
        )
        .where(scoped)
        .subquery()
    )
    medians = await session.execute(
        select(ranked.c.k, func.avg(ranked.c.m))
        .where(ranked.c.rn.in_([(ranked.c.n + 1) / 2, (ranked.c.n + 2) / 2]))
        .group_by(ranked.c.k)
    )
    median_of = {str(k): m for k, m in medians.all()}
    rows = [(str(k), int(n), a) for k, n, a in averages.all()]
    labels = await _labels(session, group_by, [k for k, _, _ in rows])
    return [
        ResponseTimeRow(
            key=k,
            label=labels[k],
            orders=n,
            avg_minutes=_minutes(a),
            median_minutes=_minutes(median_of.get(k)),
        )
        for k, n, a in sorted(rows)
    ]


def _minutes(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(PCT, rounding=ROUND_HALF_UP)


async def orders(
    session: AsyncSession,
    principal: Principal,
    *,
    group_by: OrderGroupBy,
    status: OrderStatus | None,
    from_date: date | None,
    to_date: date | None,
) -> list[CountRow]:
    await plan_for_aggregates(session)
    if group_by is OrderGroupBy.item:
        key: Any = OrderItem.item_code
        stmt = (
            select(key, func.max(OrderItem.item_name), func.count())
            .join(Order, Order.id == OrderItem.order_id)
            .where(visible_condition(principal, OrderItem.region_code, OrderItem.institution_id))
        )
    else:
        key = {
            OrderGroupBy.status: Order.status,
            OrderGroupBy.region: Order.region_code,
            OrderGroupBy.provider: Order.institution_id,
        }[group_by]
        stmt = select(key, func.max(Order.provider_name), func.count()).where(
            visible_condition(principal, Order.region_code, Order.institution_id)
        )
    stmt = stmt.where(_between(Order.created_at, from_date, to_date))
    if status is not None:
        stmt = stmt.where(Order.status == status)
    rows = (await session.execute(stmt.group_by(key).order_by(key))).all()
    keyed = [(_text(k), name, int(n)) for k, name, n in rows]
    if group_by is OrderGroupBy.item:
        return [CountRow(key=k, label=name, count=n) for k, name, n in keyed]
    if group_by is OrderGroupBy.provider:
        return [CountRow(key=k, label=name, count=n) for k, name, n in keyed]
    labels = await _labels(session, group_by.value, [k for k, _, _ in keyed])
    return [CountRow(key=k, label=labels[k], count=n) for k, _, n in keyed]


async def complaints(
    session: AsyncSession,
    principal: Principal,
    *,
    group_by: GroupBy,
    from_date: date | None,
    to_date: date | None,
) -> list[ComplaintRow]:
    await plan_for_aggregates(session)
    key = _key(group_by, Complaint.region_code, Complaint.institution_id)
    stmt = (
        select(
            key,
            func.sum(case((Complaint.status == ComplaintStatus.open, 1), else_=0)),
            func.sum(case((Complaint.status == ComplaintStatus.resolved, 1), else_=0)),
        )
        .where(
            visible_condition(principal, Complaint.region_code, Complaint.institution_id),
            _between(Complaint.created_at, from_date, to_date),
        )
        .group_by(key)
        .order_by(key)
    )
    rows = [(str(k), int(o or 0), int(r or 0)) for k, o, r in (await session.execute(stmt)).all()]
    labels = await _labels(session, group_by, [k for k, _, _ in rows])
    return [ComplaintRow(key=k, label=labels[k], open=o, resolved=r) for k, o, r in rows]


async def home_beds(
    session: AsyncSession,
    principal: Principal,
    *,
    group_by: GroupBy,
    from_date: date | None,
    to_date: date | None,
) -> list[HomeBedRow]:
    await plan_for_aggregates(session)
    key = _key(group_by, HomeBed.region_code, HomeBed.institution_id)
    today = clock.today()

    def within(column: Any) -> ColumnElement[bool]:
        conditions = [column.is_not(None)]
        if from_date is not None:
            conditions.append(column >= from_date)
        if to_date is not None:
            conditions.append(column <= to_date)
        return and_(*conditions)

    opened_now = HomeBed.status == HomeBedStatus.opened
    stmt = (
        select(
            key,
            func.max(HomeBed.provider_name),
            func.sum(case((opened_now, 1), else_=0)),
            func.sum(case((within(HomeBed.opened_date), 1), else_=0)),
            func.sum(case((within(HomeBed.closed_date), 1), else_=0)),
            func.sum(case((and_(opened_now, HomeBed.period_end_date < today), 1), else_=0)),
        )
        .where(visible_condition(principal, HomeBed.region_code, HomeBed.institution_id))
        .group_by(key)
        .order_by(key)
    )
    rows = (await session.execute(stmt)).all()
    result = []
    for k, name, open_now, opened, closed, overdue in rows:
        label = name if group_by is GroupBy.provider else _region_label(str(k))
        result.append(
            HomeBedRow(
                key=str(k),
                label=label,
                open_now=int(open_now or 0),
                opened=int(opened or 0),
                closed=int(closed or 0),
                overdue=int(overdue or 0),
            )
        )
    return result
