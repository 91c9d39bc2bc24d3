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

On SQLite the head is read at all only when the database changed since the last read
(:class:`SqliteHeadProbe`, issue 16s): ``PRAGMA data_version`` on a connection of its own, in the event
loop, says whether any other connection committed since; if none did, the head read last is the head.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any
from urllib.parse import quote

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


class SqliteHeadProbe:
    """The change feed's head on SQLite without a hand-off to aiosqlite's thread while nothing changed.

    ``PRAGMA data_version`` on a connection changes when any *other* connection — of this process (the
    write engine, another ``Database``) or of another process — committed to the database since that
    connection's previous call (WAL: a commit moves the WAL index header in shared memory, a checkpoint
    that restarts the WAL moves it too: a spurious change, read exactly). The probe is a connection that
    never writes, so every commit is another connection's. :meth:`head`:

    - the probe's data_version is the one taken just before the head was last read → no commit since:
      that head, no statement sent;
    - else the head read as before (:func:`read_feed_head`, through the thread), with the data_version
      taken *before* it: a commit that races with the read changes the next call's data_version, so the
      pair kept is never newer in its version than in its head;
    - any error of the probe (busy, locked, closed, the file gone) → the exact read, the probe closed
      (opened again at the next call), nothing kept from it.

    **Blocking in the event loop.** The probe is called in the loop's own thread. That is acceptable only
    because the call never waits: the connection has ``busy_timeout`` 0 (a lock it cannot take is an
    error at once, then the exact read), is read-only (``mode=ro``: it never writes, never creates the
    file, never checkpoints) and in autocommit (no transaction left open: the pragma's read transaction
    ends with it); the pragma compares the WAL index header in shared memory and takes a read mark
    with a non-blocking ``fcntl`` lock (no read of the file while the header did not move). Measured
    (timeit, SQLite 3.40.1, process CPU on the shared 2-core machine): :meth:`version` 7.2 µs a call (the
    pragma 4.4 µs, the ``stat`` 2.8 µs), against 70–240 µs of CPU and 124 Python calls for the read
    through the thread (tests/registry/bench_list_cache.py, docs 16j and 16s). SQLite's only sleep on
    this path is its WAL read-lock retry when the WAL is restarted under it (microseconds; never a lock
    wait).

    **The file.** The probe watches the file it opened. Each call ``stat``s the path; another file there
    (deleted and created again, replaced) → the probe is opened again on it, and what it kept is
    dropped (a *generation* counts openings: a head read while the old probe was open is never kept as
    the new one's). The path is ``stat``ed *before* it is opened, so a replacement in between makes the
    next call differ and open again, never the other way round.

    **Threads and loops.** ``check_same_thread=False``: pytest runs loops that may change between tests;
    the probe is used by whichever thread runs the loop calling it, one call at a time (a plain
    synchronous call, never suspended half-way). ``Database.dispose`` closes it (before the engines, so
    that the last engine connection, not a read-only one, is the one that checkpoints and removes the WAL).
    """

    __slots__ = ("_path", "_uri", "_connection", "_file", "_generation", "_seen", "_head")

    def __init__(self, path: str) -> None:
        self._path = path
        self._uri = f"file:{quote(path)}?mode=ro"
        self._connection: sqlite3.Connection | None = None
        self._file: tuple[int, int] | None = None  # (device, inode) of the file the probe opened
        self._generation = 0
        self._seen: tuple[int, int] | None = None  # (generation, data_version) before ``_head`` was read
        self._head = 0

    def version(self) -> tuple[int, int] | None:
        """(generation, data_version) now, or ``None`` if the probe failed (closed; the exact read)."""
        try:
            status = os.stat(self._path)
            file = (status.st_dev, status.st_ino)
            connection = self._connection
            if connection is None or file != self._file:
                self.close()
                connection = sqlite3.connect(
                    self._uri, uri=True, timeout=0, isolation_level=None, check_same_thread=False
                )
                self._connection, self._file = connection, file
                self._generation += 1
            row = connection.execute("PRAGMA data_version").fetchone()
            return self._generation, int(row[0])
        except (OSError, sqlite3.Error):
            self.close()
            return None

    async def head(self, engine: AsyncEngine) -> int:
        """The head of ``engine``'s database (the probe's file): the one read last if nothing committed
        since, else read (:func:`read_feed_head`)."""
        version = self.version()
        if version is not None and version == self._seen:
            return self._head
        head = await read_feed_head(engine)
        if version is not None:
            self._seen, self._head = version, head
        return head

    def close(self) -> None:
        connection, self._connection, self._seen = self._connection, None, None
        if connection is not None:
            try:
                connection.close()
            except sqlite3.Error:
                pass
