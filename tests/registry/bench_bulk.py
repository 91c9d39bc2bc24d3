"""CPU, Python calls and SQL statements of one city-platform bulk batch (measured, not asserted).

Run: ``.venv/bin/python -m tests.registry.bench_bulk [--postgres] [--batches N] [--size N] [--profile]``

Builds a fresh database (SQLite in a temp dir; with ``--postgres`` a throwaway database on
``TEST_POSTGRES_URL`` or 127.0.0.1:5432), migrates it, then posts batches of new clinics in 湖里 (the
records of bench/measures/writes.py ``bulk_sync``) to ``POST /api/v1/registry/institutions/bulk`` through
the ASGI app with the 厦门 city platform's token (with ``--update``: each batch is created untimed, then
the timed batch gives every record a new address, the names unchanged), and prints per batch: process
CPU (``time.process_time``, the whole process: app, driver glue, aiosqlite's thread), SQL statements
sent (``before_cursor_execute``: an executemany counts once) and, with ``--profile``, the top of a
cProfile of one batch.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import statistics
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import event

from libs.common.auth import (
    Principal,
    Role,
    TokenIssuer,
    TokenVerifier,
    generate_private_key_pem,
    principal_claims,
)
from libs.common.testing import running
from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from tests.bench_database import AUDIENCE, ISSUER, bench_database

BULK = "/api/v1/registry/institutions/bulk"


def record(external_id: str, n: int) -> dict[str, Any]:
    """bench/measures/writes.py's ``institution_record`` (tests may not import bench)."""
    return {
        "external_id": external_id,
        "name": f"压测诊所{n:07d}",
        "kind": "medical",
        "category": "clinic",
        "region_code": "350206",
        "address": f"福建省厦门市湖里区测试路 {n} 号",
    }


async def bench(settings: RegistrySettings, batches: int, size: int, profile: bool, update: bool) -> None:
    issuer = TokenIssuer(generate_private_key_pem(), issuer=ISSUER, audience=AUDIENCE)
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, static_jwks=issuer.jwks())
    app = create_app(settings, verifier=verifier)
    principal = Principal(sub="client:xm_city_platform", role=Role.city_platform, region_code="350200")
    token, _ = issuer.issue(principal_claims(principal), timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    statements: list[list[Any]] = []  # [statement, wall ms, process CPU ms]

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append([statement, time.perf_counter(), time.process_time()])

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statements:
            statements[-1][1] = (time.perf_counter() - statements[-1][1]) * 1000
            statements[-1][2] = (time.process_time() - statements[-1][2]) * 1000

    async with running(app):
        engine = app.state.database.engine.sync_engine
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        source = f"bench-{uuid.uuid4().hex[:8]}"
        cpu: list[float] = []
        main_cpu: list[float] = []
        wall: list[float] = []
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            for b in range(batches + 1):  # the first one warms up (imports, statement caches)
                records = [record(f"{source}-{b * size + i}", b * size + i) for i in range(size)]
                json_headers = {**headers, "Content-Type": "application/json"}
                if update:  # created untimed, then the timed batch changes each address (same names)
                    body = json.dumps({"source_system": source, "records": records}).encode()
                    (await client.post(BULK, content=body, headers=json_headers)).raise_for_status()
                    records = [{**r, "address": r["address"] + "（新址）"} for r in records]
                body = json.dumps({"source_system": source, "records": records}).encode()  # not timed
                statements.clear()
                profiler = cProfile.Profile() if profile and b == batches else None
                c0, t0, w0 = time.process_time(), time.thread_time(), time.perf_counter()
                if profiler:
                    profiler.enable()
                response = await client.post(BULK, content=body, headers=json_headers)
                if profiler:
                    profiler.disable()
                c1, t1, w1 = time.process_time(), time.thread_time(), time.perf_counter()
                response.raise_for_status()
                assert response.json()["counts"]["updated" if update else "created"] == size, response.text[
                    :500
                ]
                if b == 0:
                    continue
                cpu.append((c1 - c0) * 1000)
                main_cpu.append((t1 - t0) * 1000)
                wall.append((w1 - w0) * 1000)
                if profiler:
                    calls = sum(s[1] for s in pstats.Stats(profiler).stats.values())  # type: ignore[attr-defined]
                    out = io.StringIO()
                    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
                    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
                    print(f"  profiled batch: {calls:,} Python calls")
                    print(out.getvalue())
            print(
                f"  batches of {size}: {batches}, median CPU {statistics.median(cpu):.0f} ms "
                f"(min {min(cpu):.0f}; event-loop thread {statistics.median(main_cpu):.0f}), "
                f"median wall {statistics.median(wall):.0f} ms"
            )
            print(f"  SQL statements in the last batch: {len(statements)}")
            print(
                "    wall ms  CPU ms  (process CPU during the statement: driver, aiosqlite's thread; "
                "not PostgreSQL's server)"
            )
            for statement, ms, cpu_ms in statements:
                print(f"    {ms:7.1f} {cpu_ms:7.1f}  " + " ".join(statement.split())[:100])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="on PostgreSQL instead of SQLite")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="cProfile the last batch")
    parser.add_argument("--update", action="store_true", help="time batches that update (new addresses)")
    args = parser.parse_args()
    async with bench_database("registry", postgres=args.postgres) as database:
        settings = RegistrySettings(**database)
        await bench(settings, args.batches, args.size, args.profile, args.update)


if __name__ == "__main__":
    asyncio.run(main())
