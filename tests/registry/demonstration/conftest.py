"""Fixtures of the 示范创建 tests: the registry app (from tests/registry/conftest.py), a session on the test's
own transaction for registry facts, a movable "today", and :class:`Flow` to drive applications.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.testing import Tokens
from services.registry.demonstration.deps import today
from tests.registry.demonstration.flow import Clock, Flow


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
    return Flow(client, tokens, db, clock)
