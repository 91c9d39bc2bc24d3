"""Throughput of a city platform's 1,000-institution bulk upsert (measured, not asserted).

Run: ``.venv/bin/python -m tests.cross_service.bench_bulk [--backend sqlite|postgresql|both] [--runs N]``

For each backend it builds a fresh registry database (SQLite in a temp dir; PostgreSQL: a throwaway
database on ``TEST_POSTGRES_URL`` or 127.0.0.1:5432, skipped if none answers), migrates it, and posts to
``POST /api/v1/registry/institutions/bulk`` in-process through the ASGI app (validation, HTTP handling
and JSON included), as the city platform of 厦门:

- ``create``: 1,000 new records;
- ``update``: the same 1,000, half of them changed (500 updated, 500 unchanged);
- ``replay``: the same batch again (1,000 unchanged, nothing written).

It prints the median time, records per second, and the SQL statements each request sent to the
database (counted with a ``before_cursor_execute`` listener on the app's engine). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from demo.registry import make_uscc
from libs.common.auth import (
    Principal,
    Role,
    TokenIssuer,
    TokenVerifier,
    generate_private_key_pem,
    principal_claims,
)
from libs.common.testing import DEFAULT_POSTGRES_URL, running, scratch_database
from services.registry.app import create_app
from services.registry.settings import RegistrySettings

ISSUER, AUDIENCE = "bench", "bench"
BULK = "/api/v1/registry/institutions/bulk"
BATCH = 1000
COUNTIES = ("350203", "350205", "350206", "350211", "350212", "350213")  # 厦门's six districts


@dataclass
class Sample:
    seconds: list[float] = field(default_factory=list)
    statements: list[Counter[str]] = field(default_factory=list)


def _headers(issuer: TokenIssuer) -> dict[str, str]:
    principal = Principal(sub="client:bench_platform", role=Role.city_platform, region_code="350200")
    token, _ = issuer.issue(principal_claims(principal), timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


def _record(run: str, n: int) -> dict[str, Any]:
    county = COUNTIES[n % len(COUNTIES)]
    org = f"{run}{n:04d}".upper().translate(str.maketrans("IOSVZ", "12345"))[-9:]
    return {
        "external_id": f"{run}-{n:04d}",
        "name": f"压测养老院{run}{n:04d}",
        "kind": "elderly_care",
        "category": "elderly_care_home",
        "elderly_care_ownership": "private",
        "ownership": "private",
        "uscc": make_uscc(f"52{county}{org}"),
        "region_code": county,
        "address": f"厦门市测试路{n}号",
        "contact_name": "李四",
        "contact_phone": "13812345678",
        "beds_elderly_care": 100,
        "residents": 60,
    }


@contextmanager
def _counted(app: FastAPI) -> Iterator[Counter[str]]:
    statements: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements[statement.split(None, 1)[0].upper()] += 1

    engine = app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def _post(
    client: httpx.AsyncClient,
    app: FastAPI,
    headers: dict[str, str],
    records: list[dict[str, Any]],
    sample: Sample,
) -> dict[str, Any]:
    with _counted(app) as statements:
        started = time.perf_counter()
        response = await client.post(
            BULK, json={"source_system": "bench", "records": records}, headers=headers
        )
        sample.seconds.append(time.perf_counter() - started)
    response.raise_for_status()
    sample.statements.append(statements)
    body: dict[str, Any] = response.json()
    return body


async def bench(database_url: str, runs: int) -> dict[str, Sample]:
    issuer = TokenIssuer(generate_private_key_pem(), issuer=ISSUER, audience=AUDIENCE)
    settings = RegistrySettings(
        environment="test",
        database_url=database_url,
        database_schema="registry",
        log_json=False,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, static_jwks=issuer.jwks())
    app = create_app(settings, verifier=verifier)
    headers = _headers(issuer)
    samples = {"create": Sample(), "update": Sample(), "replay": Sample()}
    async with (
        running(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b") as client,
    ):
        await _post(client, app, headers, [_record("warm", n) for n in range(50)], Sample())  # warm-up
        for run in range(runs):
            tag = uuid.uuid4().hex[:6]
            records = [_record(tag, n) for n in range(BATCH)]
            created = await _post(client, app, headers, records, samples["create"])
            assert created["counts"]["created"] == BATCH, created["counts"]
            for record in records[::2]:
                record["beds_elderly_care"] = 120 + run
            updated = await _post(client, app, headers, records, samples["update"])
            counts = updated["counts"]
            assert (counts["updated"], counts["unchanged"]) == (BATCH // 2, BATCH // 2)
            replayed = await _post(client, app, headers, records, samples["replay"])
            assert replayed["counts"]["unchanged"] == BATCH
    return samples


def _report(backend: str, samples: dict[str, Sample]) -> None:
    print(f"\n{backend}: {BATCH} institutions per request, median of {len(samples['create'].seconds)} runs")
    print(f"  {'request':<8} {'median s':>9} {'records/s':>10} {'statements':>11}  by kind")
    for name, sample in samples.items():
        median = statistics.median(sample.seconds)
        totals = sorted(sum(s.values()) for s in sample.statements)
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(sample.statements[-1].items()))
        print(f"  {name:<8} {median:>9.3f} {BATCH / median:>10.0f} {totals[len(totals) // 2]:>11}  {kinds}")


async def _postgres_available(server: str) -> bool:
    engine = create_async_engine(server)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except (OSError, Exception):  # noqa: BLE001 - any failure to connect means "not available"
        return False
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            _report("SQLite", await bench(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", args.runs))
    if args.backend in ("postgresql", "both"):
        server = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
        if not await _postgres_available(server):
            print(f"\nPostgreSQL: not reachable at {make_url(server).render_as_string()} (skipped)")
            return
        name = f"bench_bulk_{uuid.uuid4().hex[:8]}"
        async with scratch_database(server, name) as url:
            _report("PostgreSQL", await bench(url, args.runs))


if __name__ == "__main__":
    asyncio.run(main())
