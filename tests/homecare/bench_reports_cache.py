"""The homecare orders and satisfaction reports with and without their response cache, in one run
(measured, not asserted; issue 16l).

Run: ``.venv/bin/python -m tests.homecare.bench_reports_cache [--postgres] [--requests N] [--rounds N]``

A fresh database with the homecare demo seed, the homecare app in-process (httpx's ASGI transport: HTTP
handling, middleware and JSON included, no server), a province admin asking each report in four ways
that take turns:

- ``before``: the report's handler as it was before the cache (a model returned, FastAPI serialising it),
  mounted on the same app at another path;
- ``afresh``: the real route with ``Cache-Control: no-cache`` (version read, page made, version read
  again, page kept);
- ``cached``: the real route, answered from the cache;
- ``/healthz`` for scale.

Per way: Python function calls per request under cProfile (they do not depend on the machine's load),
SQL statements per request through the Engine (an early hit reads the feed head at the driver: not
counted), process CPU per request (best round: the shared machine's load moves it).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import time
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine

from demo.homecare import seed
from libs.common.auth import (
    Principal,
    Role,
    TokenIssuer,
    TokenVerifier,
    generate_private_key_pem,
    principal_claims,
)
from libs.common.database import SessionDep
from libs.common.routing import ServiceRouter
from libs.common.testing import running
from services.homecare.app import create_app
from services.homecare.deps import SettingsDep
from services.homecare.permissions import ReportsRead
from services.homecare.reports import service
from services.homecare.reports.schemas import (
    CountReport,
    GroupBy,
    OrderGroupBy,
    Period,
    SatisfactionReport,
)
from services.homecare.settings import HomecareSettings
from tests.bench_database import AUDIENCE, ISSUER, bench_database

REPORTS = "/api/v1/homecare/reports"
BEFORE = "/bench/reports"
ASKED = {
    "orders": ("orders", {"group_by": "status"}),
    "satisfaction": ("satisfaction", {"group_by": "region"}),
}


def add_before_routes(app: Any) -> None:
    """The two handlers before the response cache, on the same dependencies and route class, matched
    before the real reports (the router tries its routes in order)."""
    router = ServiceRouter(prefix="/bench")

    @router.get("/reports/orders", response_model=CountReport)
    async def orders_before(
        session: SessionDep, principal: ReportsRead, group_by: OrderGroupBy = OrderGroupBy.status
    ) -> CountReport:
        rows = await service.orders(
            session, principal, group_by=group_by, status=None, from_date=None, to_date=None
        )
        return CountReport(period=Period(from_date=None, to_date=None), group_by=group_by.value, rows=rows)

    @router.get("/reports/satisfaction", response_model=SatisfactionReport)
    async def satisfaction_before(
        session: SessionDep,
        principal: ReportsRead,
        settings: SettingsDep,
        group_by: GroupBy = GroupBy.provider,
    ) -> SatisfactionReport:
        rows = await service.satisfaction(
            session,
            principal,
            group_by=group_by,
            from_date=None,
            to_date=None,
            bar_pct=settings.satisfaction_min_pct,
        )
        return SatisfactionReport(
            period=Period(from_date=None, to_date=None), bar_pct=settings.satisfaction_min_pct, rows=rows
        )

    app.include_router(router)
    added = app.router.routes.pop()
    at = next(
        i
        for i, route in enumerate(app.router.routes)
        if getattr(getattr(route, "original_router", None), "prefix", None) == REPORTS
    )
    app.router.routes.insert(at, added)


async def bench(settings: HomecareSettings, requests: int, rounds: int) -> None:
    issuer = TokenIssuer(generate_private_key_pem(), issuer=ISSUER, audience=AUDIENCE)
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, static_jwks=issuer.jwks())
    app = create_app(settings, verifier=verifier)
    add_before_routes(app)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    async with running(app):  # the schema made, then the demo seed
        await seed(settings)
        principal = Principal(sub="bench:province", role=Role.province_admin, region_code="350000")
        token, _ = issuer.issue(principal_claims(principal), timedelta(hours=1))
        auth = {"Authorization": f"Bearer {token}"}
        event.listen(Engine, "before_cursor_execute", count)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            for report, (name, params) in ASKED.items():
                ways: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
                    "before": (f"{BEFORE}/{name}", auth, params),
                    "afresh": (f"{REPORTS}/{name}", {**auth, "Cache-Control": "no-cache"}, params),
                    "cached": (f"{REPORTS}/{name}", auth, params),
                    "healthz": ("/healthz", {}, {}),
                }
                figures: dict[str, dict[str, float]] = {way: {} for way in ways}
                bodies = {}
                for way, (path, headers, query) in ways.items():
                    for _ in range(5):
                        response = await client.get(path, params=query, headers=headers)
                        response.raise_for_status()
                    bodies[way] = response.content
                assert bodies["before"] == bodies["afresh"] == bodies["cached"], "pages differ"
                print(f"{report} ({len(bodies['cached']):,} bytes)")
                for way, (path, headers, query) in ways.items():
                    statements = 0
                    profiler = cProfile.Profile()
                    profiler.enable()
                    for _ in range(requests):
                        await client.get(path, params=query, headers=headers)
                    profiler.disable()
                    figures[way]["calls"] = pstats.Stats(profiler).total_calls / requests  # type: ignore[attr-defined]
                    figures[way]["statements"] = statements / requests
                for _ in range(rounds):
                    for way, (path, headers, query) in ways.items():
                        cpu = time.process_time()
                        for _ in range(requests):
                            await client.get(path, params=query, headers=headers)
                        cpu = time.process_time() - cpu
                        figures[way]["cpu_ms"] = min(figures[way].get("cpu_ms", 1e9), cpu / requests * 1000)
                print(f"  {'way':<8} {'calls/req':>10} {'SQL/req':>8} {'CPU ms/req':>11}")
                for way, values in figures.items():
                    print(
                        f"  {way:<8} {values['calls']:>10,.0f} {values['statements']:>8.1f} "
                        f"{values['cpu_ms']:>11.2f}"
                    )
        event.remove(Engine, "before_cursor_execute", count)
    print(f"load average: {os.getloadavg()}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    async with bench_database("homecare", postgres=args.postgres) as database:
        settings = HomecareSettings(**database)
        await bench(settings, args.requests, args.rounds)


if __name__ == "__main__":
    asyncio.run(main())
