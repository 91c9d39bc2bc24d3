"""Indicators of the residents service: the 65+ health-management rate, check-ups, family-doctor signing
and renewal, 失能 elders assessed.

Every unit counts in the county the residents feed gives the record (``region_code``: the resident's
county when the record was made). Rules (indicators.md; what the residents service itself decides is
followed, so its own figures and ours agree):

- **规范健康管理率** (``health_management_rate``): people whose check-up record of the period's year is
  *standard* (规范, every required part done) by the reference date (``standard_date``) / the 65+
  population of that year (reference data). The residents service keeps one record per person and year,
  so a person counts once; a quarter's figure is the year to date.
- **老年人体检人次** (``elder_checkups``): check-up records opened in the period (their first part's date,
  ``first_date``): a year's figure is the people checked that year, quarters add up to it.
- **家庭医生签约率** (``family_doctor_signing_rate``): people aged 65 or over (on the contract's start date,
  ``elderly_at_start`` — the feed carries no birth date) with a contract **in force on the reference
  date** (start ≤ day ≤ its end, the end being the termination or transfer date when it ended early, as
  the residents' ``signings.rules.in_force``) / the **65+ population** (indicators.md: "resident
  population (or key groups)", denominator `likely`; the residents service holds the elders). On a
  transfer day both contracts are in force: the person counts once (the later contract is the unit).
- **家庭医生续签率** (``family_doctor_renewal_rate``): contracts **due** in the period — their end date
  falls in it, they ran to it (not terminated nor transferred), and they were renewed or their end date
  has passed — / of those, the renewed ones (as the residents' ``signings.rules`` define the rate).
- **失能老年人健康评估** (``disabled_elder_assessments``): people with an ability assessment in the period
  whose level is 失能 (level ≥ 1, 能力轻度受损 or worse, as the residents service classes it), each once
  (their latest such assessment of the period is the unit).

**Reporting** (DHIS2's reporting rate): a county *reports* a period's residents figures of a kind when the
platform holds at least one of its records of that kind for the period — the city platforms sync what
their public-health systems hold, and a county whose system has not synced has no record at all, which
is not the same as a county that checked nobody. A city's or the province's figure is summed over its
reporting counties only (numerator and denominator alike), with the coverage beside it; a region with no
reporting county has no figure (无上报), never 0 %. The records that make a county report:

- check-ups (``health_management_rate``, ``elder_checkups``): a check-up record of the period's year
  opened (first part done) by the reference date (:func:`checkups_reported`);
- contracts (``family_doctor_signing_rate``, ``family_doctor_renewal_rate``): a contract in force on at
  least one day of the period (:func:`signings_reported`);
- assessments (``disabled_elder_assessments``): an ability assessment, of any level, in the period
  (:func:`assessments_reported`).
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Date, Select, String, and_, case, cast, exists, func, literal, or_, tuple_
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from services.indicators.facts.models import AssessmentFact, CheckupFact, SigningFact
from services.indicators.reports.families.institutions import period_year
from services.indicators.reports.units import AnyPeriod, units

C = CheckupFact
S = SigningFact
A = AssessmentFact
#: the residents service's 失能: level 1 (能力轻度受损) to 4 (能力完全丧失); 0 is 能力完好
DISABLED_FROM_LEVEL: Final = 1
#: statuses of a contract that ran to its end date (the others ended early)
RAN_TO_TERM: Final = ("active", "renewed", "expired")


def elder_checkups(period: AnyPeriod) -> Select[Any]:
    return units(
        region_code=C.region_code,
        record_id=C.id,
        name=case((C.standard.is_(True), literal("规范")), else_=literal("未完成")),
        num=1,
        den=None,
        party_a=C.institution_id,
    ).where(C.first_date >= period.start, C.first_date <= period.end)


def health_managed(period: AnyPeriod) -> Select[Any]:
    """The numerator of ``health_management_rate`` (its denominator is the 65+ population)."""
    return units(
        region_code=C.region_code,
        record_id=C.id,
        name=literal("规范"),
        num=1,
        den=None,
        party_a=C.institution_id,
    ).where(
        C.year == period_year(period),
        C.standard.is_(True),
        or_(C.standard_date.is_(None), C.standard_date <= period.end),
    )


def later_than(day: Any, record_id: Any, than_day: Any, than_id: Any) -> ColumnElement[bool]:
    """``(day, record_id) > (than_day, than_id)``: a later record of the same person, ties broken by id.
    As one row comparison (not ``day > … OR (day = … AND id > …)``) it is one range of the index
    (person_id, day, id): without statistics PostgreSQL otherwise intersected the person's rows with
    every row of the date range, once per record (6.7 s for the province's signing rate at scale S)."""
    return tuple_(day, record_id) > tuple_(than_day, than_id)


def in_force(period: AnyPeriod, signing: Any = S) -> ColumnElement[bool]:
    """The contract covers the reference date (its end: the early end if it ended early)."""
    day = period.end
    return and_(signing.start_date <= day, func.coalesce(signing.ended_date, signing.end_date) >= day)


def signed_residents(period: AnyPeriod) -> Select[Any]:
    """The numerator of ``family_doctor_signing_rate``: per person aged 65+ with a contract in force on
    the reference date, the latest such contract."""
    later = aliased(SigningFact)
    return units(
        region_code=S.region_code,
        record_id=S.id,
        name=S.status,
        num=1,
        den=None,
        party_a=S.institution_id,
    ).where(
        S.elderly_at_start.is_(True),
        in_force(period),
        ~exists().where(
            later.person_id == S.person_id,
            in_force(period, later),
            later_than(later.start_date, later.id, S.start_date, S.id),
        ),
    )


def renewals(period: AnyPeriod) -> Select[Any]:
    """Per contract due for renewal in the period: renewed (1) or not (0) / 1. Whether an unrenewed end
    date "has passed" is asked on the day the period is asked on (``asked_on``: the app's clock, China): a
    contract still running is not due yet."""
    today = literal(period.asked_on, Date)
    renewed = S.status == "renewed"
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
        S.status.in_(RAN_TO_TERM),
        or_(renewed, S.end_date < today),
    )


