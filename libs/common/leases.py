"""Leases: which replica runs each scheduled job (one runner per job, whatever the replica count).

A :class:`Leases` belongs to one process (one app) and one database. ``await leases.hold(name)`` takes the
lease ``name`` if nobody holds it, or confirms that this process still holds it; it returns False while
another replica holds it. A holder keeps its leases until :meth:`Leases.release` / :meth:`Leases.close`
or until it dies, so each job runs in one replica, once per interval; a replica in standby asks again
at its next interval and takes over within one interval of the holder going away.

- **PostgreSQL**: a session-level advisory lock per lease, ``pg_try_advisory_lock(7353,
  hashtext('<schema>:<name>'))`` (the migrations use class 7352), all held on ONE dedicated connection
  per process, outside the request pool, in autocommit (never idle in a transaction). The server frees
  the locks when that session ends: a stopped or crashed holder's leases pass at once; a holder cut off
  by the network loses them after the TCP keepalive / user timeout (``job_lease_timeout_seconds``), and
  itself notices at its next confirmation (which is bounded by the same timeout) and stops running.
  The connection must reach PostgreSQL directly or through a *session* pooler (advisory locks do not
  survive transaction pooling).
- **SQLite** (one host): an exclusive ``flock`` on ``<database file>.lease-<name>``, so several
  processes on the same file (uvicorn workers) still run each job once; an in-memory database has one
  process, and every lease is its own.

Errors while taking or confirming a lease are logged and answer False (no pass runs on a doubt); the
connection is dropped — which frees whatever it held — and opened again at the next call.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import re
import socket
import uuid
from pathlib import Path

from sqlalchemy import pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from libs.common.settings import ServiceSettings

log = logging.getLogger("libs.common.leases")

#: advisory-lock class of job leases (libs/common/migrations.py uses 7352 for migrations)
LOCK_CLASS = 7353

_TAKE = text("SELECT pg_try_advisory_lock(:cls, hashtext(:key))")
_HELD = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND classid = CAST(:cls AS oid)"
    " AND objid = CAST(hashtext(:key) AS oid) AND objsubid = 2)"
)
_RELEASE = text("SELECT pg_advisory_unlock(:cls, hashtext(:key))")


class Leases:
    """The job leases of one process on one service database."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        #: names this process in logs and job events (which replica ran a pass)
        self.holder_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._guard = asyncio.Lock()
        self._held: set[str] = set()
        # PostgreSQL
        self._engine: AsyncEngine | None = None
        self._connection: AsyncConnection | None = None
        # SQLite
        self._files: dict[str, int] = {}
        self._sqlite_path = _sqlite_file(settings) if settings.is_sqlite else None

    @property
    def held(self) -> frozenset[str]:
        """The leases this process holds now (as last taken or confirmed)."""
        return frozenset(self._held)

    def _key(self, name: str) -> str:
        return f"{self.settings.database_schema}:{name}"

    async def hold(self, name: str) -> bool:
        """Take the lease ``name``, or confirm this process still holds it. False: another replica
        holds it, or the database could not be asked (logged)."""
        async with self._guard:
            if self.settings.is_sqlite:
                return self._hold_file(name)
            try:
                return await self._hold_advisory(name)
            except asyncio.CancelledError:  # the app stops mid-statement: do not reuse the connection
                await self._drop_connection()
                raise
            except (SQLAlchemyError, OSError, TimeoutError):
                log.warning("job lease unavailable", extra={"lease": name}, exc_info=True)
                await self._drop_connection()
                return False

    async def release(self, name: str) -> None:
        """Give the lease up (another replica may take it at once)."""
        async with self._guard:
            if name not in self._held:
                return
            self._held.discard(name)
            if self.settings.is_sqlite:
                fd = self._files.pop(name, None)
                if fd is not None:
                    os.close(fd)  # closing the descriptor releases the flock
                return
            if self._connection is None:
                return
            try:
                await self._connection.execute(_RELEASE, {"cls": LOCK_CLASS, "key": self._key(name)})
            except (SQLAlchemyError, OSError, TimeoutError):
                log.warning("job lease release failed", extra={"lease": name}, exc_info=True)
                await self._drop_connection()

    async def close(self) -> None:
        """Give every lease up: end the lease session (PostgreSQL), close the lock files (SQLite)."""
        async with self._guard:
            self._held.clear()
            for fd in self._files.values():
                os.close(fd)
            self._files.clear()
            await self._drop_connection()
            if self._engine is not None:
                await self._engine.dispose()
                self._engine = None

    # PostgreSQL --------------------------------------------------------------------------------------

    def _make_engine(self) -> AsyncEngine:
        timeout = self.settings.job_lease_timeout_seconds
        return create_async_engine(
            self.settings.database_url,
            poolclass=pool.NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={
                "timeout": timeout,
                "command_timeout": timeout,
                "server_settings": {
                    "application_name": f"{self.settings.service_name}-job-leases",
                    # the server notices a vanished holder (and frees its locks) within ~2 timeouts
                    "tcp_keepalives_idle": str(max(1, int(timeout))),
                    "tcp_keepalives_interval": str(max(1, int(timeout / 3))),
                    "tcp_keepalives_count": "3",
                    "tcp_user_timeout": str(max(1000, int(timeout * 1000))),
                },
            },
        )

    async def _hold_advisory(self, name: str) -> bool:
        if self._connection is None:
            self._held.clear()  # a new session holds nothing yet
            if self._engine is None:
                self._engine = self._make_engine()
            self._connection = await self._engine.connect()
        params = {"cls": LOCK_CLASS, "key": self._key(name)}
        if name in self._held:
            # session-level advisory locks are re-entrant: confirm rather than take it a second time
            still = bool(await self._connection.scalar(_HELD, params))
            if not still:
                self._held.discard(name)
            return still
        taken = bool(await self._connection.scalar(_TAKE, params))
        if taken:
            self._held.add(name)
            log.info("job lease taken", extra={"lease": name, "holder": self.holder_id})
        return taken

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        self._held.clear()
        if connection is None:
            return
        try:
            await connection.invalidate()  # do not reuse; the server ends the session and its locks
            await connection.close()
        except (SQLAlchemyError, OSError, TimeoutError):
            log.debug("lease connection already gone", exc_info=True)

    # SQLite ------------------------------------------------------------------------------------------

    def _hold_file(self, name: str) -> bool:
        if self._sqlite_path is None:  # in-memory: one process
            self._held.add(name)
            return True
        if name in self._held:
            return True
        path = self._sqlite_path.with_name(f"{self._sqlite_path.name}.lease-{_file_safe(name)}")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._files[name] = fd
        self._held.add(name)
        return True


def _sqlite_file(settings: ServiceSettings) -> Path | None:
    database = make_url(settings.database_url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)
