"""Async engine and sessions that behave the same on SQLite (embedded default) and PostgreSQL.

- SQLite: WAL, foreign keys on, a busy timeout, and ``BEGIN IMMEDIATE`` for sessions that write, so
  that concurrent writers queue instead of failing half-way (read-only requests use plain transactions).
- PostgreSQL: one schema per service, selected through ``search_path``.

The request session commits after the handler returns and rolls back on error; services only flush.
"""

from __future__ import annotations

import collections
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import aiosqlite
from fastapi import Depends, Request
from sqlalchemy import event, text
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import PoolResetState
from sqlalchemy.util import EMPTY_DICT, await_

from libs.common.changes import write_pending_changes
from libs.common.feed_head import SqliteHeadProbe, read_feed_head
from libs.common.settings import ServiceSettings

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _run_statement(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[Any, list[Any], int, int | None]:
    """In aiosqlite's thread: a statement from cursor to rows, and the cursor closed."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _begin_deferred(connection: sqlite3.Connection) -> None:
    """In aiosqlite's thread: a read's BEGIN, after rolling back a transaction left open on the
    connection. A caller cancelled while its BEGIN waited in aiosqlite's queue (a client gone mid-request,
    a follower stopped) gives the connection back to the pool before the thread runs that BEGIN: the
    pool's reset saw no transaction, so the next checkout met "cannot start a transaction within a
    transaction" (a 500). Nothing can be open here by design: SQLAlchemy begins only a connection it holds
    outside a transaction."""
    if connection.in_transaction:
        connection.rollback()
    connection.execute("BEGIN")


class _OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement is one hand-off to aiosqlite's thread (issue 16).

    SQLAlchemy's adapted cursor makes four: open the cursor, execute, fetch the rows, close — each a
    trip through aiosqlite's queue and back to the event loop. Here the whole statement (cursor,
    execute, every row, close) runs as one function in that thread, and the cursor's description,
    row count and last row id are kept from it. Server-side cursors are not used on SQLite."""

    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]  # no driver cursor is kept open
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    async def _async_soft_close(self) -> None:
        return None  # nothing stays open

    def close(self) -> None:
        self._rows.clear()

    async def _run(self, operation: Any, parameters: Any, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            connection = self._connection
            self._description, rows, self._rowcount, self._lastrowid = await connection._execute(
                _run_statement, connection._conn, operation, parameters, many
            )
            self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._run(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._run(operation, seq_of_parameters, True)


class _OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _OneHopCursor


class _OneHopDbapi(AsyncAdapt_aiosqlite_dbapi):
    """aiosqlite as SQLAlchemy adapts it, with :class:`_OneHopCursor` for its cursors."""

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        connection = super().connect(*arg, **kw)
        return _OneHopConnection(self, connection._connection)


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # SQLite has one writer. Writers of this process queue for one connection, first come first served;
    # several connections would all poll the lock through the busy handler, which serves no one in order,
    # and under load one unlucky write waited past the gateway's timeout while later ones went through.
    pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 30} if immediate else {}
    # Each call into aiosqlite is a hand-off to its thread and back (issue 16). The pool's own reset
    # (a second ROLLBACK after the session's) is replaced by one that rolls back only a connection
    # still in a transaction, and a read's BEGIN goes straight to the driver: one hand-off instead of
    # three (cursor, execute, close).
    # Each statement is one hand-off too (:class:`_OneHopCursor`, instead of four).
    engine = create_async_engine(
        url,
        module=_OneHopDbapi(aiosqlite, sqlite3),
        connect_args={"timeout": 30},
        pool_reset_on_return=None,
        **pool,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if immediate:  # may wait for the lock and fail: through SQLAlchemy, whose errors the handlers know
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:  # a deferred BEGIN takes no lock and cannot wait
            driver = conn.connection.driver_connection
            await_(driver._execute(_begin_deferred, driver._conn))

    @event.listens_for(engine.sync_engine.pool, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        if (
            state.asyncio_safe
            and not state.terminate_only
            and dbapi_connection.driver_connection.in_transaction
        ):
            dbapi_connection.rollback()

    return engine


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Check a pooled connection before use only when it has been idle ``idle_seconds`` or more.

    SQLAlchemy's ``pool_pre_ping`` checked every checkout, and on asyncpg its ping is three round trips
    (BEGIN, an empty query, ROLLBACK): half of a list request's round trips (issue 16). A connection idle
    for a while is the one a firewall, an idle timeout or a failover may have closed unseen; one used a
    moment ago is alive unless the server went away in between — then that request fails with the
    503 ``database_unavailable`` and the pool drops every connection older than the failure, so the
    next requests get fresh ones."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return  # a new connection, or one in use a moment ago
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError("pooled connection failed its ping") from exc  # the pool reconnects


def _head_probe(url: str) -> SqliteHeadProbe | None:
    """The head probe of a SQLite database file; none for an in-memory database or a URI filename."""
    parsed = make_url(url)
    path = parsed.database
    if not path or path == ":memory:" or path.startswith("file:") or "uri" in parsed.query:
        return None
    return SqliteHeadProbe(path)


class Database:
    """The engines and session factories of one service process."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.is_sqlite = settings.is_sqlite
        self.head_probe: SqliteHeadProbe | None = None
        if self.is_sqlite:
            self.head_probe = _head_probe(settings.database_url)
            self.engine = _sqlite_engine(settings.database_url, immediate=True)
            self.read_engine = _sqlite_engine(settings.database_url, immediate=False)
        else:
            self.engine = create_async_engine(
                settings.database_url,
                pool_size=settings.database_pool_size,
                connect_args={"server_settings": {"search_path": settings.database_schema}},
            )
            _ping_when_idle(self.engine, settings.database_ping_after_idle_seconds)
            self.read_engine = self.engine
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self.read_sessionmaker = async_sessionmaker(self.read_engine, expire_on_commit=False, autoflush=False)

    def session(self, *, write: bool = True) -> AsyncSession:
        return (self.sessionmaker if write else self.read_sessionmaker)()

    async def ping(self) -> None:
        async with self.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def feed_head(self) -> int:
        """The change feed's head, read at the driver without a session (libs/common/feed_head.py); on a
        SQLite file, only when another connection committed since the last read (SqliteHeadProbe)."""
        if self.head_probe is not None:
            return await self.head_probe.head(self.read_engine)
        return await read_feed_head(self.read_engine)

    async def dispose(self) -> None:
        if self.head_probe is not None:
            self.head_probe.close()
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


@asynccontextmanager
async def session_scope(database: Database, *, write: bool = True) -> AsyncIterator[AsyncSession]:
    """A unit of work outside a request (jobs, seeding): commit (with its change-feed records) on success,
    roll back on error."""
    async with database.session(write=write) as session:
        try:
            yield session
            if write:
                await session.flush()
                await write_pending_changes(session)
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commits (with its change records) after the handler, else rolls back."""
    database: Database = request.app.state.database
    write = request.method not in READ_METHODS
    async with database.session(write=write) as session:
        request.state.db_session = session
        try:
            yield session
            if write:
                await session.flush()
                await write_pending_changes(session)
                await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": commit before the response is sent, so a client never sees success for a write
# that then fails to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
