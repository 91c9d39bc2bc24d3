"""Indicators of homecare: home-bed providers, home beds opened, 互联网+护理服务 orders.

A home bed counts in the period of its ``opened_date`` (a date: 建床 day), an order in the period of
its ``created_at`` (a moment, placed in China time). Both count in their own county (the feed's
``region_code``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from services.indicators.facts.models import HomeBedFact, InstitutionFact, OrderFact
from services.indicators.reports.units import AnyPeriod, period_keys, units

B = HomeBedFact
O = OrderFact  # noqa: E741


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
