"""The fixed cost of a list request (issue 16, 16g): Python calls and CPU a request (measured, not asserted).

Run: ``.venv/bin/python -m tests.registry.bench_dependency_chain [--postgres] [--requests N] [--rounds R]``

Builds a fresh registry database (SQLite in a temp dir; with ``--postgres`` a throwaway database on
``TEST_POSTGRES_URL`` or 127.0.0.1:5432), loads the demo seed, and asks three paths in-process (httpx's
ASGI transport, one request at a time) as the province admin:

- ``/healthz`` through the same middleware stack;
- ``/bench/deps``: a route with the institution list's dependencies only (token check, session, page
  parameters, the filters' query model, cipher) and an empty answer;
- ``/api/v1/registry/institutions?limit=50``: the real list.

For each: Python function calls per request under cProfile (``--requests`` requests; the in-process
client included — it is the same for every path), then process CPU per request (``time.process_time``,
both threads) over ``--rounds`` rounds of ``--requests`` requests, the best round kept. Call counts do
not depend on the machine's load; CPU does. Prints one JSON object (``--json``) or a table.

To compare two versions of the code in one run, run this file with ``PYTHONPATH`` set to each tree
in turn (the script only uses what both have).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import time
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI, Response

from demo.registry import seed_session
from libs.common.auth import (
    Principal,
    Role,
    TokenIssuer,
    TokenVerifier,
    generate_private_key_pem,
    principal_claims,
)
from libs.common.changes import write_pending_changes
from libs.common.database import SessionDep, session_scope
from libs.common.pagination import PageDep
from libs.common.routing import ServiceRouter
from libs.common.testing import running
from services.registry.app import create_app
from services.registry.deps import CipherDep
from services.registry.institutions.deps import InstitutionFilterDep
from services.registry.permissions import InstitutionsRead
from services.registry.settings import RegistrySettings
from tests.bench_database import AUDIENCE, ISSUER, bench_database

PATHS = {
    "healthz": "/healthz",
    "dependencies only": "/bench/deps",
    "list, 50 rows": "/api/v1/registry/institutions?limit=50",
}


def _mount_dependencies_route(app: FastAPI) -> None:
    """The list's dependencies and an empty answer, on a service router (the services' route class), its
    route tried first (so that finding it costs as little as finding ``/healthz``)."""
    router = ServiceRouter()

    @router.get("/bench/deps")
    async def dependencies_only(
        session: SessionDep,
        principal: InstitutionsRead,
        page: PageDep,
        filters: InstitutionFilterDep,
        cipher: CipherDep,
    ) -> Response:
        return Response(b"[]", media_type="application/json")

    routes = app.router.routes
    before = len(routes)
    app.include_router(router)
    added = routes[before:]
    del routes[before:]
    routes[0:0] = added


def _calls(profiler: cProfile.Profile) -> int:
    stats = pstats.Stats(profiler)
    return int(stats.total_calls)  # type: ignore[attr-defined]


async def _measure(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], requests: int, rounds: int
) -> dict[str, Any]:
    for _ in range(20):  # warm: statement caches, pools, the verified-token cache
        (await client.get(path, headers=headers)).raise_for_status()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        response = await client.get(path, headers=headers)
    profiler.disable()
    response.raise_for_status()
    cpu = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(requests):
            await client.get(path, headers=headers)
        cpu.append((time.process_time() - started) / requests * 1000)
    return {
        "calls": round(_calls(profiler) / requests),
        "cpu_ms_best": round(min(cpu), 3),
        "cpu_ms_median": round(sorted(cpu)[len(cpu) // 2], 3),
        "bytes": len(response.content),
    }


async def bench(settings: RegistrySettings, requests: int, rounds: int) -> dict[str, dict[str, Any]]:
    issuer = TokenIssuer(generate_private_key_pem(), issuer=ISSUER, audience=AUDIENCE)
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, static_jwks=issuer.jwks())
    app = create_app(settings, verifier=verifier)
    _mount_dependencies_route(app)
    principal = Principal(sub="bench:province", role=Role.province_admin, region_code="350000")
    token, _ = issuer.issue(principal_claims(principal), timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    results: dict[str, dict[str, Any]] = {}
    async with running(app):
        async with session_scope(app.state.database) as session:
            await seed_session(session, app.state.cipher)
            await session.flush()
            await write_pending_changes(session)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            for label, path in PATHS.items():
                results[label] = await _measure(client, path, headers, requests, rounds)
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="on PostgreSQL instead of SQLite")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    async with bench_database("registry", postgres=args.postgres) as database:
        settings = RegistrySettings(**database)
        results = await bench(settings, args.requests, args.rounds)
    if args.json:
        print(json.dumps(results))
        return
    print(f"{'path':<20} {'calls':>7} {'CPU ms best':>12} {'median':>8} {'bytes':>7}")
    for label, row in results.items():
        print(
            f"{label:<20} {row['calls']:>7} {row['cpu_ms_best']:>12} {row['cpu_ms_median']:>8}"
            f" {row['bytes']:>7}"
        )


if __name__ == "__main__":
    asyncio.run(main())
