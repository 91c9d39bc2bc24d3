"""Indicators of homecare: home-bed providers, home beds opened, 建床对象满意率, 互联网+护理服务 orders.

A home bed counts in the period of its ``opened_date`` (a date: 建床 day), an order in the period of
its ``created_at`` (a moment, placed in China time). Both count in their own county (the feed's
``region_code``).

建床对象满意率: a home bed is not rated itself; the services done for it are orders linked to it
(``home_bed_id``), each rated on its own (score 1–5). A rating is **satisfied** at score ≥ 4, as homecare
scores it (its satisfaction report, ``reports/service.py``: 评分 ≥ 4). The unit is a home bed closed
(撤床, ``closed_date``) in the period: its satisfied ratings / all its ratings given by the reference
date (so a report reads the same later), in the bed's county.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from services.indicators.facts.models import HomeBedFact, InstitutionFact, OrderFact, RatingFact
from services.indicators.reports.units import AnyPeriod, period_keys, units

B = HomeBedFact
O = OrderFact  # noqa: E741
R = RatingFact
SATISFIED_MIN_SCORE = 4  # homecare's satisfaction report: 评分 ≥ 4 of 1–5


def _opened_in(period: AnyPeriod) -> Any:
    return (B.opened_date >= period.start) & (B.opened_date <= period.end)


def home_beds_opened(period: AnyPeriod) -> Select[Any]:
    return units(
        region_code=B.region_code,
        record_id=B.id,
        name=func.coalesce(B.provider_name, ""),
        num=1,
        den=None,
        party_a=B.institution_id,
    ).where(_opened_in(period))


def home_bed_providers(period: AnyPeriod) -> Select[Any]:
    """Medical institutions with at least one home bed opened in the period, per county of the beds."""
    return (
        units(
            region_code=B.region_code,
            record_id=B.institution_id,
            name=func.coalesce(func.max(B.provider_name), ""),
            num=1,
            den=None,
            party_a=B.institution_id,
        )
        .where(_opened_in(period))
        .group_by(B.region_code, B.institution_id, *period_keys(period))
    )


def homecare_orders(period: AnyPeriod) -> Select[Any]:
    provider = select(InstitutionFact.name).where(InstitutionFact.id == O.institution_id).scalar_subquery()
    return units(
        region_code=O.region_code,
        record_id=O.id,
        name=func.coalesce(provider, ""),
        num=1,
        den=None,
        party_a=O.institution_id,
    ).where(O.created_at >= period.start_moment, O.created_at < period.end_moment)


def home_bed_satisfaction(period: AnyPeriod) -> Select[Any]:
    """Per home bed closed in the period: its satisfied ratings / all its ratings (through its orders)."""

    def ratings(*where: Any) -> Any:
        return (
            select(func.count())
            .select_from(R)
            .join(O, O.id == R.order_id)
            .where(O.home_bed_id == B.id, R.rated_at < period.end_moment, *where)
            .scalar_subquery()
        )

    return units(
        region_code=B.region_code,
        record_id=B.id,
        name=func.coalesce(B.provider_name, ""),
        num=ratings(R.score >= SATISFIED_MIN_SCORE),
        den=ratings(),
        party_a=B.institution_id,
    ).where(B.status == "closed", B.closed_date >= period.start, B.closed_date <= period.end)
