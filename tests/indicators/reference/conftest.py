"""The indicators app on its own (no source service, no follower): the reference tables need nothing else.

Each test's writes are rolled back (``rolled_back_client``); the caps are small so that a test can pass
them: at most ``MAX_ROWS`` data rows and ``MAX_BYTES`` bytes per file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import TokenVerifier
from libs.common.testing import TestDatabases, make_settings, rolled_back_client, running
from services.indicators.app import create_app
from services.indicators.settings import IndicatorsSettings

MAX_ROWS = 300
MAX_BYTES = 200_000


@pytest.fixture(scope="session")
async def reference_app(
    test_databases: TestDatabases, token_verifier: TokenVerifier
) -> AsyncIterator[FastAPI]:
    settings = make_settings(
        IndicatorsSettings,
        test_databases,
        database_url=test_databases.url_for("indicators_reference"),
        database_schema="indicators_reference",
        follow_interval_seconds=0,
        reference_import_max_rows=MAX_ROWS,
        reference_import_max_bytes=MAX_BYTES,
    )
    # no gateway: the followers are never started here
    async with httpx.AsyncClient(base_url="http://gateway.invalid") as gateway_http:
        app = create_app(settings, verifier=token_verifier, gateway_http=gateway_http)
        async with running(app):
            yield app


@pytest.fixture
async def client(reference_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with rolled_back_client(reference_app) as client:
        yield client
