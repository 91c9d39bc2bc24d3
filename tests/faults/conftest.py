from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from libs.common.auth import TokenVerifier
from libs.common.testing import TestDatabases, make_settings
from tests.faults.faulty_app import FaultySettings, create_faulty_app
from tests.faults.live_server import serving


@pytest.fixture
async def faulty_url(test_databases: TestDatabases, token_verifier: TokenVerifier) -> AsyncIterator[str]:
    """The faulty service on a real uvicorn server on loopback."""
    settings = make_settings(FaultySettings, test_databases, migrate_on_start=False)
    async with serving(create_faulty_app(settings, token_verifier)) as url:
        yield url
