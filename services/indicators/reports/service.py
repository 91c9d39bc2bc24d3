"""The reports: per-county figures of each indicator (one statement for all), summed up the levels.

Rates, and figures per 10,000 residents, are recomputed from the summed numerators and denominators,
never averaged. An indicator the platform holds no facts for, a population not loaded, an empty
denominator: the figure is missing with its reason, never 0.

A figure fed by the city platforms (the residents' figures: ``Definition.reporting``) is summed over the
counties that *report* it (hold at least one record of its kind for the period,
families/residents.py), and shown with its coverage: reporting counties / counties, and the share of the
65+ population they hold. A region none of whose counties reports has no figure (无上报).
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Select, and_, false, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from libs.common import divisions
from libs.common.aggregate_plans import plan_for_aggregates
from libs.common.auth import Principal
from libs.common.errors import Forbidden, Unprocessable
from libs.common.pagination import encode_cursor
from services.indicators.followers.models import FeedCursor
from services.indicators.reference.catalogue import Unit
from services.indicators.reference.service import PopulationRow, TargetRow, population, targets
from services.indicators.reports import schemas
from services.indicators.reports.catalog import (
    DEFINITIONS,
    EMPTY_DENOMINATOR,
    NO_POPULATION,
    NO_REPORTS,
    NO_RESIDENT_SERVICES,
    Definition,
    Reporting,
    baselines,
)
from services.indicators.reports.periods import Period
from services.indicators.reports.regions import Region, region_of
from services.indicators.reports.units import COUNTY, PeriodColumns, for_each_period

Counts = dict[str, tuple[int, int | None]]  # county → (numerator, denominator)
Reporters = dict[str, set[str]]  # reporting code → the counties that report
MAX_EXPORT_ROWS = 100_000


def definition_of(code: str) -> Definition:
    definition = DEFINITIONS.get(code)
    if definition is None:
        raise Unprocessable(f"未知的指标 {code}", code="unknown_indicator")
    return definition


POPULATION_METHODS = ("population", "aged")


async def live_feeds(session: AsyncSession) -> set[str]:
    """The followed feeds that have delivered at least one entry (their cursor has a last seq)."""
    rows = await session.execute(select(FeedCursor.feed).where(FeedCursor.last_seq.is_not(None)))
    return {feed for (feed,) in rows.all()}


async def live(session: AsyncSession, definitions: Iterable[Definition]) -> list[Definition]:
    """``definitions`` as the report reads them now: one whose facts come from a feed that has delivered
    nothing yet (the residents service not live) is missing with that reason, not 0."""
    chosen = list(definitions)
    if not any(d.feed for d in chosen):
        return chosen
    feeds = await live_feeds(session)
    return [
        dataclasses.replace(d, missing=NO_RESIDENT_SERVICES)
        if d.feed is not None and d.feed not in feeds and d.missing is None
        else d
        for d in chosen
    ]


async def live_one(session: AsyncSession, definition: Definition) -> Definition:
    return (await live(session, [definition]))[0]


#: whose contribution a statement counts: (institution user?, their institution) — all a statement
#: reads of the caller
Party = tuple[bool, uuid.UUID | None]


def party_of(principal: Principal) -> Party:
    return (principal.is_institution_user, principal.institution_id)


def _party_condition(principal: Principal | Party, units: Any) -> list[ColumnElement[bool]]:
    """An institution user's contribution: the units its institution is a party to."""
    institution_user, institution_id = principal if isinstance(principal, tuple) else party_of(principal)
    if not institution_user:
        return []
    if institution_id is None:
        return [false()]
    return [or_(units.c.party_a == institution_id, units.c.party_b == institution_id)]


def _county_sums(
    definition: Definition, period: Period, region: Region, party: Principal | Party
) -> Select[tuple[str, str, Any, Any]]:
    """The definition's units in ``region``: its code, and numerator and denominator per county."""
    assert definition.builder is not None
    units = definition.builder(period).subquery()
    return (
        select(
            literal(definition.code).label("code"),
            units.c.region_code,
            func.sum(units.c.num).label("num"),
            func.sum(units.c.den).label("den"),
        )
        .where(region.condition(units.c.region_code), *_party_condition(party, units))
        .group_by(units.c.region_code)
    )


