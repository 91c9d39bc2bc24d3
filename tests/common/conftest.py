from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from libs.common.auth import TokenVerifier
from libs.common.database import Database
from libs.common.models import PlatformBase
from libs.common.testing import TestDatabases, make_settings, rolled_back_client, running
from tests.common.sample_app import SampleBase, SampleSettings, create_sample_app


@pytest.fixture(scope="session")
async def sample_app(test_databases: TestDatabases, token_verifier: TokenVerifier) -> AsyncIterator[FastAPI]:
    settings = make_settings(SampleSettings, test_databases, migrate_on_start=False)
    app = create_sample_app(settings, token_verifier)
    async with running(app):
        database: Database = app.state.database
        async with database.engine.begin() as conn:
            if not database.is_sqlite:
                await conn.execute(text('CREATE SCHEMA IF NOT EXISTS "sample"'))
            await conn.run_sync(SampleBase.metadata.create_all)
            await conn.run_sync(PlatformBase.metadata.create_all)
        yield app


@pytest.fixture
async def client(sample_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with rolled_back_client(sample_app) as client:
        yield client
