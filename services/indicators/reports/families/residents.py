"""Indicators of the residents service: the 65+ health-management rate, check-ups, family-doctor signing
and renewal, 失能 elders assessed.

Every unit counts in the county the residents feed gives the record (``region_code``: the resident's
county). Rules (indicators.md, our readings marked):

- **规范健康管理率** (``health_management_rate``): people with a *standard* (规范) check-up record dated in
  the period / the 65+ population of the period's year (reference data). A person counts once however many
  records they have in the period (the latest standard one is the unit).
- **老年人体检人次** (``elder_checkups``): check-up records dated in the period (the residents service keeps
  one record per person and year, so a year's figure is also people checked).
- **家庭医生签约率** (``family_doctor_signing_rate``): residents with a contract **in force on the reference
  date** (its term covers the day and it did not end before or on it — a transfer ends one contract the day
  the next starts, so the person counts once) / the **65+ population** (the residents service signs the
  elders it holds: the key group 老年人; indicators.md marks the denominator `likely`).
- **家庭医生续签率** (``family_doctor_renewal_rate``): contracts whose term ended in the period and that ran
  to term or were renewed (a contract terminated early — a transfer, a move, a death — did not come up for
  renewal) / of those, the ones renewed (a later contract names it as ``renewal_of_id``).
- **失能老年人健康评估** (``disabled_elder_assessments``): people with an ability assessment in the period
  whose level is 失能 (能力轻度受损 or worse, as the residents service classes it), each once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, and_, case, exists, literal, or_
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from services.indicators.facts.models import AssessmentFact, CheckupFact, SigningFact
from services.indicators.reports.units import AnyPeriod, units

C = CheckupFact
S = SigningFact
A = AssessmentFact


def _checked_in(period: AnyPeriod, checkup: Any = C) -> ColumnElement[bool]:
    return and_(checkup.checkup_date >= period.start, checkup.checkup_date <= period.end)


def elder_checkups(period: AnyPeriod) -> Select[Any]:
    return units(
        region_code=C.region_code,
        record_id=C.id,
        name=case((C.standard.is_(True), literal("规范")), else_=literal("不完整")),
        num=1,
        den=None,
        party_a=C.institution_id,
    ).where(_checked_in(period))


def health_managed(period: AnyPeriod) -> Select[Any]:
    """The numerator of ``health_management_rate``: per person, their latest standard record of the
    period (the denominator is the 65+ population, not a record)."""
    later = aliased(CheckupFact)
    return units(
        region_code=C.region_code,
        record_id=C.id,
        name=literal("规范"),
        num=1,
        den=None,
        party_a=C.institution_id,
    ).where(
        C.standard.is_(True),
        _checked_in(period),
        ~exists().where(
            later.person_id == C.person_id,
            later.standard.is_(True),
            _checked_in(period, later),
            or_(
                later.checkup_date > C.checkup_date,
                and_(later.checkup_date == C.checkup_date, later.id > C.id),
            ),
        ),
    )


def in_force(period: AnyPeriod, signing: Any = S) -> ColumnElement[bool]:
    """The contract covers the reference date and had not ended by it."""
    day = period.end
    return and_(
        signing.start_date <= day,
        signing.end_date >= day,
        or_(signing.ended_on.is_(None), signing.ended_on > day),
    )


def signed_residents(period: AnyPeriod) -> Select[Any]:
    """The numerator of ``family_doctor_signing_rate``: contracts in force on the reference date (one per
    person: the residents service allows one active contract)."""
    return units(
        region_code=S.region_code,
        record_id=S.id,
        name=S.status,
        num=1,
        den=None,
        party_a=S.institution_id,
    ).where(in_force(period))


def renewals(period: AnyPeriod) -> Select[Any]:
    """Per contract whose term ended in the period and that ran to term or was renewed: renewed (1) or
    not (0) / 1."""
    renewal = aliased(SigningFact)
    renewed = exists().where(renewal.renewal_of_id == S.id)
    return units(
        region_code=S.region_code,
        record_id=S.id,
        name=S.status,
        num=case((renewed, 1), else_=0),
        den=1,
        party_a=S.institution_id,
    ).where(
        S.end_date >= period.start,
        S.end_date <= period.end,
        or_(S.ended_on.is_(None), S.ended_on >= S.end_date, renewed),
    )


def disabled_assessed(period: AnyPeriod) -> Select[Any]:
    """Per person assessed as 失能 in the period: their latest such assessment of the period."""
    later = aliased(AssessmentFact)

    def assessed_in(assessment: Any) -> ColumnElement[bool]:
        return and_(
            assessment.disabled.is_(True),
            assessment.assessed_on >= period.start,
            assessment.assessed_on <= period.end,
        )

    return units(
        region_code=A.region_code,
        record_id=A.id,
        name=A.level,
        num=1,
        den=None,
        party_a=A.institution_id,
    ).where(
        assessed_in(A),
        ~exists().where(
            later.person_id == A.person_id,
            assessed_in(later),
            or_(later.assessed_on > A.assessed_on, and_(later.assessed_on == A.assessed_on, later.id > A.id)),
        ),
    )
