"""Measure 3, growth with data: p50/p99 of the read endpoints at each scale run.

Each endpoint is asked directly (no gateway) as the province admin on two connections (latency, not
throughput) for half the run's duration. At S only one table is written; with ``--scale M`` or ``L`` the
command calls :func:`baseline` at S and at each scale passed on the way (M on the way to L) before
generating the next, and the table at the scale asked for shows each p99 at the smaller scales and its
ratio to S's (the issue's target: no p99 at L above 1.2× its p99 at S).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from bench.context import BenchContext, Section
from bench.load import LoadResult, load
from bench.measures import bearer
from bench.report import LOAD_COLUMNS, load_cells, ratio

TARGET_P99_RATIO = 1.2
# latency, not throughput: a couple of connections, so that a p99 is the endpoint's time, not the queue's
CONNECTIONS = 2


def endpoints() -> list[tuple[str, str, str]]:
    """(label, service, path) of each read endpoint measured."""
    last_year = (datetime.now(UTC) + timedelta(hours=8)).year - 1  # the last whole year, Asia/Shanghai
    return [
        ("institution list (50)", "registry", "/api/v1/registry/institutions?limit=50"),
        (
            "institution search (name)",
            "registry",
            "/api/v1/registry/institutions?q=%E5%8C%BB%E9%99%A2&limit=50",
        ),
        (
            "nearby institutions (10 km)",
            "registry",
            "/api/v1/registry/institutions/nearby?latitude=24.48&longitude=118.09&radius_km=10&limit=20",
        ),
        ("registry change feed (100)", "registry", "/api/v1/registry/changes?limit=100"),
        ("registry stats", "registry", "/api/v1/registry/stats"),
        ("agreement list (50)", "contracts", "/api/v1/contracts/agreements?limit=50"),
        ("order list (50)", "homecare", "/api/v1/homecare/orders?limit=50"),
        ("homecare change feed (100)", "homecare", "/api/v1/homecare/changes?limit=100"),
        ("indicators report (last year)", "indicators", f"/api/v1/indicators/report?period={last_year}"),
    ]


# the figures of each database at each smaller scale, kept by baseline() for the run at a larger scale
baselines: dict[str, dict[str, dict[str, LoadResult]]] = {}


async def measure(ctx: BenchContext) -> dict[str, tuple[LoadResult, int]]:
    # every page made afresh: the growth with the data is the queries' (a page served from the response
    # cache, libs/common/response_cache.py, costs the same at any scale)
    headers = {**await bearer(ctx), "Cache-Control": "no-cache"}
    found: dict[str, tuple[LoadResult, int]] = {}
    async with httpx.AsyncClient(headers=headers, timeout=60) as client:
        for label, service, path in endpoints():
            url = ctx.services[service] + path
            first = await client.get(url)
            result = await load(
                url,
                headers=headers,
                duration=max(1.0, ctx.duration / 2),
                connections=min(CONNECTIONS, ctx.connections),
                wrk=ctx.wrk,
            )
            if not first.is_success:
                result.errors = max(result.errors, 1)
            found[label] = (result, len(first.content) if first.is_success else -first.status_code)
    return found


async def baseline(ctx: BenchContext) -> None:
    found = await measure(ctx)
    baselines.setdefault(ctx.database, {})[ctx.scale] = {
        label: result for label, (result, _) in found.items()
    }


async def run(ctx: BenchContext) -> list[Section]:
    found = await measure(ctx)
    earlier = {
        scale: results
        for scale, results in baselines.get(ctx.database, {}).items()
        if scale != ctx.scale and ctx.scale != "S"
    }
    columns = ["endpoint", *LOAD_COLUMNS, "bytes"]
    columns += [f"p99 at {scale}" for scale in earlier]
    if "S" in earlier:
        columns.append(f"p99 {ctx.scale} ÷ S")
    rows = []
    paths = {label: path for label, _, path in endpoints()}
    for label, (result, size) in found.items():
        row = [f"{label} `{paths[label].split('?')[0]}`", *load_cells(result)]
        row.append(f"{size:,}" if size >= 0 else f"HTTP {-size}")
        for results in earlier.values():
            row.append(f"{results[label].p99_ms:.1f}" if label in results else "—")
        if "S" in earlier:
            at_s = earlier["S"].get(label)
            row.append(ratio(result.p99_ms, at_s.p99_ms) if at_s else "—")
        rows.append(row)
    notes = [
        f"Directly to each service as prov_admin (the province's whole scope), {CONNECTIONS} connections, "
        "half the run's duration each.",
    ]
    if "S" in earlier:
        notes.append(f"Target: every p99 at {ctx.scale} within {TARGET_P99_RATIO}× of its p99 at S.")
    return [Section(f"3. Growth with data (scale {ctx.scale})", columns, rows, notes)]