def disabled_assessed(period: AnyPeriod) -> Select[Any]:
    """Per person assessed as 失能 in the period: their latest such assessment of the period."""
    later = aliased(AssessmentFact)

    def assessed_in(assessment: Any) -> ColumnElement[bool]:
        return and_(
            assessment.level >= DISABLED_FROM_LEVEL,
            assessment.assessed_date >= period.start,
            assessment.assessed_date <= period.end,
        )

    return units(
        region_code=A.region_code,
        record_id=A.id,
        name=literal("等级 ").concat(cast(A.level, String)),
        num=1,
        den=None,
        party_a=A.institution_id,
    ).where(
        assessed_in(A),
        ~exists().where(
            later.person_id == A.person_id,
            assessed_in(later),
            later_than(later.assessed_date, later.id, A.assessed_date, A.id),
        ),
    )


# ------------------------------------------------------------------------------------- reporting
def checkups_reported(period: AnyPeriod) -> Select[Any]:
    """The records that make a county report its check-up figures: its records of the period's year
    opened by the reference date."""
    return units(
        region_code=C.region_code,
        record_id=C.id,
        name=literal("体检记录"),
        num=1,
        den=None,
        party_a=C.institution_id,
    ).where(C.year == period_year(period), C.first_date <= period.end)


def signings_reported(period: AnyPeriod) -> Select[Any]:
    """The records that make a county report its signing figures: contracts in force on a day of the
    period (started by its end, not ended before its start)."""
    return units(
        region_code=S.region_code, record_id=S.id, name=S.status, num=1, den=None, party_a=S.institution_id
    ).where(S.start_date <= period.end, func.coalesce(S.ended_date, S.end_date) >= period.start)


def assessments_reported(period: AnyPeriod) -> Select[Any]:
    """The records that make a county report its assessment figures: assessments in the period."""
    return units(
        region_code=A.region_code,
        record_id=A.id,
        name=literal("能力评估"),
        num=1,
        den=None,
        party_a=A.institution_id,
    ).where(A.assessed_date >= period.start, A.assessed_date <= period.end)
