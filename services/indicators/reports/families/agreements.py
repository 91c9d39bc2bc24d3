"""Indicators of the contracts: signed pairs, coverage of 养老机构, 巡诊 done vs owed, 双向转诊.

An agreement is **in force** on the reference date when it was signed (countersigned, active, expired or
terminated), its term covers the date, and — if terminated — it ended after the date (``terminated_on``),
as the contracts service itself decides (visits/service.py ``in_force_on``). So an agreement terminated
or expired after a period's end still counts for that period.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from services.indicators.facts.models import AgreementFact, InstitutionFact, ReferralFact, RoundVisitFact
from services.indicators.reports.families.institutions import elderly_care_proper, integrated
from services.indicators.reports.periods import Period
from services.indicators.reports.units import AnyPeriod, period_keys, units

A = AgreementFact
SIGNED = ("countersigned", "active", "expired", "terminated")


def in_force(period: AnyPeriod, agreement: type[AgreementFact] = AgreementFact) -> ColumnElement[bool]:
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


def signed_pairs(period: AnyPeriod) -> Select[Any]:
    """Distinct (medical, elderly-care) pairs with an agreement in force, each counted once, in the
    elderly-care party's county (the agreement's own region, where its visits take place): so counties
    add up to their city and cities to the province, and the province's figure is the distinct pairs
    indicators.md defines. A pair across two counties is *read* by both (contracts' scope and coverage
    report count it in each party's county); summing both here would count it twice up the levels."""
    name = func.max(A.medical_name).concat(" — ").concat(func.max(A.elderly_name))
    return (
        units(
            region_code=A.elderly_region_code,
            record_id=A.medical_institution_id,
            related_id=A.elderly_institution_id,
            name=name,
            num=1,
            den=None,
            party_a=A.medical_institution_id,
            party_b=A.elderly_institution_id,
        )
        .where(in_force(period))
        .group_by(
            A.elderly_region_code,
            A.medical_institution_id,
            A.elderly_institution_id,
            *period_keys(period),
        )
    )


def agreement_coverage(period: AnyPeriod) -> Select[Any]:
    """养老机构 proper with an agreement in force (as the elderly-care party) or their own medical unit
    (医养结合, see institutions.integrated) / all of them."""
    I = InstitutionFact  # noqa: E741
    signed = exists().where(A.elderly_institution_id == I.id, in_force(period))
    covered = case((or_(signed, integrated(period)), 1), else_=0)
    return units(
        region_code=I.region_code, record_id=I.id, name=I.name, num=covered, den=1, party_a=I.id
    ).where(I.active.is_(True), elderly_care_proper())


def round_visits_done(period: AnyPeriod) -> Select[Any]:
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


def referrals(period: AnyPeriod) -> Select[Any]:
    """Referrals requested in the period (``requested_at``, a moment placed in China time), whatever
    became of them — as the contracts' own referral statistics count them — in the referral's county
    (the elderly-care party's)."""
    R = ReferralFact

    def name_of(institution: Any) -> Any:
        found = select(InstitutionFact.name).where(InstitutionFact.id == institution).scalar_subquery()
        return func.coalesce(found, "")

    return units(
        region_code=R.region_code,
        record_id=R.id,
        name=name_of(R.from_institution_id).concat(" → ").concat(name_of(R.to_institution_id)),
        num=1,
        den=None,
        party_a=R.from_institution_id,
        party_b=R.to_institution_id,
    ).where(R.requested_at >= period.start_moment, R.requested_at < period.end_moment)


def referral_response_times(period: Period) -> Select[Any]:
    """The referrals of :func:`referrals` that were accepted, with the moments of request and
    acceptance: the median response time (request → accept, as the contracts' ``/referrals/stats``
    measure it) of a region is taken over these rows of its counties — a median does not add up, so it
    is not a unit sum."""
    R = ReferralFact
    columns: list[Any] = [
        R.region_code.label("region_code"),
        R.from_institution_id.label("party_a"),
        R.to_institution_id.label("party_b"),
        R.requested_at.label("requested_at"),
        R.accepted_at.label("accepted_at"),
    ]
    return select(*columns).where(
        R.requested_at >= period.start_moment,
        R.requested_at < period.end_moment,
        R.accepted_at.is_not(None),
    )
