"""bench/statistics.py on a real PostgreSQL database: with autovacuum off it analyses every table of the
non-system schemas (their row estimate becomes their rows) and says so; with it on, it analyses
nothing (not tested here: this machine's server runs with autovacuum off)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from bench import statistics
from bench.generate import asyncpg_dsn
from libs.common.testing import DEFAULT_POSTGRES_URL, backend, create_database, drop_database

pytestmark = pytest.mark.skipif(backend() != "postgresql", reason="PostgreSQL's planner statistics")

SERVER = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


@pytest_asyncio.fixture
async def database() -> AsyncIterator[tuple[str, str]]:
    """A database with one filled table in a service-like schema, never analysed; (url, name)."""
    name = f"bench_stats_{uuid.uuid4().hex[:8]}"
    url = await create_database(SERVER, name)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.execute("CREATE SCHEMA registry")
        await conn.execute("CREATE TABLE registry.thing (id int)")
        await conn.execute("INSERT INTO registry.thing SELECT generate_series(1, 500)")
    finally:
        await conn.close()
    try:
        yield url, name
    finally:
        await drop_database(SERVER, name)


async def _estimate(url: str) -> float:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return float(
            await conn.fetchval("SELECT reltuples FROM pg_class WHERE oid = 'registry.thing'::regclass")
        )
    finally:
        await conn.close()


async def _require_autovacuum(url: str, value: str) -> None:
    """``autovacuum`` is a server-wide setting (a database cannot change it): skip unless the server
    runs with ``value`` (this machine's runs with it off; CloudNativePG's with it on)."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        shown = await conn.fetchval("SHOW autovacuum")
    finally:
        await conn.close()
    if shown != value:
        pytest.skip(f"the server runs autovacuum = {shown}")


async def test_with_autovacuum_off_every_table_is_analysed_and_the_note_says_so(
    database: tuple[str, str],
) -> None:
    url, _name = database
    await _require_autovacuum(url, "off")
    assert await _estimate(url) == -1  # never analysed

    notes = await statistics.analyze_when_autovacuum_off(url, within=5)

    assert await _estimate(url) == 500
    assert len(notes) == 1
    assert "autovacuum = off" in notes[0]
    assert "registry" in notes[0]
