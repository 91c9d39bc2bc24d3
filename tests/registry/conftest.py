"""Fixtures of the registry tests: the app, a rolled-back client, and for 示范创建 (and the scope tests that
make 示范 applications) a session on the client's transaction, a movable "today" and :class:`Flow`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import TokenVerifier
from libs.common.testing import TestDatabases, Tokens, make_settings, rolled_back_client, running
from services.registry.app import create_app
from services.registry.demonstration.deps import today
from services.registry.settings import RegistrySettings
from tests.registry.demonstration.flow import Clock, Flow


@pytest.fixture(scope="session")
async def registry_app(
    test_databases: TestDatabases, token_verifier: TokenVerifier
) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(RegistrySettings, test_databases), verifier=token_verifier)
    async with running(app):
        yield app


@pytest.fixture
async def client(registry_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with rolled_back_client(registry_app) as client:
        yield client


@pytest.fixture
def clock(registry_app: FastAPI) -> Iterator[Clock]:
    """ "Today" for the demonstration routes (Asia/Shanghai business date), in the application stage."""
    current = Clock(date(2026, 4, 15))
    registry_app.dependency_overrides[today] = lambda: current.today
    yield current
    registry_app.dependency_overrides.pop(today, None)


@pytest.fixture
async def db(client: httpx.AsyncClient, registry_app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session on the same rolled-back transaction as ``client`` (commit releases a savepoint only)."""
    async with registry_app.state.database.session() as session:
        yield session


@pytest.fixture
def flow(client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession, clock: Clock) -> Flow:
    """The 示范 test driver (``tests/registry/demonstration/flow.py``)."""
    return Flow(client, tokens, db, clock)