# The statements of a report, built once per (definitions, period and the day it is asked on, region,
# party): building the builders' SQLAlchemy trees cost a fresh report more Python than anything else
# (16t). A statement is immutable once built; each execution binds its own values, whatever session.
# A province statement holds ~0.75 MB of Python objects: 32 of each kind at most.
@lru_cache(maxsize=32)
def _county_counts_statement(
    definitions: tuple[Definition, ...], period: Period, asked_on: date, region: Region, party: Party
) -> Select[Any]:
    parts = [_county_sums(d, period, region, party) for d in definitions]
    return parts[0] if len(parts) == 1 else union_all(*parts)  # type: ignore[return-value]


@lru_cache(maxsize=32)
def _reporting_statement(
    reportings: tuple[Reporting, ...], period: Period, asked_on: date, region: Region
) -> Select[Any]:
    parts = [_reporting_counts(r, period, region) for r in reportings]
    return parts[0] if len(parts) == 1 else union_all(*parts)  # type: ignore[return-value]


async def county_counts(
    session: AsyncSession, definition: Definition, period: Period, region: Region, principal: Principal
) -> Counts:
    """One statement: the definition's units in ``region``, numerator and denominator per county."""
    return (await all_county_counts(session, [definition], period, region, principal))[definition.code]


async def all_county_counts(
    session: AsyncSession,
    definitions: Sequence[Definition],
    period: Period,
    region: Region,
    principal: Principal,
) -> dict[str, Counts]:
    """Each definition's per-county counts in ONE statement (a UNION ALL of their GROUP BYs, one round
    trip instead of one per indicator); the same sums as each definition's statement alone."""
    if not definitions:
        return {}
    stmt = _county_counts_statement(tuple(definitions), period, period.asked_on, region, party_of(principal))
    found: dict[str, dict[str, tuple[Any, Any]]] = {d.code: {} for d in definitions}
    for code, county, num, den in (await session.execute(stmt)).all():
        found[code][county] = (num, den)
    return {d.code: _counts(d, region, found[d.code]) for d in definitions}


async def series_counts(
    session: AsyncSession,
    definition: Definition,
    periods: Sequence[Period],
    region: Region,
    principal: Principal,
) -> list[Counts]:
    """One statement for the whole range: the definition's units joined to each period (a derived table
    of the periods, see units.PeriodColumns), numerator and denominator per period and county. The same
    units as :func:`county_counts` asks period by period, so each period's counts are the same."""
    assert definition.builder is not None
    columns = PeriodColumns(periods)
    units = for_each_period(definition.builder(columns), columns).subquery()
    stmt = (
        select(units.c.period_key, units.c.region_code, func.sum(units.c.num), func.sum(units.c.den))
        .where(region.condition(units.c.region_code), *_party_condition(principal, units))
        .group_by(units.c.period_key, units.c.region_code)
    )
    found: list[dict[str, tuple[Any, Any]]] = [{} for _ in periods]
    for key, county, num, den in (await session.execute(stmt)).all():
        found[int(key)][county] = (num, den)
    return [_counts(definition, region, counts) for counts in found]


def _reporting_counts(reporting: Reporting, period: Period, region: Region) -> Select[Any]:
    """Per county of ``region``, how many records make it report (asked whoever reads: whether a county
    reports is not an institution's contribution)."""
    units = reporting.builder(period).subquery()
    return (
        select(literal(reporting.code).label("code"), units.c.region_code, func.count().label("n"))
        .where(region.condition(units.c.region_code))
        .group_by(units.c.region_code)
    )


