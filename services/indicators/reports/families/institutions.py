"""Indicators of the registry's institutions: 医养结合 institutions and beds, public integrated beds,
绿色通道, large homes, 安宁疗护 counties, 老年友善.

Institutions count while ``active``. An institution's attributes are its current ones (the registry's
feed carries no history of them); what is dated is asked on the period's reference date: a 内设医疗机构
filing's acceptance, the 老年友善 recognition year, and the residents of the period's year (the registry's
year figures, ``institution_year_stat``: year-end residents), never today's ``residents``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, and_, case, exists, extract, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from services.indicators.facts.models import FilingFact, InstitutionFact, InstitutionYearStatFact
from services.indicators.reports.periods import Period
from services.indicators.reports.units import AnyPeriod, units

I = InstitutionFact  # noqa: E741
MEDICAL_KINDS = ("medical", "integrated")
ELDERLY_KINDS = ("elderly_care", "integrated")
GRADED = ("grade_1", "grade_2", "grade_3")
COMMUNITY_FACILITIES = ("rural_happiness_home", "day_care_center")


def period_year(period: AnyPeriod) -> ColumnElement[int]:
    """The calendar year of the period's reference date (a bound value, or the series' column)."""
    if isinstance(period, Period):
        return literal(period.year, Integer)
    return extract("year", period.end)


def year_residents(period: AnyPeriod) -> ColumnElement[int | None]:
    """The institution's residents for the period's year: the year-end figure of that year; when the
    registry holds none for it (the year is not over, or not filed yet), the latest earlier year's
    (fallback); NULL when it holds none up to that year — the institution's size is then unknown and it
    is not counted. Today's ``residents`` is never used."""
    S = InstitutionYearStatFact
    return (
        select(S.residents)
        .where(S.institution_id == I.id, S.year <= period_year(period))
        .order_by(S.year.desc())
        .limit(1)
        .scalar_subquery()
    )


def accepted_filing(period: AnyPeriod) -> ColumnElement[bool]:
    """The institution has a 内设医疗机构 filing accepted by the reference date (and not revoked)."""
    return exists().where(
        FilingFact.institution_id == I.id,
        FilingFact.state == "accepted",
        or_(FilingFact.accepted_at.is_(None), FilingFact.accepted_at < period.end_moment),
    )


def integrated(period: AnyPeriod) -> ColumnElement[bool]:
    """医养结合: kind ``integrated``; an elderly-care institution with an accepted 内设医疗机构 filing;
    a medical institution with registered elderly-care beds (两证齐全)."""
    return or_(
        I.kind == "integrated",
        and_(I.kind == "elderly_care", accepted_filing(period)),
        and_(I.kind == "medical", I.beds_elderly_care > 0),
    )


def beds() -> ColumnElement[int]:
    """An institution's beds: medical plus elderly-care."""
    return I.beds_medical + I.beds_elderly_care


def _institutions(num: Any, den: Any, *where: ColumnElement[bool]) -> Select[Any]:
    return units(
        region_code=I.region_code, record_id=I.id, name=I.name, num=num, den=den, party_a=I.id
    ).where(I.active.is_(True), *where)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def integrated_institutions(period: AnyPeriod) -> Select[Any]:
    return _institutions(1, None, integrated(period))


def integrated_beds(period: AnyPeriod) -> Select[Any]:
    return _institutions(beds(), None, integrated(period))


def public_integrated_beds(period: AnyPeriod) -> Select[Any]:
    """The numerator of ``public_integrated_beds_per_10k``: beds of the 医养结合 institutions that are
    public medical institutions (the denominator is the resident population, not a record)."""
    return _institutions(beds(), None, integrated(period), I.kind.in_(MEDICAL_KINDS), I.ownership == "public")


def green_channel_rate(_period: AnyPeriod) -> Select[Any]:
    return _institutions(
        _flag(I.elderly_green_channel.is_(True)), 1, I.kind.in_(MEDICAL_KINDS), I.hospital_grade.in_(GRADED)
    )


def large_homes_integrated(period: AnyPeriod) -> Select[Any]:
    """Elderly-care institutions with more than 100 residents in the period's year (see
    :func:`year_residents`) that are 医养结合 / all of them."""
    return _institutions(
        _flag(integrated(period)), 1, I.kind.in_(ELDERLY_KINDS), year_residents(period) > 100
    )


def hospice_institutions(_period: AnyPeriod) -> Select[Any]:
    """Medical institutions offering 安宁疗护: a county counts when it has at least one."""
    return _institutions(1, None, I.kind.in_(MEDICAL_KINDS), I.hospice_care.is_(True))


def elder_friendly_rate(period: AnyPeriod) -> Select[Any]:
    """Medical institutions recognised as 老年友善 by the period's year (recognised since a year ≤ it)
    / all medical institutions. The current ``elderly_friendly`` flag is not read: it says nothing of
    when."""
    recognised = I.elderly_friendly_year <= period_year(period)
    return _institutions(_flag(recognised), 1, I.kind.in_(MEDICAL_KINDS))


def elderly_care_proper() -> ColumnElement[bool]:
    """养老机构 proper: elderly-care or integrated institutions that are not community facilities
    (农村幸福院, 日间照料中心)."""
    return and_(I.kind.in_(ELDERLY_KINDS), I.category.not_in(COMMUNITY_FACILITIES))
