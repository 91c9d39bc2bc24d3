"""Dashboards: each statistics endpoint against the plain SQL aggregate it stands on (issue 16, item 5).

For each dashboard the endpoint is asked directly (no gateway) as the province admin, one request at a
time, for ``ctx.duration`` seconds; the plain aggregate — the GROUP BY statements the endpoint's answer
is made of, written here with SQLAlchemy Core over the service's own tables — runs as long on one
connection of an engine of its own on the service's database. The ratio of the two medians (target
≤ 1.2×) says what the endpoint adds around its SQL: auth, scope, session set-up, calls to other
services, Python-side arrangement, serialisation. An endpoint on the response cache
(``libs/common/response_cache.py``) is timed twice: as asked (the page kept while its version stays: the
"cache" column says how it was answered) and with ``Cache-Control: no-cache`` (the page made afresh, as
after every write) — both figures and both ratios are reported, never the cached one alone.

- registry ``GET /stats?group_by=city``: one GROUP BY (city unit, kind, category) over the summary cells
  (one row per county, kind and category of active institutions);
- contracts ``GET /coverage?group_by=county``: the elderly-care institutions of the province by county
  (the registry's table; the service reads its own snapshot of it, kept from the registry's change feed)
  and the agreements in force (distinct elderly party, signed pairs, expiring within 30/60/90 days);
- homecare ``GET /reports/orders?group_by=status`` and ``GET /reports/satisfaction?group_by=region``;
- indicators ``GET /report?period=<last year>``: each indicator's per-county numerator and denominator
  (the definitions' own unit queries, as the service builds them) and the referral response times.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import httpx
from sqlalchemy import Executable, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

import services.contracts.models
import services.homecare.models
import services.indicators.models
import services.registry.models  # noqa: F401 — every mapped class of each service, so the mappers configure
from bench.context import BenchContext, Section
from libs.common import divisions
from services.contracts.agreements.lifecycle import in_force_condition
from services.contracts.agreements.models import Agreement
from services.homecare.orders.models import Order, Rating
from services.indicators.reports.catalog import DEFINITIONS
from services.indicators.reports.periods import Period
from services.indicators.reports.regions import region_of
from services.registry.institutions.kinds import InstitutionKind
from services.registry.institutions.models import Institution
from services.registry.institutions.schemas import BED_FIELDS
from services.registry.stats.summary import InstitutionStatsCell

#: the ratio the issue asks for: an endpoint within 1.2× of its plain SQL
TARGET_RATIO = 1.2
#: the request header that makes an endpoint skip its response cache (the page made afresh)
UNCACHED = {"Cache-Control": "no-cache"}
#: the response header saying how the response cache answered (absent: the endpoint has no cache)
OUTCOME_HEADER = "X-Response-Cache"
SHANGHAI = timedelta(hours=8)


def service_engine(ctx: BenchContext, service: str) -> AsyncEngine:
    """An engine on ``service``'s own database, as the stack's process of that service opens it."""
    if ctx.database_url:
        schema = os.environ.get(f"{service.upper()}_DATABASE_SCHEMA", service)
        return create_async_engine(
            ctx.database_url,
            pool_size=1,
            max_overflow=0,
            connect_args={"server_settings": {"search_path": schema}},
        )
    return create_async_engine(f"sqlite+aiosqlite:///{ctx.data_dir / (service + '.db')}", pool_size=1)


Query = Callable[[AsyncConnection], Awaitable[object]]


@dataclass
class Dashboard:
    name: str
    service: str
    path: str
    sql: Query
    databases: tuple[str, ...] = ()  # further service databases the plain aggregate reads (coverage)


def _today() -> date:
    return (datetime.now(UTC) + SHANGHAI).date()


# ------------------------------------------------------------------------------------- plain SQL
def registry_stats_sql() -> Executable:
    """The summary cells (services/registry/stats/summary.py) added up per (city unit, kind, category)."""
    cell = InstitutionStatsCell
    group = divisions.city_unit_sql(cell.region_code).label("region_group")
    return select(
        group,
        cell.kind,
        cell.category,
        func.sum(cell.institutions),
        func.sum(cell.integrated_institutions),
        func.sum(cell.integrated_institution_beds),
        *[func.sum(getattr(cell, name)) for name in BED_FIELDS],
    ).group_by(group, cell.kind, cell.category)


async def _registry_stats(conn: AsyncConnection) -> object:
    return (await conn.execute(registry_stats_sql())).all()


def elderly_by_county_sql() -> Executable:
    return (
        select(
            Institution.region_code,
            func.count(),
            func.sum(case((Institution.has_medical_unit.is_(True), 1), else_=0)),
        )
        .where(
            Institution.active.is_(True),
            Institution.kind.in_([InstitutionKind.elderly_care, InstitutionKind.integrated]),
        )
        .group_by(Institution.region_code)
    )


def coverage_sql(today: date) -> list[Executable]:
    in_force = in_force_condition(today)
    pairs = select(Agreement.medical_institution_id, Agreement.elderly_institution_id).where(in_force)
    return [
        select(Agreement.region_code, func.count(distinct(Agreement.elderly_institution_id)))
        .where(in_force)
        .group_by(Agreement.region_code),
        select(func.count()).select_from(pairs.distinct().subquery()),
        *[
            select(func.count()).where(in_force, Agreement.end_date <= today + timedelta(days=days))
            for days in (30, 60, 90)
        ],
    ]


def homecare_orders_sql() -> Executable:
    return select(Order.status, func.max(Order.provider_name), func.count()).group_by(Order.status)


def homecare_satisfaction_sql() -> Executable:
    return (
        select(Rating.region_code, func.count(), func.sum(case((Rating.score >= 4, 1), else_=0)))
        .group_by(Rating.region_code)
        .order_by(Rating.region_code)
    )


def indicators_sql(period: Period) -> list[Executable]:
    """The statements of the report's figures for the province: each definition's units per county, and
    the response times behind the medians (as ``reports.service`` builds them)."""
    region = region_of(divisions.PROVINCE_CODE)
    found: list[Executable] = []
    for definition in DEFINITIONS.values():
        if definition.missing is not None or definition.builder is None:
            continue
        units = definition.builder(period).subquery()
        found.append(
            select(units.c.region_code, func.sum(units.c.num), func.sum(units.c.den))
            .where(region.condition(units.c.region_code))
            .group_by(units.c.region_code)
        )
        if definition.response_times is not None:
            rows = definition.response_times(period).subquery()
            found.append(
                select(rows.c.region_code, rows.c.requested_at, rows.c.accepted_at).where(
                    region.condition(rows.c.region_code)
                )
            )
    return found


def _all(statements: Sequence[Executable]) -> Query:
    async def run(conn: AsyncConnection) -> object:
        return [(await conn.execute(s)).all() for s in statements]

    return run


def dashboards(today: date) -> list[Dashboard]:
    year = today.year - 1  # the last whole year: the demo's history covers it
    return [
        Dashboard(
            "registry stats (by city)", "registry", "/api/v1/registry/stats?group_by=city", _registry_stats
        ),
        Dashboard(
            "contracts coverage (by county)",
            "contracts",
            "/api/v1/contracts/coverage?group_by=county",
            _all(coverage_sql(today)),
            databases=("registry",),
        ),
        Dashboard(
            "homecare orders report (by status)",
            "homecare",
            "/api/v1/homecare/reports/orders?group_by=status",
            _all([homecare_orders_sql()]),
        ),
        Dashboard(
            "homecare satisfaction (by county)",
            "homecare",
            "/api/v1/homecare/reports/satisfaction?group_by=region",
            _all([homecare_satisfaction_sql()]),
        ),
        Dashboard(
            f"indicators report ({year})",
            "indicators",
            f"/api/v1/indicators/report?period={year}",
            _all(indicators_sql(Period(year, None))),
        ),
    ]


# ------------------------------------------------------------------------------------- timing
@dataclass
class Timing:
    p50_ms: float
    p99_ms: float
    runs: int
    errors: int = 0
    outcome: str = "–"  # the response cache's answer to the last request (hit, bypass, off; – none)


def _timing(samples: list[float], errors: int = 0) -> Timing:
    if not samples:
        return Timing(0.0, 0.0, 0, errors)
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return Timing(statistics.median(ordered) * 1000, p99 * 1000, len(ordered), errors)


async def _repeat(call: Callable[[], Awaitable[bool]], duration: float, *, minimum: int = 3) -> Timing:
    """Run ``call`` back to back for ``duration`` seconds (at least ``minimum`` times) after one warm-up."""
    await call()
    samples: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration
    while time.perf_counter() < deadline or len(samples) + errors < minimum:
        started = time.perf_counter()
        ok = await call()
        if ok:
            samples.append(time.perf_counter() - started)
        else:
            errors += 1
    return _timing(samples, errors)


async def time_endpoint(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], duration: float
) -> Timing:
    outcome = "–"

    async def call() -> bool:
        nonlocal outcome
        response = await client.get(url, headers=headers)
        await response.aread()
        outcome = response.headers.get(OUTCOME_HEADER, "–")
        return response.status_code == 200

    timing = await _repeat(call, duration)
    timing.outcome = outcome
    return timing


async def time_sql(
    engines: Sequence[AsyncEngine], query: Query, extra: Query | None, duration: float
) -> Timing:
    """The plain aggregate on its own connection(s): ``query`` on the first engine and ``extra`` (the
    registry's part of the coverage) on the second, one after the other as one sample."""
    async with engines[0].connect() as conn:
        if extra is None:

            async def call() -> bool:
                await query(conn)
                return True

            return await _repeat(call, duration)
        async with engines[1].connect() as other:

            async def both() -> bool:
                await extra(other)
                await query(conn)
                return True

            return await _repeat(both, duration)


async def _elderly_by_county(conn: AsyncConnection) -> object:
    return (await conn.execute(elderly_by_county_sql())).all()


async def never_analyzed(ctx: BenchContext) -> list[str]:
    """A note per service schema whose tables PostgreSQL has never gathered statistics on (autovacuum off
    and no ANALYZE after loading): the planner then guesses, and a report can take seconds instead of
    milliseconds (the indicators report at S: 3.4 s of SQL before ``ANALYZE``, 0.1 s after)."""
    found: list[str] = []
    engine = service_engine(ctx, "indicators")
    try:
        async with engine.connect() as conn:
            rows = await conn.exec_driver_sql(
                "SELECT schemaname, count(*) FROM pg_stat_user_tables WHERE n_live_tup > 0 "
                "AND last_analyze IS NULL AND last_autoanalyze IS NULL GROUP BY schemaname ORDER BY 1"
            )
            for schema, count in [tuple(row) for row in rows.all()]:
                found.append(
                    f"PostgreSQL has no statistics on {count} non-empty tables of schema {schema} "
                    "(never analysed): the plans, and so these figures, are the planner's guesses."
                )
    finally:
        await engine.dispose()
    return found


def _ratio(endpoint: Timing, sql: Timing) -> str:
    if not endpoint.runs or not sql.runs or sql.p50_ms <= 0:
        return "–"
    return f"{endpoint.p50_ms / sql.p50_ms:.1f}×"


async def run(ctx: BenchContext) -> list[Section]:
    token = await ctx.token("prov_admin")
    headers = {"Authorization": f"Bearer {token}"}
    rows: list[list[str]] = []
    notes: list[str] = []
    engines: dict[str, AsyncEngine] = {}
    try:
        async with httpx.AsyncClient(timeout=60) as client:
            for board in dashboards(_today()):
                for name in (board.service, *board.databases):
                    if name not in engines:
                        engines[name] = service_engine(ctx, name)
                url = ctx.services[board.service] + board.path
                endpoint = await time_endpoint(client, url, headers, ctx.duration)
                fresh = await time_endpoint(client, url, {**headers, **UNCACHED}, ctx.duration)
                extra = _elderly_by_county if board.databases else None
                used = [engines[board.service], *(engines[n] for n in board.databases)]
                sql = await time_sql(used, board.sql, extra, ctx.duration)
                rows.append(
                    [
                        board.name,
                        f"{endpoint.p50_ms:.1f}",
                        f"{endpoint.p99_ms:.1f}",
                        f"{fresh.p50_ms:.1f}",
                        f"{sql.p50_ms:.2f}",
                        _ratio(endpoint, sql),
                        _ratio(fresh, sql),
                        endpoint.outcome,
                        str(endpoint.runs + fresh.runs),
                        str(endpoint.errors + fresh.errors),
                    ]
                )
                if board.databases:
                    async with engines["registry"].connect() as conn:
                        counted = (await conn.execute(elderly_by_county_sql())).all()
                    total = sum(int(n) for _, n, _ in counted)
                    notes.append(
                        f"{board.name}: the {total} elderly-care and integrated institutions of the "
                        "province are counted from the contracts' snapshot of the registry "
                        "(contracts.registry_institution, kept from the registry's change feed): no call "
                        "to the registry while the snapshot is recent."
                    )
                if endpoint.errors or fresh.errors:
                    notes.append(f"{board.name}: {endpoint.errors} requests did not answer 200 ({url}).")
    finally:
        for engine in engines.values():
            await engine.dispose()
    if ctx.database_url:
        notes.extend(await never_analyzed(ctx))
    notes[:0] = [
        f"Scale {ctx.scale}, {ctx.database}; each endpoint asked directly (no gateway) as the province "
        f"admin, one request at a time for {ctx.duration:g} s; the plain SQL on one connection of its own "
        "as long. "
        f'Target: endpoint p50 ≤ {TARGET_RATIO}× the SQL p50. Each endpoint is timed as asked ("endpoint"; '
        '"cache" says how its response cache answered: hit, or – for an endpoint without one) and with '
        'Cache-Control: no-cache ("fresh": the page made afresh, as after every write); "ratio" and '
        '"fresh ratio" are each against the same SQL p50.',
        "The coverage's plain SQL reads two databases (the registry's elderly-care institutions by county "
        "and the contracts' agreements in force); the endpoint reads the contracts' own snapshot of the "
        "registry's institutions and the agreements, in one database.",
    ]
    return [
        Section(
            title="Dashboards: statistics endpoints against their plain SQL",
            columns=[
                "dashboard",
                "endpoint p50 ms",
                "endpoint p99 ms",
                "fresh p50 ms",
                "SQL p50 ms",
                "ratio",
                "fresh ratio",
                "cache",
                "requests",
                "errors",
            ],
            rows=rows,
            notes=notes,
        )
    ]