def reportings_of(definitions: Iterable[Definition]) -> list[Reporting]:
    """The distinct reporting rules of ``definitions`` that are computed (not missing)."""
    found: dict[str, Reporting] = {}
    for d in definitions:
        if d.reporting is not None and d.missing is None:
            found.setdefault(d.reporting.code, d.reporting)
    return list(found.values())


async def reporting_counties(
    session: AsyncSession, reportings: Sequence[Reporting], period: Period, region: Region
) -> Reporters:
    """ONE statement: for each reporting rule, the counties of ``region`` that report ``period``."""
    found: Reporters = {r.code: set() for r in reportings}
    if not reportings:
        return found
    stmt = _reporting_statement(tuple(reportings), period, period.asked_on, region)
    for code, county, n in (await session.execute(stmt)).all():
        if n:
            found[code].add(county)
    return found


async def series_reporting(
    session: AsyncSession, reporting: Reporting, periods: Sequence[Period], region: Region
) -> list[set[str]]:
    """ONE statement: per period of the series, the counties of ``region`` that report it."""
    columns = PeriodColumns(periods)
    units = for_each_period(reporting.builder(columns), columns).subquery()
    stmt = (
        select(units.c.period_key, units.c.region_code, func.count())
        .where(region.condition(units.c.region_code))
        .group_by(units.c.period_key, units.c.region_code)
    )
    found: list[set[str]] = [set() for _ in periods]
    for key, county, n in (await session.execute(stmt)).all():
        if n:
            found[int(key)].add(county)
    return found


async def response_minutes(
    session: AsyncSession, definition: Definition, period: Period, region: Region, principal: Principal
) -> dict[str, list[float]]:
    """Per county, the response times (minutes, request → accept) behind the figure's median."""
    assert definition.response_times is not None
    rows = definition.response_times(period).subquery()
    stmt = select(rows.c.region_code, rows.c.requested_at, rows.c.accepted_at).where(
        region.condition(rows.c.region_code), *_party_condition(principal, rows)
    )
    found: dict[str, list[float]] = {}
    for county, requested, accepted in (await session.execute(stmt)).all():
        found.setdefault(county, []).append((accepted - requested).total_seconds() / 60)
    return found


def _counts(definition: Definition, region: Region, found: dict[str, tuple[Any, Any]]) -> Counts:
    """The sums of a region's counties as numbers; for a "counties" indicator, 1 per county with a unit."""
    counties = set(region.counties())
    counts: Counts = {
        county: (int(num or 0), None if den is None else int(den))
        for county, (num, den) in found.items()
        if county in counties
    }
    if definition.method == "counties":
        return {county: (1 if counts.get(county, (0, None))[0] > 0 else 0, 1) for county in counties}
    return counts


@dataclass(frozen=True, slots=True)
class Computed:
    numerator: int | None
    denominator: int | None
    value: float | None
    reason: str | None


def compute(
    definition: Definition,
    counts: Counts,
    counties: Iterable[str],
    people: dict[str, PopulationRow],
    reporters: Reporters | None = None,
) -> Computed:
    """The figure of a region (its ``counties``) from the per-county counts; a figure with a reporting
    rule over the counties that report it (``reporters``), none when no county does."""
    if definition.missing is not None:
        return Computed(None, None, None, definition.missing)
    counties = list(counties)
    if definition.reporting is not None and reporters is not None:
        reporting = reporters.get(definition.reporting.code, set())
        counties = [c for c in counties if c in reporting]
        if not counties:
            return Computed(None, None, None, NO_REPORTS)
    numerator = sum(counts.get(c, (0, None))[0] for c in counties)
    if definition.method in POPULATION_METHODS:
        if not counties or any(c not in people for c in counties):
            return Computed(numerator, None, None, NO_POPULATION)
        if definition.method == "aged":
            aged = sum(people[c].aged_65_plus for c in counties)
            if aged == 0:
                return Computed(numerator, 0, None, EMPTY_DENOMINATOR)
            return Computed(numerator, aged, numerator / aged, None)
        residents = sum(people[c].residents for c in counties)
        if residents == 0:
            return Computed(numerator, 0, None, EMPTY_DENOMINATOR)
        return Computed(numerator, residents, numerator * 10_000 / residents, None)
    if definition.denominator is None:
        return Computed(numerator, None, float(numerator), None)
    denominator = sum(counts.get(c, (0, 0))[1] or 0 for c in counties)
    if denominator == 0:
        return Computed(numerator, 0, None, EMPTY_DENOMINATOR)
    return Computed(numerator, denominator, numerator / denominator, None)


