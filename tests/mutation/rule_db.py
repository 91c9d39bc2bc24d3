"""A bare service database for tests of rule functions that speak SQL (booking, the agreement calendar,
the 巡诊 shortfall query): the service's tables made from its models (no app, no migrations, no HTTP),
so that one test takes milliseconds and mutation testing can run them once per mutant.

The database is the session's test database (``TEST_DATABASE``: a SQLite file, or a PostgreSQL schema
of its own in the session's database) opened with the platform's own engine settings
(:class:`libs.common.database.Database`: ``BEGIN IMMEDIATE`` on SQLite, ``search_path`` on PostgreSQL).
The HTTP-level tests beside these keep proving the same rules through the API.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.database import Database
from libs.common.models import PlatformBase
from libs.common.settings import ServiceSettings
from libs.common.testing import TestDatabases, make_settings


@asynccontextmanager
async def rule_database(
    settings_type: type[ServiceSettings], databases: TestDatabases, metadata: MetaData
) -> AsyncIterator[Database]:
    """A fresh database (SQLite file or PostgreSQL schema) holding ``metadata``'s tables and the
    platform's (change feed, audit)."""
    schema = f"rules_{uuid.uuid4().hex[:10]}"
    database = Database(
        make_settings(
            settings_type, databases, database_url=databases.url_for(schema), database_schema=schema
        )
    )
    try:
        async with database.engine.begin() as conn:
            if not database.is_sqlite:
                await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            await conn.run_sync(PlatformBase.metadata.create_all)
            await conn.run_sync(metadata.create_all)
        yield database
    finally:
        if not database.is_sqlite:
            async with database.engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await database.dispose()


@asynccontextmanager
async def rolled_back_session(database: Database) -> AsyncIterator[AsyncSession]:
    """A session whose work (commits included: they become savepoints) is rolled back at the end."""
    async with database.engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield AsyncSession(
                bind=connection,
                join_transaction_mode="create_savepoint",
                expire_on_commit=False,
                autoflush=False,
            )
        finally:
            await transaction.rollback()
