"""Fill a stack's PostgreSQL database up to a benchmark scale (issue 16).

    .venv/bin/python -m bench.generate --scale M --database-url postgresql+asyncpg://postgres@127.0.0.1/x

The database is one that ``deploy/local/run.py --database-url …`` has migrated and seeded with the demo
(scale S): one database, a schema per service. The generator adds rows up to the scale's totals —

    scale  institutions  agreements  orders     (each finished order with its items, events, rating and
    tiny   +200          +50         +1,000      the nurse's visit record)
    M      30,000        5,000       200,000
    L      30,000        5,000       1,000,000

— "tiny" adds to whatever is there (the smoke test's scale); M and L are totals, and a second run adds
nothing. Rows are straight-SQL bulk copies (``COPY``) of the demo's own rows with their identity and the
fields that must differ renewed, each with its change-feed entry: see :mod:`bench.generate_registry`,
:mod:`bench.generate_contracts` and :mod:`bench.generate_homecare` for what each keeps and the few things a
copy does not write. The same seed over the same demo gives the same rows.

About L's "3,000,000 visit records": a homecare visit record is the nurse's record of one order (a unique
``order_id``), so 1,000,000 orders hold at most 1,000,000 of them; L holds one for every completed or
rated order (about 0.8 per order), as the service would.

Run it while the services are idle: it takes each feed's advisory lock per batch, as a writer does, and the
indicators follow the new feed entries afterwards (a million orders are some five million entries: let them
catch up before measuring). Not for SQLite.

Time (2 cores shared with other work, load average 8–13, PostgreSQL 15 on the same machine): S → M
4.3 min (institutions 28 s, agreements 1 s, orders 230 s); M → L 11.4 min (800,000 orders with 7.3 M
events, 1.2 M items, 0.7 M visit records, 0.5 M ratings, 3.2 M feed entries); the database is then 6.6 GB.
PostgreSQL's side (index upkeep of the orders, events and feed tables) is the larger part — the generator
used 2.5 min of CPU for L; the rows of the next batch are built in a thread meanwhile. At load average
11–16 the same steps took 10.7 min and 36 min (docs/PERFORMANCE-fixes.md, Growth). The tables written are
then vacuumed and analysed, as autovacuum would after a bulk load, so that the first measures meet the
plans (and index-only scans) of a settled database.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from bench import generate_contracts, generate_homecare, generate_registry
from services.indicators.facts.apply import FACTS


@dataclass(frozen=True)
class Scale:
    institutions: int
    agreements: int
    orders: int
    relative: bool = False  # add these many to what is there (instead of filling up to them)


SCALES: dict[str, Scale] = {
    "S": Scale(0, 0, 0, relative=True),  # the demo as it is
    "tiny": Scale(200, 50, 1_000, relative=True),
    "M": Scale(30_000, 5_000, 200_000),
    "L": Scale(30_000, 5_000, 1_000_000),
}


def asyncpg_dsn(database_url: str) -> str:
    """``postgresql+asyncpg://…`` (SQLAlchemy's spelling, as run.py takes it) → ``postgresql://…``."""
    scheme, sep, rest = database_url.partition("://")
    if not sep or not scheme.startswith("postgresql"):
        raise ValueError("the generator fills PostgreSQL only: give a postgresql+asyncpg:// URL")
    return "postgresql://" + rest


async def _count(conn: asyncpg.Connection, relation: str) -> int:
    return int(await conn.fetchval(f"SELECT count(*) FROM {relation}"))