# ----------------------------------------------------------------------------------------- targets
def _short_by(target: TargetRow, value: float) -> float:
    gap = Decimal(str(value)) - target.value
    if target.comparison in ("gte", "gt"):
        return float(max(-gap, Decimal(0)))
    if target.comparison == "lte":
        return float(max(gap, Decimal(0)))
    return float(abs(gap))


def _applicable(
    all_targets: Sequence[TargetRow], code: str, region: Region, period: Period
) -> list[TargetRow]:
    """The targets of ``code`` that apply to ``region``: the region's own, and the "each county" targets of
    a region overlapping it — per (region, each county) the first due on or after the reference date, else
    the latest one due before it."""
    counties = set(region.counties())
    chosen: dict[tuple[str, bool], TargetRow] = {}
    for target in all_targets:
        if target.indicator != code:
            continue
        if target.each_county:
            if divisions.get(target.region_code) is None or not counties & set(
                region_of(target.region_code).counties()
            ):
                continue
        elif target.region_code != region.code:
            continue
        key = (target.region_code, target.each_county)
        current = chosen.get(key)
        if current is None or _better(target, current, period.end):
            chosen[key] = target
    return list(chosen.values())


def _better(candidate: TargetRow, current: TargetRow, reference: date) -> bool:
    if candidate.due_date >= reference:
        return current.due_date < reference or candidate.due_date < current.due_date
    return current.due_date < reference and candidate.due_date > current.due_date


def administered_counties(region: Region) -> tuple[str, ...]:
    """The counties an "each county" target is evaluated in: not 金门县, which is listed in GB/T 2260 but
    has no Fujian health administration (no institution, population or figure to evaluate)."""
    return _administered(region)


@cache
def _administered(region: Region) -> tuple[str, ...]:  # the divisions are constants
    return tuple(c for c in region.counties() if (d := divisions.get(c)) is None or d.administered)


def target_status(
    target: TargetRow,
    definition: Definition,
    region: Region,
    counts: Counts,
    people: dict[str, PopulationRow],
    whole: Computed,
    reporters: Reporters | None = None,
    min_coverage: float = 0.0,
) -> schemas.TargetStatus:
    base: dict[str, Any] = {
        "region_code": target.region_code,
        "each_county": target.each_county,
        "comparison": target.comparison.value,
        "value": float(target.value),
        "due_date": target.due_date,
        "source": target.source,
    }
    if not target.each_county:
        if whole.value is None:
            return schemas.TargetStatus(**base, status="missing", short_by=None, reason=whole.reason)
        thin = coverage_shortfall(definition, region_of(target.region_code), reporters, people, min_coverage)
        if thin is not None:
            return schemas.TargetStatus(**base, status="missing", short_by=None, reason=thin)
        met = target.met_by(whole.value)
        short = None if met else _short_by(target, whole.value)
        return schemas.TargetStatus(**base, status="met" if met else "short", short_by=short)
    covered = set(administered_counties(region_of(target.region_code)))
    failing: list[schemas.CountyShort] = []
    missing = False
    for county in (c for c in region.counties() if c in covered):
        figure = compute(definition, counts, [county], people, reporters)
        if figure.value is None:
            missing = True
            failing.append(_county_short(county, None, None, figure.reason))
        elif not target.met_by(figure.value):
            failing.append(_county_short(county, figure.value, _short_by(target, figure.value), None))
    any_short = any(f.short_by is not None for f in failing)
    status: schemas.TargetState = "short" if any_short else "missing" if missing else "met"
    reason = next((f.reason for f in failing if f.reason), None) if status == "missing" else None
    return schemas.TargetStatus(**base, status=status, short_by=None, counties_short=failing, reason=reason)


