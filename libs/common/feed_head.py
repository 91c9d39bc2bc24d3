"""The change feed's head read at the driver, without an ORM session (issue 16, 16j).

The response cache's version (:mod:`libs.common.response_cache`) is read from the database on every
request, so that every replica sees every commit. Through a request's ORM session that read is the
session (~400 Python calls: its transaction, the statement's compilation cache, the result), more than
the rest of a cached answer. Here it is one statement on a connection of the engine's pool, sent to the
driver as it is:

- SQLite (aiosqlite): one hand-off to the connection's thread, which runs the statement, reads the row
  and closes its cursor (as ``database._OneHopCursor`` does);
- PostgreSQL (asyncpg): ``fetchval`` (asyncpg prepares the statement once per connection and caches it).

The connection is in no transaction (none is begun: nothing is left to roll back when it goes back to
the pool), so the statement reads the latest commits, as the session's first statement does. Only
SELECT of a constant text is sent; nothing from a request.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import greenlet_spawn

#: ``max(seq)`` reads the primary key's last entry; 0 for an empty feed (the same as response_cache's)
HEAD_SQL = "SELECT coalesce(max(seq), 0) FROM change_record"


def _head_in_thread(connection: sqlite3.Connection) -> int:
    """In aiosqlite's thread: the head, the cursor closed."""
    cursor = connection.execute(HEAD_SQL)
    try:
        return int(cursor.fetchone()[0])
    finally:
        cursor.close()


async def _read(driver: Any) -> int:
    if isinstance(driver, aiosqlite.Connection):
        return int(await driver._execute(_head_in_thread, driver._conn))  # type: ignore[no-untyped-call]
    return int(await driver.fetchval(HEAD_SQL))


async def read_feed_head(engine: AsyncEngine) -> int:
    """The head of the change feed of ``engine``'s database, read on a pooled connection."""
    pooled = await engine.raw_connection()  # the pool's checkout (and its events) in a greenlet
    try:
        head = await _read(pooled.driver_connection)
    except BaseException:
        await greenlet_spawn(pooled.invalidate)  # its state is unknown: not back into the pool
        raise
    # back to the pool: its reset rolls back a transaction only, and none was begun (no I/O here)
    pooled.close()
    return head
