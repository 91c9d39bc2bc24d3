"""The institution list with and without its response cache, in one run (measured, not asserted).

Run: ``.venv/bin/python -m tests.registry.bench_list_cache [--postgres] [--requests N] [--rounds N]``

A fresh database with the demo seed (~1,480 institutions), the registry app in-process (httpx's ASGI
transport: HTTP handling, middleware and JSON included, no server), a province admin asking
``GET /institutions?limit=50`` (the ~90 KB page) in five ways that take turns:

- ``before``: the list's handler as it was before the cache (rows → page bytes, the same dependencies),
  mounted on the same app at another path;
- ``off``: the real route with the cache turned off (``RESPONSE_CACHE_ENABLED=false``: the page made,
  its ETag computed);
- ``afresh``: the real route with ``Cache-Control: no-cache`` (the page made with the feed head read in
  its own statement, page kept at that head; before 16q: head read, page made, head read again);
- ``chain``: the real route answered from the cache after its dependencies (the early lookup of
  libs/common/cached_routes.py switched off: the cached figure before 16j);
- ``cached``: the real route, answered from the cache before its dependencies (16j);
- ``/healthz`` for scale.

Then the feed head read four ways (the request's ORM session, a Core connection, the driver on a
pooled connection — ``Database.feed_head`` —, and a dedicated driver connection kept open): calls and CPU
per read.

Per way: Python function calls per request under cProfile (they do not depend on the machine's load),
SQL statements per request, process CPU per request and requests/s one at a time (best round: the shared
machine's load moves them).
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
from fastapi import Response
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.util import greenlet_spawn

from demo.registry import seed_session
from libs.common.auth import (
    Principal,
    Role,
    TokenIssuer,
    TokenVerifier,
    generate_private_key_pem,
    principal_claims,
)
from libs.common.cached_routes import EarlyCacheHits
from libs.common.changes import write_pending_changes
from libs.common.database import Database, SessionDep, session_scope
from libs.common.feed_head import HEAD_SQL, _head_in_thread
from libs.common.pagination import PageDep
from libs.common.response_cache import ResponseCache, cache_of_app, feed_head
from libs.common.routing import ServiceRouter
from libs.common.row_pages import page_response
from libs.common.testing import running
from services.registry.app import create_app
from services.registry.deps import CipherDep
from services.registry.institutions import service
from services.registry.institutions.deps import InstitutionFilterDep
from services.registry.permissions import InstitutionsRead
from services.registry.settings import RegistrySettings
from tests.bench_database import AUDIENCE, ISSUER, bench_database

LIST = "/api/v1/registry/institutions"
BEFORE = "/bench/institutions-before"


def add_before_route(app: Any) -> None:
    """The list's handler before the response cache (commit a8834c5), on the same dependencies and the
    same route class (ServiceRouter)."""
    router = ServiceRouter(prefix="/bench")

    @router.get(BEFORE.removeprefix("/bench"))
    async def list_before(
        session: SessionDep,
        principal: InstitutionsRead,
        page: PageDep,
        filters: InstitutionFilterDep,
        cipher: CipherDep,
    ) -> Response:
        rows, next_cursor = await service.list_rows(session, principal, params=page, filters=filters)
        items = service.LIST_SHAPE.items(rows, cipher)
        return page_response(items, next_cursor=next_cursor, limit=page.limit)

    app.include_router(router)
    # matched where the real list is (the router tries its routes in order: the end of the list would
    # cost a thousand calls more a request)
    before = app.router.routes.pop()
    at = next(
        i
        for i, route in enumerate(app.router.routes)
        if getattr(getattr(route, "original_router", None), "prefix", None) == LIST
    )
    app.router.routes.insert(at, before)


_EARLY_HIT = EarlyCacheHits.hit


async def _no_early_hit(_self: EarlyCacheHits, _request: Any) -> None:
    return None


def early(way: str) -> None:
    """The early lookup on, except for the ``chain`` way (the normal path's hit, as before 16j)."""
    EarlyCacheHits.hit = _no_early_hit if way == "chain" else _EARLY_HIT  # type: ignore[method-assign,assignment]


async def head_reads(database: Database, reads: int) -> dict[str, tuple[float, float]]:
    """Calls and CPU ms per feed head read, four ways (module docstring); each must read the same."""

    async def session_read() -> int:
        async with database.session(write=False) as session:
            return await feed_head(session)

    async def core_read() -> int:
        async with database.read_engine.connect() as connection:
            return int((await connection.execute(text(HEAD_SQL))).scalar_one())

    pooled = await database.read_engine.raw_connection()
    driver = pooled.driver_connection

    async def dedicated_read() -> int:
        if database.is_sqlite:
            return int(await driver._execute(_head_in_thread, driver._conn))  # type: ignore[union-attr]
        return int(await driver.fetchval(HEAD_SQL))  # type: ignore[union-attr]

    ways = {
        "session": session_read,
        "core": core_read,
        "driver": database.feed_head,
        "dedicated": dedicated_read,
    }
    heads = {name: await read() for name, read in ways.items()}
    assert len(set(heads.values())) == 1, heads
    figures: dict[str, tuple[float, float]] = {}
    for name, read in ways.items():
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(200):
            await read()
        profiler.disable()
        calls = pstats.Stats(profiler).total_calls / 200  # type: ignore[attr-defined]
        cpu = time.process_time()
        for _ in range(reads):
            await read()
        figures[name] = (calls, (time.process_time() - cpu) / reads * 1000)
    await greenlet_spawn(pooled.close)
    return figures


async def bench(settings: RegistrySettings, requests: int, rounds: int) -> None:
    issuer = TokenIssuer(generate_private_key_pem(), issuer=ISSUER, audience=AUDIENCE)
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, static_jwks=issuer.jwks())
    app = create_app(settings, verifier=verifier)
    add_before_route(app)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    async with running(app):
        async with session_scope(app.state.database) as session:
            await seed_session(session, app.state.cipher)
            await session.flush()
            await write_pending_changes(session)
        principal = Principal(sub="bench:province", role=Role.province_admin, region_code="350000")
        token, _ = issuer.issue(principal_claims(principal), timedelta(hours=1))
        auth = {"Authorization": f"Bearer {token}"}
        on = cache_of_app(app)
        off = ResponseCache(max_entries=0, max_bytes=0, enabled=False)
        ways: dict[str, tuple[str, dict[str, str], ResponseCache]] = {
            "before": (BEFORE, auth, on),
            "off": (LIST, auth, off),
            "afresh": (LIST, {**auth, "Cache-Control": "no-cache"}, on),
            "chain": (LIST, auth, on),
            "cached": (LIST, auth, on),
            "healthz": ("/healthz", {}, on),
        }
        event.listen(Engine, "before_cursor_execute", count)  # reads go to the read engine
        figures: dict[str, dict[str, float]] = {name: {} for name in ways}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            bodies = {}
            for name, (path, headers, cache) in ways.items():
                app.state.response_cache = cache
                early(name)
                for _ in range(5):
                    response = await client.get(
                        path, params={"limit": 50} if path != "/healthz" else {}, headers=headers
                    )
                    response.raise_for_status()
                bodies[name] = response.content
                outcome = response.headers.get("x-response-cache", "-")
                figures[name]["bytes"] = len(response.content)
                print(f"  {name}: {len(response.content):,} bytes, cache {outcome}")
            assert len({bodies[name] for name in ways if name != "healthz"}) == 1, "pages differ"
            for name, (path, headers, cache) in ways.items():  # call counts under cProfile
                app.state.response_cache = cache
                early(name)
                params = {"limit": 50} if path != "/healthz" else {}
                statements = 0
                profiler = cProfile.Profile()
                profiler.enable()
                for _ in range(requests):
                    await client.get(path, params=params, headers=headers)
                profiler.disable()
                figures[name]["calls"] = pstats.Stats(profiler).total_calls / requests  # type: ignore[attr-defined]
                figures[name]["statements"] = statements / requests
            for _ in range(rounds):  # CPU and throughput, the ways taking turns, best round kept
                for name, (path, headers, cache) in ways.items():
                    app.state.response_cache = cache
                    early(name)
                    params = {"limit": 50} if path != "/healthz" else {}
                    cpu, wall = time.process_time(), time.perf_counter()
                    for _ in range(requests):
                        await client.get(path, params=params, headers=headers)
                    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                    figures[name]["cpu_ms"] = min(figures[name].get("cpu_ms", 1e9), cpu / requests * 1000)
                    figures[name]["rps"] = max(figures[name].get("rps", 0.0), requests / wall)
        event.remove(Engine, "before_cursor_execute", count)
        early("cached")
        app.state.response_cache = on
        heads = await head_reads(app.state.database, requests * 5)
    print(f"  {'way':<8} {'calls/req':>10} {'SQL/req':>8} {'CPU ms/req':>11} {'req/s':>8}")
    for name, values in figures.items():
        print(
            f"  {name:<8} {values['calls']:>10,.0f} {values['statements']:>8.1f} "
            f"{values['cpu_ms']:>11.2f} {values['rps']:>8.0f}"
        )
    print(f"  {'head read':<12} {'calls':>6} {'CPU ms':>7}")
    for name, (calls, cpu_ms) in heads.items():
        print(f"  {name:<12} {calls:>6,.0f} {cpu_ms:>7.3f}")
    print(f"  load average: {os.getloadavg()}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    async with bench_database("registry", postgres=args.postgres) as database:
        settings = RegistrySettings(**database)
        await bench(settings, args.requests, args.rounds)


if __name__ == "__main__":
    asyncio.run(main())