def _county_short(
    county: str, value: float | None, short: float | None, reason: str | None
) -> schemas.CountyShort:
    division = divisions.get(county)
    return schemas.CountyShort(
        region_code=county,
        region_name=division.name if division else county,
        value=value,
        short_by=short,
        reason=reason,
    )


def coverage(
    definition: Definition, region: Region, reporters: Reporters, people: dict[str, PopulationRow]
) -> schemas.ReportingCoverage | None:
    """Beside a figure with a reporting rule: how many of the region's counties report it and the share
    of the region's 65+ population they hold (null while the population of the year is not loaded)."""
    if definition.reporting is None or definition.missing is not None:
        return None
    counties = administered_counties(region)
    reporting = [c for c in counties if c in reporters.get(definition.reporting.code, set())]
    aged = sum(people[c].aged_65_plus for c in counties) if all(c in people for c in counties) else None
    aged_reporting = sum(people[c].aged_65_plus for c in reporting) if aged is not None else None
    return schemas.ReportingCoverage(
        records=definition.reporting.label,
        reporting_counties=len(reporting),
        counties=len(counties),
        aged_65_plus_reporting=aged_reporting,
        aged_65_plus=aged,
        aged_65_plus_share=None if not aged or aged_reporting is None else aged_reporting / aged,
    )


def coverage_shortfall(
    definition: Definition,
    region: Region,
    reporters: Reporters | None,
    people: dict[str, PopulationRow],
    min_share: float,
) -> str | None:
    """Why a figure summed over its reporting counties is not judged against the region's target: the
    counties that report hold less than ``min_share`` of the region's 65+ population (a province figure
    from one county out of 83 says nothing about the province). None when it may be judged."""
    if reporters is None:
        return None
    held = coverage(definition, region, reporters, people)
    if held is None or held.aged_65_plus_share is None or held.aged_65_plus_share >= min_share:
        return None
    return (
        f"上报覆盖不足：{held.reporting_counties}/{held.counties} 个县（区）上报，"
        f"占65岁及以上人口 {held.aged_65_plus_share:.1%}，低于目标评价所需的 {min_share:.0%}"
    )


# ------------------------------------------------------------------------------------------ report
@dataclass
class ReportData:
    """Everything a report is made of: per-county counts of every computed indicator, the population,
    the targets."""

    period: Period
    region: Region
    counts: dict[str, Counts]
    people: dict[str, PopulationRow]
    targets: list[TargetRow]
    # per indicator with a median response time: per county, the minutes it is taken over
    minutes: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    # every indicator as read now (see :func:`live`)
    definitions: list[Definition] = field(default_factory=lambda: list(DEFINITIONS.values()))
    # per reporting rule, the counties that report the period
    reporters: Reporters = field(default_factory=dict)
    # the share of the 65+ population its reporting counties must hold for a region's target to be judged
    min_coverage: float = 0.0

    def median_minutes(self, definition: Definition, region: Region) -> float | None:
        by_county = self.minutes.get(definition.code)
        if by_county is None:
            return None
        values = [m for county in region.counties() for m in by_county.get(county, [])]
        return round(statistics.median(values), 1) if values else None

    def figure(self, definition: Definition, region: Region, *, with_targets: bool = True) -> schemas.Figure:
        counts = self.counts.get(definition.code, {})
        computed = compute(definition, counts, region.counties(), self.people, self.reporters)
        baseline = baselines().get((definition.code, region.code))
        return schemas.Figure(
            indicator=definition.code,
            name=definition.name,
            unit=definition.unit.value,
            numerator_label=definition.numerator,
            denominator_label=definition.denominator,
            numerator=computed.numerator,
            denominator=computed.denominator,
            value=computed.value,
            status="missing" if computed.value is None else "computed",
            missing_reason=computed.reason,
            median_response_minutes=self.median_minutes(definition, region),
            coverage=coverage(definition, region, self.reporters, self.people),
            baseline=(
                schemas.Baseline(
                    region_code=baseline.region_code,
                    year=baseline.year,
                    value=float(baseline.value),
                    source=baseline.source,
                    note=baseline.note,
                )
                if baseline
                else None
            ),
            targets=(
                [
                    target_status(
                        t,
                        definition,
                        region,
                        counts,
                        self.people,
                        computed,
                        self.reporters,
                        self.min_coverage,
                    )
                    for t in _applicable(self.targets, definition.code, region, self.period)
                ]
                if with_targets
                else []
            ),
        )

    def region_figures(self, region: Region) -> schemas.RegionFigures:
        return schemas.RegionFigures(
            region_code=region.code,
            region_name=region.name,
            level=region.level,
            figures=[self.figure(d, region) for d in self.definitions],
        )


