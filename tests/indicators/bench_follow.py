"""How long the indicators' residents follower takes to catch up on the demo's residents feed (issue 19;
measured, not asserted).

Run: ``.venv/bin/python -m tests.indicators.bench_follow --residents-db var/residents.db [--batch 500]``

``--residents-db`` is a residents database ``make run`` seeded (SQLite; ``make run`` seeds 湖里 at full
size: 38,833 check-ups, ~75,000 contracts with their renewals, 3,107 assessments — ~117,000 entries of
the three types the indicators follow). It is copied to a temp dir (never written), served by the real
residents app in-process; the indicators' follower reads its feed directly (ASGI, a service token of the
``indicators`` client: what the gateway relays, without the gateway hop) into a fresh indicators database
(SQLite file, or PostgreSQL with ``--backend postgresql``), page by page with ``catch_up`` as the
background loop does. Prints the wall time, entries/s, and how it splits (wall and CPU): fetching the
pages (the residents app's work, HTTP and JSON included) and applying them (``apply_entries`` + the
cursor, one transaction a page). On a loaded machine the CPU figures are the steadier ones. Not
collected by pytest (not ``test_*``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from libs.common.auth import Role, TokenIssuer, TokenVerifier, generate_private_key_pem
from libs.common.database import Database, session_scope
from libs.common.http_client import StaticTokenSource
from libs.common.migrations import upgrade_head_async
from libs.common.testing import (
    DEFAULT_POSTGRES_URL,
    TEST_AUDIENCE,
    TEST_ISSUER,
    TestDatabases,
    Tokens,
    create_database,
    drop_database,
    make_settings,
    running,
)
from services.indicators import models as _indicator_models  # noqa: F401  (every table on the metadata)
from services.indicators.clients.feeds import FeedClient, FeedPage
from services.indicators.facts.apply import FACTS
from services.indicators.followers.follower import Follower
from services.indicators.settings import IndicatorsSettings
from services.residents.app import create_app as create_residents_app
from services.residents.settings import ResidentsSettings


class TimedClient(FeedClient):
    """The feed client, timing each page fetched."""

    fetching = 0.0
    fetching_cpu = 0.0
    pages = 0

    async def page(self, *, after: str | None, limit: int, entity_types: tuple[str, ...]) -> FeedPage:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return await super().page(after=after, limit=limit, entity_types=entity_types)
        finally:
            self.fetching += time.perf_counter() - started
            self.fetching_cpu += time.process_time() - cpu
            self.pages += 1


async def bench(databases: TestDatabases, residents_db: Path, batch: int) -> dict[str, Any]:
    issuer = TokenIssuer(generate_private_key_pem(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE)
    verifier = TokenVerifier(issuer=TEST_ISSUER, audience=TEST_AUDIENCE, static_jwks=issuer.jwks())
    tokens = Tokens(issuer)
    residents_settings = make_settings(
        ResidentsSettings,
        databases,
        database_url=f"sqlite+aiosqlite:///{residents_db}",
    )
    residents_app = create_residents_app(residents_settings, verifier=verifier)
    settings = make_settings(
        IndicatorsSettings, databases, follow_interval_seconds=0, follow_batch_size=batch
    )
    database = Database(settings)
    token = tokens.token(Role.service, sub="service:indicators", audience="residents")
    async with (
        running(residents_app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=residents_app), base_url="http://gateway"
        ) as http,
    ):
        await upgrade_head_async(settings)  # the indicators' tables, as the app's start does
        client = TimedClient("residents", http, StaticTokenSource(token))
        follower = Follower("residents", client, database, batch_size=batch)
        started, cpu = time.perf_counter(), time.process_time()
        received = await follower.catch_up(max_pages=100_000)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        async with session_scope(database, write=False) as session:
            rows = {
                fact.entity_type: await session.scalar(select(func.count()).select_from(fact.model))
                for fact in FACTS["residents"]
            }
    await database.dispose()
    return {
        "entries": received,
        "pages": client.pages,
        "wall": wall,
        "fetching": client.fetching,
        "applying": wall - client.fetching,
        "cpu": cpu,
        "fetching_cpu": client.fetching_cpu,
        "applying_cpu": cpu - client.fetching_cpu,
        "rows": rows,
    }


def _print(backend: str, result: dict[str, Any]) -> None:
    entries, wall = result["entries"], result["wall"]
    print(f"\n{backend} — {platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"  {entries:,} entries in {result['pages']} pages: {wall:.1f} s, {entries / wall:,.0f} entries/s")
    print(f"  fetching {result['fetching']:.1f} s ({entries / result['fetching']:,.0f} entries/s)")
    print(f"  applying {result['applying']:.1f} s ({entries / result['applying']:,.0f} entries/s)")
    print(
        f"  CPU (this process; aiosqlite's thread included) {result['cpu']:.1f} s:"
        f" fetching {result['fetching_cpu']:.1f} s, applying {result['applying_cpu']:.1f} s"
    )
    print(f"  read model: {result['rows']}")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents-db", type=Path, required=True)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--batch", type=int, default=IndicatorsSettings.model_fields["follow_batch_size"].default
    )
    args = parser.parse_args()
    logging.getLogger("services.indicators.followers").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "residents.db"
        shutil.copyfile(args.residents_db, copy)
        if args.backend == "sqlite":
            _print("SQLite", await bench(TestDatabases(Path(tmp), None), copy, args.batch))
            return
        server = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
        name = f"bench_follow_{uuid.uuid4().hex[:8]}"
        try:
            url = await create_database(server, name)
        except Exception as exc:  # noqa: BLE001 - any failure to connect means "not available"
            print(f"PostgreSQL: not reachable at {make_url(server).render_as_string()} ({exc})")
            return
        try:
            _print("PostgreSQL (indicators)", await bench(TestDatabases(Path(tmp), url), copy, args.batch))
        finally:
            await drop_database(server, name)


if __name__ == "__main__":
    asyncio.run(main())
