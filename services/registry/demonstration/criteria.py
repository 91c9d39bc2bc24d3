"""The hard criteria of a 示范机构, computed from registry figures (never typed by the applicant).

Definitions (rules.md 示范; thresholds are the batch's, copied from the registry settings):

- **Operating years** — for the medical side and the elderly-care side separately: the side qualifies
  when its ``operating_since`` date plus ``operating_years_min`` years falls on or before the batch's
  cut-off date ("exactly 5 years to the day counts": 2021-03-31 → 2026-03-31 passes, 2021-04-01 fails).
  A 29 February start reaches its anniversary on 28 February of a common year (民法典 第二百零二条: a
  period without a corresponding day ends on the last day of the month). The margin is in days
  (cut-off − anniversary): ≥ 0 passes, −1 means one day short.
- **Occupancy** — the two complete calendar years before the cut-off (cut-off 2026-03-31 → 2024 and
  2025; a cut-off on 31 December counts its own year). *Each* of the two years must reach the
  threshold: occupancy ≥ 65 % passes, exactly 65 % included. A missing year fails.
- **失能/失智 share** — residents who are 失能 or 失智 over all residents, in the later of the two years:
  strictly greater than 65 % (exactly 65 % fails, 65.01 % passes).

Comparisons are exact (fractions of integers); displayed figures and margins are rounded down to 2
decimals (64.9973 % shows as 64.99 with a margin of −0.01; pass/fail is decided on the exact value).
Satisfaction (≥ 95 %) and "no major incident in 5 years" are declared by the applicant and shown as
soft criteria: they do not block submission.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction

from services.registry.demonstration.schemas import CriterionResult, YearBreakdown

TWO_PLACES = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Thresholds:
    operating_cutoff_date: date
    operating_years_min: int
    occupancy_min_pct: int
    disabled_share_min_pct: int
    satisfaction_min_pct: int


@dataclass(frozen=True, slots=True)
class YearFigures:
    """One year of an institution's registry figures, as percentages kept exact."""

    year: int
    occupancy_pct: Fraction | None
    residents: int | None
    disabled_or_dementia_residents: int | None
    operating_beds: int | None = None


@dataclass(frozen=True, slots=True)
class InstitutionFacts:
    medical_operating_since: date | None
    elderly_care_operating_since: date | None
    years: tuple[YearFigures, ...]


def shown(value: Fraction) -> str:
    """A figure for display: 2 decimals, rounded down (a shortfall never shows as 0.00, a rate never
    shows above what it is)."""
    quantised = (Decimal(value.numerator) / Decimal(value.denominator)).quantize(TWO_PLACES, ROUND_FLOOR)
    return str(quantised)


def percent(numerator: int, denominator: int) -> Fraction | None:
    if denominator <= 0 or numerator < 0:
        return None
    return Fraction(numerator * 100, denominator)


def anniversary(start: date, years: int) -> date:
    """``start`` plus whole years; 29 February becomes 28 February in a common year."""
    year = start.year + years
    day = min(start.day, calendar.monthrange(year, start.month)[1])
    return date(year, start.month, day)


def completed_years(start: date, on: date) -> int:
    """Whole years from ``start`` up to and including ``on``."""
    years = on.year - start.year
    if anniversary(start, years) > on:
        years -= 1
    return max(years, 0)


def assessment_years(cutoff: date) -> tuple[int, int]:
    """The two complete calendar years before the cut-off (a 31 December cut-off includes its year)."""
    last = cutoff.year if (cutoff.month, cutoff.day) == (12, 31) else cutoff.year - 1
    return (last - 1, last)


def operating_years(code: str, label: str, since: date | None, thresholds: Thresholds) -> CriterionResult:
    cutoff = thresholds.operating_cutoff_date
    minimum = thresholds.operating_years_min
    if since is None:
        return CriterionResult(
            code=code,
            label=label,
            hard=True,
            passed=False,
            threshold=str(minimum),
            comparison=">=",
            unit="年",
            detail=f"机构登记信息中没有{label[:4]}开展时间，无法计算运营年限",
        )
    qualifying = anniversary(since, minimum)
    margin_days = (cutoff - qualifying).days
    passed = margin_days >= 0
    years = completed_years(since, cutoff)
    if passed:
        detail = (
            f"{since.isoformat()} 开展，至 {cutoff.isoformat()} 满 {years} 年"
            f"（{qualifying.isoformat()} 满 {minimum} 年）"
        )
    else:
        detail = (
            f"{since.isoformat()} 开展，至 {cutoff.isoformat()} 仅满 {years} 年，"
            f"{qualifying.isoformat()} 才满 {minimum} 年，差 {-margin_days} 天"
        )
    return CriterionResult(
        code=code,
        label=label,
        hard=True,
        passed=passed,
        value=str(years),
        threshold=str(minimum),
        comparison=">=",
        unit="年",
        margin=str(margin_days),
        margin_unit="天",
        detail=detail,
    )