async def report_data(
    session: AsyncSession,
    principal: Principal,
    region: Region,
    period: Period,
    codes: Iterable[str] | None = None,
    *,
    min_coverage: float = 0.0,
) -> ReportData:
    await plan_for_aggregates(session)
    every = await live(session, DEFINITIONS.values())
    wanted = set(codes) if codes is not None else None
    chosen = [d for d in every if wanted is None or d.code in wanted]
    counts = await all_county_counts(
        session, [d for d in chosen if d.missing is None], period, region, principal
    )
    reportings = reportings_of(chosen)
    reporters = await reporting_counties(session, reportings, period, region)
    people = (
        await population(session, period.year)
        if reportings or any(d.method in POPULATION_METHODS for d in chosen)
        else {}
    )
    minutes = {
        d.code: await response_minutes(session, d, period, region, principal)
        for d in chosen
        if d.missing is None and d.response_times is not None
    }
    return ReportData(
        period, region, counts, people, await targets(session), minutes, every, reporters, min_coverage
    )


def report(data: ReportData, principal: Principal) -> schemas.Report:
    breakdown = [] if principal.is_institution_user else data.region.children()
    return schemas.Report(
        period=data.period.label,
        reference_date=data.period.end,
        institution_id=str(principal.institution_id) if principal.is_institution_user else None,
        region=data.region_figures(data.region),
        breakdown=[data.region_figures(child) for child in breakdown],
    )


# ------------------------------------------------------------------------------------------ series
async def series(
    session: AsyncSession, principal: Principal, definition: Definition, region: Region, periods: list[Period]
) -> list[schemas.SeriesPoint]:
    """The indicator for each period: ONE statement for the whole range (see :func:`series_counts`), and
    the population of each year in it when the indicator is per 10,000 residents (or per 65+ person)."""
    definition = await live_one(session, definition)
    all_counts = (
        await series_counts(session, definition, periods, region, principal)
        if definition.missing is None
        else [{} for _ in periods]
    )
    reporting = definition.reporting
    all_reporters: list[Reporters | None] = (
        [
            {reporting.code: counties}
            for counties in await series_reporting(session, reporting, periods, region)
        ]
        if reporting is not None and definition.missing is None
        else [None for _ in periods]
    )
    people_by_year: dict[int, dict[str, PopulationRow]] = {}
    if definition.method in POPULATION_METHODS:
        for year in sorted({p.year for p in periods}):
            people_by_year[year] = await population(session, year)
    points = []
    for period, counts, reporters in zip(periods, all_counts, all_reporters, strict=True):
        computed = compute(
            definition, counts, region.counties(), people_by_year.get(period.year, {}), reporters
        )
        points.append(
            schemas.SeriesPoint(
                period=period.label,
                reference_date=period.end,
                numerator=computed.numerator,
                denominator=computed.denominator,
                value=computed.value,
                status="missing" if computed.value is None else "computed",
                missing_reason=computed.reason,
            )
        )
    return points


