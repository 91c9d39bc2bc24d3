"""A pooled PostgreSQL connection is pinged before use only after it sat idle (issue 16).

Pinging at every checkout (SQLAlchemy's ``pool_pre_ping``) was three round trips on asyncpg for every
request. Now a connection idle ``database_ping_after_idle_seconds`` or more is checked (a dead one is
replaced unseen); one used a moment ago is not — if the server dropped it in between, that one request
fails (503 ``database_unavailable`` in a service) and the pool reconnects for the next.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from libs.common.database import Database
from libs.common.settings import ServiceSettings
from libs.common.testing import TestDatabases, make_settings

pytestmark = pytest.mark.postgres_only


async def _backend_pid(database: Database) -> int:
    async with database.engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _dead_pooled_connection(database: Database, server_url: str) -> int:
    """Two connections in the pool, one of them then ended by the server (pg_terminate_backend)."""
    async with database.engine.connect() as first, database.engine.connect() as second:
        pid = int((await first.execute(text("SELECT pg_backend_pid()"))).scalar_one())
        await second.execute(text("SELECT 1"))
    admin = create_async_engine(server_url, poolclass=NullPool)
    try:
        async with admin.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()
    return pid


def _settings(test_databases: TestDatabases, idle_seconds: float) -> ServiceSettings:
    return make_settings(
        ServiceSettings,
        test_databases,
        service_name="pingtest",
        database_ping_after_idle_seconds=idle_seconds,
    )


async def test_a_dead_connection_idle_long_enough_is_replaced_unseen(test_databases: TestDatabases) -> None:
    database = Database(_settings(test_databases, idle_seconds=0.2))
    try:
        dead = await _dead_pooled_connection(database, database.settings.database_url)
        await asyncio.sleep(0.3)
        for _ in range(2):  # both pooled connections idle: the dead one is pinged and replaced
            assert await _backend_pid(database) != dead
    finally:
        await database.dispose()


async def test_a_recently_used_connection_is_not_pinged_and_fails_once_if_dead(
    test_databases: TestDatabases,
) -> None:
    database = Database(_settings(test_databases, idle_seconds=3600))
    try:
        dead = await _dead_pooled_connection(database, database.settings.database_url)
        outcomes = []
        for _ in range(3):
            try:
                outcomes.append(await _backend_pid(database))
            except DBAPIError as exc:
                outcomes.append(exc.connection_invalidated)
        assert outcomes.count(True) == 1  # the dead one, once; the pool reconnected after it
        assert dead not in outcomes
    finally:
        await database.dispose()
