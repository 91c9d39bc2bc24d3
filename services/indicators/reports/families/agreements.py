"""Indicators of the contracts' agreements: signed pairs, coverage of 养老机构, 巡诊 done vs owed.

An agreement is **in force** on the reference date when it was signed (countersigned, active, expired or
terminated), its term covers the date, and — if terminated — it ended after the date (``terminated_on``),
as the contracts service itself decides (visits/service.py ``in_force_on``). So an agreement terminated
or expired after a period's end still counts for that period.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, case, exists, func, or_, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from services.indicators.facts.models import AgreementFact, InstitutionFact, RoundVisitFact
from services.indicators.reports.families.institutions import elderly_care_proper, integrated
from services.indicators.reports.periods import Period
from services.indicators.reports.units import units

A = AgreementFact
SIGNED = ("countersigned", "active", "expired", "terminated")


def in_force(period: Period, agreement: type[AgreementFact] = AgreementFact) -> ColumnElement[bool]:
    day = period.end
    return and_(
        agreement.state.in_(SIGNED),
        agreement.start_date <= day,
        agreement.end_date >= day,
        or_(
            agreement.state != "terminated",
            agreement.terminated_on.is_(None),
            agreement.terminated_on >= day,
        ),
    )


def signed_pairs(period: Period) -> Select[Any]:
    """Distinct (medical, elderly-care) pairs with an agreement in force, counted in each party's county
    (a pair across two counties counts once in each; a city's figure is the sum of its counties')."""
    by_party = union_all(
        select(
            A.elderly_region_code.label("county"),
            A.medical_institution_id.label("medical"),
            A.elderly_institution_id.label("elderly"),
            A.medical_name.label("medical_name"),
            A.elderly_name.label("elderly_name"),
        ).where(in_force(period)),
        select(
            A.medical_region_code,
            A.medical_institution_id,
            A.elderly_institution_id,
            A.medical_name,
            A.elderly_name,
        ).where(in_force(period), A.medical_region_code != A.elderly_region_code),
    ).subquery()
    c = by_party.c
    name = func.max(c.medical_name).concat(" — ").concat(func.max(c.elderly_name))
    return units(
        region_code=c.county,
        record_id=c.medical,
        related_id=c.elderly,
        name=name,
        num=1,
        den=None,
        party_a=c.medical,
        party_b=c.elderly,
    ).group_by(c.county, c.medical, c.elderly)


def agreement_coverage(period: Period) -> Select[Any]:
    """养老机构 proper with an agreement in force (as the elderly-care party) or their own medical unit
    (医养结合, see institutions.integrated) / all of them."""
    I = InstitutionFact  # noqa: E741
    signed = exists().where(A.elderly_institution_id == I.id, in_force(period))
    covered = case((or_(signed, integrated(period)), 1), else_=0)
    return units(
        region_code=I.region_code, record_id=I.id, name=I.name, num=covered, den=1, party_a=I.id
    ).where(I.active.is_(True), elderly_care_proper())


def round_visits_done(period: Period) -> Select[Any]:
    """Per agreement in force on the reference date: 巡诊 visits recorded in the period / visits it owes
    over the period (its frequency × the period's months, or weeks for a weekly frequency), counted in the
    elderly-care party's county, where the visits take place."""
    V = RoundVisitFact
    done = (
        select(func.count())
        .where(V.agreement_id == A.id, V.visit_date >= period.start, V.visit_date <= period.end)
        .scalar_subquery()
    )
    periods = case((A.visit_period == "week", period.weeks), else_=period.months)
    owed = func.coalesce(A.visit_count, 0) * periods
    name = func.coalesce(A.title, A.medical_name.concat(" — ").concat(A.elderly_name))
    return units(
        region_code=A.elderly_region_code,
        record_id=A.id,
        name=name,
        num=done,
        den=owed,
        party_a=A.medical_institution_id,
        party_b=A.elderly_institution_id,
    ).where(in_force(period))