# -------------------------------------------------------------------------------------- evaluation
async def evaluation(
    session: AsyncSession,
    principal: Principal,
    due: date | None,
    *,
    min_coverage: float = 0.0,
    today: date | None = None,
) -> schemas.Evaluation:
    """Each target due (by ``due`` if given): the regions in the caller's scope that meet it and those
    that fall short (each county, for an "each county" target); its year asked on ``today``."""
    if principal.is_institution_user:
        raise Forbidden("机构用户不评价区域目标，请查看本机构的统计贡献", code="permission_denied")
    own = region_of(principal.region_code)
    counties_in_scope = set(own.counties())
    found = await targets(session, due_on_or_before=due)
    cache: dict[tuple[str, int], Counts] = {}
    reporters_cache: dict[tuple[str, int], Reporters] = {}
    people_by_year: dict[int, dict[str, PopulationRow]] = {}
    results = []
    for target in found:
        if divisions.get(target.region_code) is None:
            continue
        target_region = region_of(target.region_code)
        if target.each_county:
            evaluated = [c for c in administered_counties(target_region) if c in counties_in_scope]
        else:
            evaluated = [target_region.code] if principal.scope.contains(target_region.code) else []
        if not evaluated:
            continue
        definition = DEFINITIONS.get(target.indicator)
        if definition is None:
            continue
        definition = await live_one(session, definition)
        period = Period(target.due_date.year, today=today)
        key = (definition.code, period.year)
        if key not in cache:
            cache[key] = (
                await county_counts(session, definition, period, own, principal)
                if definition.missing is None
                else {}
            )
        reporters: Reporters | None = None
        if definition.reporting is not None and definition.missing is None:
            rkey = (definition.reporting.code, period.year)
            if rkey not in reporters_cache:
                reporters_cache[rkey] = await reporting_counties(session, [definition.reporting], period, own)
            reporters = reporters_cache[rkey]
        if definition.method in POPULATION_METHODS and period.year not in people_by_year:
            people_by_year[period.year] = await population(session, period.year)
        people = people_by_year.get(period.year, {})
        met, short, missing = [], [], []
        for code in evaluated:
            region = region_of(code)
            figure = compute(definition, cache[key], region.counties(), people, reporters)
            thin = (
                None
                if target.each_county
                else coverage_shortfall(definition, region, reporters, people, min_coverage)
            )
            if figure.value is None or thin is not None:
                missing.append(_result(region, None, "missing", None, figure.reason or thin))
            elif target.met_by(figure.value):
                met.append(_result(region, figure.value, "met", None, None))
            else:
                short.append(_result(region, figure.value, "short", _short_by(target, figure.value), None))
        results.append(
            schemas.TargetEvaluation(
                indicator=target.indicator,
                name=definition.name,
                region_code=target.region_code,
                each_county=target.each_county,
                comparison=target.comparison.value,
                value=float(target.value),
                due_date=target.due_date,
                source=target.source,
                period=period.label,
                met=met,
                short=short,
                missing=missing,
            )
        )
    return schemas.Evaluation(due=due, targets=results)


def _result(
    region: Region, value: float | None, status: schemas.TargetState, short: float | None, reason: str | None
) -> schemas.RegionResult:
    return schemas.RegionResult(
        region_code=region.code,
        region_name=region.name,
        value=value,
        status=status,
        short_by=short,
        reason=reason,
    )


# ------------------------------------------------------------------------------------- drill-down
def _part_condition(definition: Definition, part: str, units: Any) -> ColumnElement[bool]:
    if part == "numerator":
        return units.c.num > 0  # type: ignore[no-any-return]
    if definition.denominator is None or definition.method in POPULATION_METHODS:
        raise Unprocessable(
            f"指标「{definition.name}」的分母不是记录（{definition.denominator or '无分母'}），只能查看分子",
            code="no_denominator_records",
        )
    if part == "denominator":
        return units.c.den > 0  # type: ignore[no-any-return]
    return units.c.den > units.c.num  # type: ignore[no-any-return]


