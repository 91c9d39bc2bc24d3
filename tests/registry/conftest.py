from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import TokenVerifier
from libs.common.testing import TestDatabases, make_settings, rolled_back_client, running
from services.registry.app import create_app
from services.registry.settings import RegistrySettings


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