def occupancy(facts: InstitutionFacts, thresholds: Thresholds) -> CriterionResult:
    minimum = Fraction(thresholds.occupancy_min_pct)
    wanted = assessment_years(thresholds.operating_cutoff_date)
    by_year = {y.year: y for y in facts.years}
    breakdown: list[YearBreakdown] = []
    problems: list[str] = []
    rates: list[Fraction] = []
    for year in wanted:
        figures = by_year.get(year)
        rate = figures.occupancy_pct if figures is not None else None
        if rate is None:
            breakdown.append(YearBreakdown(year=year, passed=False))
            problems.append(f"机构登记信息缺少 {year} 年的床位使用数据")
            continue
        rates.append(rate)
        breakdown.append(
            YearBreakdown(year=year, value=shown(rate), margin=shown(rate - minimum), passed=rate >= minimum)
        )
        if rate < minimum:
            problems.append(
                f"{year} 年 {shown(rate)}%，未达到 {minimum}%（差 {shown(rate - minimum)[1:]} 个百分点）"
            )
    lowest = min(rates) if rates else None
    passed = not problems
    return CriterionResult(
        code="occupancy",
        label="近两年床位使用率",
        hard=True,
        passed=passed,
        value=shown(lowest) if lowest is not None else None,
        threshold=str(thresholds.occupancy_min_pct),
        comparison=">=",
        unit="%",
        margin=shown(lowest - minimum) if lowest is not None else None,
        margin_unit="个百分点",
        detail=f"{wanted[0]}、{wanted[1]} 年床位使用率均不低于 {minimum}%" if passed else "；".join(problems),
        years=breakdown,
    )


def disabled_share(facts: InstitutionFacts, thresholds: Thresholds) -> CriterionResult:
    minimum = Fraction(thresholds.disabled_share_min_pct)
    year = assessment_years(thresholds.operating_cutoff_date)[1]
    figures = next((y for y in facts.years if y.year == year), None)
    share = None
    if figures is not None and figures.residents and figures.disabled_or_dementia_residents is not None:
        share = percent(figures.disabled_or_dementia_residents, figures.residents)
    if figures is None or share is None:
        detail = f"机构登记信息缺少 {year} 年的入住人数或失能、失智人数"
        passed = False
    else:
        passed = share > minimum
        detail = (
            f"{year} 年入住 {figures.residents} 人，"
            f"其中失能、失智 {figures.disabled_or_dementia_residents} 人，"
            f"占 {shown(share)}%，{'高于' if passed else '未超过'} {minimum}%"
        )
    return CriterionResult(
        code="disabled_share",
        label="失能、失智老年人占比",
        hard=True,
        passed=passed,
        value=shown(share) if share is not None else None,
        threshold=str(thresholds.disabled_share_min_pct),
        comparison=">",
        unit="%",
        margin=shown(share - minimum) if share is not None else None,
        margin_unit="个百分点",
        detail=detail,
    )


def satisfaction(declared_pct: float | None, thresholds: Thresholds) -> CriterionResult:
    minimum = Fraction(thresholds.satisfaction_min_pct)
    value = Fraction(Decimal(str(declared_pct))) if declared_pct is not None else None
    return CriterionResult(
        code="satisfaction",
        label="服务对象满意度（自报）",
        hard=False,
        passed=value >= minimum if value is not None else None,
        value=shown(value) if value is not None else None,
        threshold=str(thresholds.satisfaction_min_pct),
        comparison=">=",
        unit="%",
        margin=shown(value - minimum) if value is not None else None,
        margin_unit="个百分点",
        detail=(
            "申报单位尚未填写满意度"
            if value is None
            else f"自报满意度 {shown(value)}%（参考指标，不作为申报门槛）"
        ),
    )


def no_major_incident(declared: bool | None) -> CriterionResult:
    if declared is None:
        detail = "申报单位尚未声明"
    else:
        detail = "已声明近5年无重大安全责任事故" if declared else "申报单位声明近5年发生过重大安全责任事故"
    return CriterionResult(
        code="no_major_incident",
        label="近5年无重大安全责任事故（自报）",
        hard=False,
        passed=declared,
        detail=detail,
    )


def institution_criteria(
    facts: InstitutionFacts,
    thresholds: Thresholds,
    *,
    declared_satisfaction_pct: float | None,
    declared_no_major_incident: bool | None,
) -> list[CriterionResult]:
    return [
        operating_years(
            "medical_operating_years", "医疗服务开展年限", facts.medical_operating_since, thresholds
        ),
        operating_years(
            "elderly_care_operating_years", "养老服务开展年限", facts.elderly_care_operating_since, thresholds
        ),
        occupancy(facts, thresholds),
        disabled_share(facts, thresholds),
        satisfaction(declared_satisfaction_pct, thresholds),
        no_major_incident(declared_no_major_incident),
    ]
