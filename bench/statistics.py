"""Planner statistics of the bench's freshly seeded stack.

Autovacuum analyses a table some time after it was filled; a PostgreSQL run with ``autovacuum = off``
(a developer's machine, this bench's CI) never does, and every plan is then made on guesses — the
indicators report took 6.6 s instead of 0.2 s at scale S. Production (CloudNativePG) runs autovacuum,
so the bench does its work once the demo is seeded and the indicators have caught up: it analyses every
table of the services' schemas, and says so in the report. With autovacuum on it analyses nothing.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable

import asyncpg

SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


async def analyze_when_autovacuum_off(
    database_url: str, *, within: float, log: Callable[[str], None] | None = None
) -> list[str]:
    """With autovacuum off: wait for the indicators' followers (at most ``within`` s), ANALYZE every
    table of the non-system schemas and return a note saying so; with autovacuum on, a note that
    nothing was analysed by the bench."""
    generator = importlib.import_module("bench.generate")  # as bench.__main__: imported when used
    conn = await asyncpg.connect(generator.asyncpg_dsn(database_url))
    try:
        if await conn.fetchval("SHOW autovacuum") == "on":
            return ["PostgreSQL runs autovacuum: the bench analysed no table itself."]
        await generator.wait_for_followers(database_url, within=within, log=log)
        started = time.monotonic()
        tables = await conn.fetch(
            "SELECT schemaname, tablename FROM pg_tables WHERE NOT (schemaname = ANY($1)) ORDER BY 1, 2",
            list(SYSTEM_SCHEMAS),
        )
        for row in tables:
            await conn.execute(f'ANALYZE "{row["schemaname"]}"."{row["tablename"]}"')
    finally:
        await conn.close()
    schemas = sorted({row["schemaname"] for row in tables})
    return [
        f"PostgreSQL runs with autovacuum = off: once the demo was seeded and the indicators had caught "
        f"up, the bench ran ANALYZE on the {len(tables)} tables of schemas {', '.join(schemas)} "
        f"({time.monotonic() - started:.1f} s), as autovacuum would have — the plans below use statistics."
    ]