async def generate(
    scale: str,
    database_url: str,
    seed: int = 1,
    *,
    log: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Fill the database up to ``scale``; return the rows added per table (``<schema>.<table>``).

    ``log`` receives a line per step with its time (the CLI prints them).
    """
    wanted = SCALES[scale]
    say = log or (lambda _line: None)
    added: dict[str, int] = {}
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        base = (
            {
                "institutions": await _count(conn, "registry.institution"),
                "agreements": await _count(conn, "contracts.agreement"),
                "orders": await _count(conn, "homecare.service_order"),
            }
            if wanted.relative
            else {"institutions": 0, "agreements": 0, "orders": 0}
        )
        started = time.perf_counter()
        added["registry.institution"] = await generate_registry.fill(
            conn, target=base["institutions"] + wanted.institutions, seed=seed
        )
        say(f"institutions +{added['registry.institution']:,} in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        added["contracts.agreement"] = await generate_contracts.fill(
            conn, target=base["agreements"] + wanted.agreements, seed=seed
        )
        say(f"agreements +{added['contracts.agreement']:,} in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        homecare = await generate_homecare.fill(conn, target=base["orders"] + wanted.orders, seed=seed)
        added.update(
            {f"homecare.{name}": count for name, count in homecare.items() if name != "change_record"}
        )
        orders, visits = homecare.get("service_order", 0), homecare.get("visit_record", 0)
        say(f"orders +{orders:,} (visit records +{visits:,}) in {time.perf_counter() - started:.1f} s")
        if any(added.values()):
            started = time.perf_counter()
            touched = [relation for relation, count in added.items() if count]
            touched += [f"{schema}.change_record" for schema in ("registry", "contracts", "homecare")]
            touched.append("registry.institution_name_gram")
            for relation in touched:
                # VACUUM too: a table written in bulk has no visibility map yet, so PostgreSQL could not
                # answer from an index alone (the name search's gram lookups) until autovacuum came by
                await conn.execute(f"VACUUM (ANALYZE) {relation}")
            say(f"vacuum and analyze in {time.perf_counter() - started:.1f} s")
    finally:
        await conn.close()
    return added


async def feeds_behind(database_url: str) -> dict[str, int]:
    """Per feed the indicators follow, how many entries of the entity types they read (their ``FACTS``)
    come after the last one they applied (their cursor's ``last_seq``)."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        behind: dict[str, int] = {}
        for feed, facts in FACTS.items():
            if await conn.fetchval("SELECT to_regclass($1)", f"{feed}.change_record") is None:
                continue  # a source the stack does not run (no schema, nothing to catch up on)
            applied = await conn.fetchval(
                "SELECT coalesce(last_seq, 0) FROM indicators.feed_cursor WHERE feed = $1", feed
            )
            behind[feed] = int(
                await conn.fetchval(
                    f"SELECT count(*) FROM {feed}.change_record WHERE seq > $1 AND entity_type = ANY($2)",
                    int(applied or 0),
                    [fact.entity_type for fact in facts],
                )
            )
        return behind
    finally:
        await conn.close()


async def wait_for_followers(
    database_url: str, *, within: float, log: Callable[[str], None] | None = None, every: float = 10.0
) -> float:
    """Wait until the indicators have applied every feed entry (the generator's rows included), at most
    ``within`` seconds; return the seconds waited. Measuring while they catch up would measure them."""
    say = log or (lambda _line: None)
    started = time.monotonic()
    while True:
        behind = await feeds_behind(database_url)
        waited = time.monotonic() - started
        if not any(behind.values()):
            return waited
        if waited >= within:
            say(f"indicators still behind after {waited:.0f} s: {behind}")
            return waited
        say(f"indicators behind: {behind}")
        await asyncio.sleep(every)


async def analyze_schema(database_url: str, schema: str) -> None:
    """ANALYZE every table of ``schema`` — the indicators' facts, which their followers fill after the
    generator: autovacuum would get there, but on a busy machine the first measures could meet plans made
    for empty tables."""
    conn = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        tables = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1", schema)
        for row in tables:
            await conn.execute(f'ANALYZE "{schema}"."{row["tablename"]}"')
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), required=True)
    parser.add_argument("--database-url", required=True, help="postgresql+asyncpg://… as given to run.py")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    added = asyncio.run(
        generate(args.scale, args.database_url, args.seed, log=lambda line: print(line, flush=True))
    )
    for relation, count in sorted(added.items()):
        print(f"  {relation:<28} +{count:,}")
    print(f"scale {args.scale} in {time.perf_counter() - started:.1f} s", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