def _decode(cursor: str) -> list[str]:
    import base64

    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode("ascii"))
        values = json.loads(raw)
        if (
            not isinstance(values, list)
            or not 2 <= len(values) <= 3
            or not all(isinstance(v, str) for v in values)
        ):
            raise ValueError("cursor shape")
        return values
    except (ValueError, TypeError, UnicodeError, RecursionError) as exc:
        raise Unprocessable("分页游标无效", code="invalid_cursor") from exc


def _row(
    definition: Definition,
    region_code: str,
    record_id: Any,
    related: Any,
    name: str,
    num: int,
    den: int | None,
) -> schemas.RecordRow:
    kind = definition.records or COUNTY
    division = divisions.get(region_code)
    return schemas.RecordRow(
        region_code=region_code,
        region_name=division.name if division else region_code,
        kind=kind.code,
        source=kind.source,
        id=str(record_id),
        related_id=None if related is None else str(related),
        name=name,
        numerator=num,
        denominator=den,
    )


async def records(
    session: AsyncSession,
    principal: Principal,
    definition: Definition,
    region: Region,
    period: Period,
    part: str,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[schemas.RecordRow], str | None]:
    """The records behind a figure: one page, ordered by county then id (keyset, no OFFSET)."""
    definition = await live_one(session, definition)
    if definition.missing is not None:
        raise Unprocessable(f"指标「{definition.name}」缺失：{definition.missing}", code="indicator_missing")
    assert definition.builder is not None
    if definition.method == "counties":
        return await _county_records(session, principal, definition, region, period, part, limit, cursor)
    units = definition.builder(period).subquery()
    pair = units.c.related_id
    order = [units.c.region_code, units.c.record_id] + (
        [pair] if definition.records and definition.records.code == "pair" else []
    )
    stmt: Select[Any] = select(
        units.c.region_code, units.c.record_id, units.c.related_id, units.c.name, units.c.num, units.c.den
    ).where(
        region.condition(units.c.region_code),
        _part_condition(definition, part, units),
        *_party_condition(principal, units),
    )
    if cursor:
        values = _decode(cursor)
        if len(values) != len(order):
            raise Unprocessable("分页游标无效", code="invalid_cursor")
        try:
            typed: list[Any] = [values[0], *(uuid.UUID(v) for v in values[1:])]
        except ValueError as exc:
            raise Unprocessable("分页游标无效", code="invalid_cursor") from exc
        clauses = []
        for i, column in enumerate(order):
            clauses.append(and_(*(order[j] == typed[j] for j in range(i)), column > typed[i]))
        stmt = stmt.where(or_(*clauses))
    rows = (await session.execute(stmt.order_by(*order).limit(limit + 1))).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([last[0], str(last[1]), *([str(last[2])] if len(order) == 3 else [])])
    return [
        _row(definition, r[0], r[1], r[2], r[3], int(r[4] or 0), None if r[5] is None else int(r[5]))
        for r in rows
    ], next_cursor


async def _county_records(
    session: AsyncSession,
    principal: Principal,
    definition: Definition,
    region: Region,
    period: Period,
    part: str,
    limit: int,
    cursor: str | None,
) -> tuple[list[schemas.RecordRow], str | None]:
    counts = await county_counts(session, definition, period, region, principal)
    after = _decode(cursor)[0] if cursor else ""
    chosen = [
        county
        for county in sorted(counts)
        if county > after
        and (
            (part == "numerator" and counts[county][0] > 0)
            or part == "denominator"
            or (part == "gap" and counts[county][0] == 0)
        )
    ]
    page = chosen[:limit]
    next_cursor = encode_cursor([page[-1], ""]) if len(chosen) > limit else None
    rows = []
    for county in page:
        division = divisions.get(county)
        name = division.name if division else county
        rows.append(_row(definition, county, county, None, name, counts[county][0], 1))
    return rows, next_cursor


def unit_label(unit: Unit) -> str:
    return {Unit.rate: "比率", Unit.per_10k: "每万常住人口", Unit.count: "数量"}[unit]
