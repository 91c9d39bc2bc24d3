"""The indicators report with and without its response cache, in one run (measured, not asserted; 16t).

Run: ``.venv/bin/python -m tests.indicators.bench_report_cache [--postgres] [--requests N] [--rounds N]
[--profile N]``

A fresh database with the demo reference data and the read model of ``bench_report``'s ``demo`` scale
(1,400 institutions, 2,600 agreements, 10,000 visits, 2,000 home beds, 5,000 orders), the indicators app
in-process (httpx's ASGI transport: HTTP handling, middleware and JSON included, no server), a province
admin asking ``GET /report?period=2025`` (the province and its ten city-level units) in four ways that
take turns:

- ``before``: the report's handler as it was before the cache (a model returned, FastAPI serialising
  it), mounted on the same app at another path;
- ``afresh``: the real route with ``Cache-Control: no-cache`` (version read, page made, version read
  again, page kept);
- ``cached``: the real route, answered from the cache;
- ``/healthz`` for scale.

Per way: Python function calls per request under cProfile, SQL statements per request through the
Engine, process CPU per request (best round; on PostgreSQL the statements run in the server, not
counted). ``--profile N`` prints the N functions of the page made afresh with the most own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import time
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine

from demo.indicators import seed_reference
from libs.common.auth import (
    Principal,
    Role,
    TokenIssuer,
    TokenVerifier,
    generate_private_key_pem,
    principal_claims,
)
from libs.common.database import SessionDep, session_scope
from libs.common.routing import ServiceRouter
from libs.common.testing import running
from services.indicators.app import create_app
from services.indicators.reports import schemas, service
from services.indicators.reports.periods import parse_period
from services.indicators.reports.regions import requested_region
from services.indicators.reports.router import MinCoverage, ReportsRead
from services.indicators.settings import IndicatorsSettings
from tests.bench_database import AUDIENCE, ISSUER, bench_database
from tests.indicators.bench_report import DEMO, fill, load

REPORT = "/api/v1/indicators/report"
BEFORE = "/bench/report"
PARAMS = {"period": "2025"}


def add_before_route(app: Any) -> None:
    """The report's handler before the response cache, on the same dependencies and route class."""
    router = ServiceRouter(prefix="/bench")

    @router.get("/report", response_model=schemas.Report)
    async def report_before(
        session: SessionDep, principal: ReportsRead, min_coverage: MinCoverage, period: str
    ) -> schemas.Report:
        chosen = requested_region(principal, None)
        data = await service.report_data(
            session, principal, chosen, parse_period(period), min_coverage=min_coverage
        )
        return service.report(data, principal)

    app.include_router(router)


async def bench(settings: IndicatorsSettings, requests: int, rounds: int, profile: int) -> None:
    issuer = TokenIssuer(generate_private_key_pem(), issuer=ISSUER, audience=AUDIENCE)
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, static_jwks=issuer.jwks())
    app = create_app(settings, verifier=verifier)
    add_before_route(app)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    async with running(app):
        database = app.state.database
        async with session_scope(database) as session:
            await seed_reference(session)
        await load(database, fill(random.Random(13), DEMO))
        principal = Principal(sub="bench:province", role=Role.province_admin, region_code="350000")
        token, _ = issuer.issue(principal_claims(principal), timedelta(hours=1))
        auth = {"Authorization": f"Bearer {token}"}
        event.listen(Engine, "before_cursor_execute", count)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            ways: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
                "before": (BEFORE, auth, PARAMS),
                "afresh": (REPORT, {**auth, "Cache-Control": "no-cache"}, PARAMS),
                "cached": (REPORT, auth, PARAMS),
                "healthz": ("/healthz", {}, {}),
            }
            figures: dict[str, dict[str, float]] = {way: {} for way in ways}
            bodies = {}
            sizes = {}
            for way, (path, headers, query) in ways.items():
                for _ in range(3):
                    response = await client.get(path, params=query, headers=headers)
                    response.raise_for_status()
                bodies[way] = response.json()
                sizes[way] = len(response.content)
            assert bodies["before"] == bodies["afresh"] == bodies["cached"], "pages differ"
            print(f"report ({sizes['cached']:,} bytes)")
            for way, (path, headers, query) in ways.items():
                statements = 0
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(requests):
                    await client.get(path, params=query, headers=headers)
                profiler.disable()
                figures[way]["calls"] = pstats.Stats(profiler).total_calls / requests  # type: ignore[attr-defined]
                figures[way]["statements"] = statements / requests
                if way == "afresh" and profile:
                    pstats.Stats(profiler).sort_stats("tottime").print_stats(profile)
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(
                        "services/indicators", profile
                    )
            for _ in range(rounds):
                for way, (path, headers, query) in ways.items():
                    cpu = time.process_time()
                    for _ in range(requests):
                        await client.get(path, params=query, headers=headers)
                    cpu = time.process_time() - cpu
                    figures[way]["cpu_ms"] = min(figures[way].get("cpu_ms", 1e9), cpu / requests * 1000)
            print(f"  {'way':<8} {'calls/req':>10} {'SQL/req':>8} {'CPU ms/req':>11}")
            for way, values in figures.items():
                calls, sql, cpu = values["calls"], values["statements"], values["cpu_ms"]
                print(f"  {way:<8} {calls:>10,.0f} {sql:>8.1f} {cpu:>11.2f}")
        event.remove(Engine, "before_cursor_execute", count)
    print(f"load average: {os.getloadavg()}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, help="print the N functions with most own time")
    args = parser.parse_args()
    async with bench_database("indicators", postgres=args.postgres) as database:
        settings = IndicatorsSettings(**database, follow_interval_seconds=0)
        await bench(settings, args.requests, args.rounds, args.profile)


if __name__ == "__main__":
    asyncio.run(main())
