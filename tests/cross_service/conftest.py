"""Fixtures of the sync tests (issue 7): the REAL registry, contracts, homecare and gateway apps
in-process (built by tests/platform_apps.py), on databases of their own (a SQLite file each, or one
PostgreSQL database ``<test db>_sync`` with a schema per service), so that the data these tests commit
never meets another suite's.

The services reach the registry through ASGI transports, as in tests/contracts and tests/homecare; the
gateway proxies ``/api/v1/{service}/...`` to the three apps, and issues tokens with the session's test
key, which the services verify.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import TokenIssuer, TokenVerifier
from libs.common.testing import TestDatabases, Tokens
from services.contracts.clock import ManualClock
from tests import platform_apps
from tests.platform_apps import TODAY as TODAY  # re-exported: the sync tests import it from here
from tests.platform_apps import Live as Live  # re-exported: the sync tests import it from here

SERVICES = ("gateway", "registry", "contracts", "homecare", "residents")


@pytest.fixture(scope="session")
async def sync_database_urls(test_databases: TestDatabases) -> AsyncIterator[dict[str, str]]:
    async with platform_apps.database_urls(
        test_databases, SERVICES, sqlite_prefix="sync", postgres_suffix="sync"
    ) as urls:
        yield urls


@pytest.fixture(scope="session")
async def registry_app(
    test_databases: TestDatabases, token_verifier: TokenVerifier, sync_database_urls: dict[str, str]
) -> AsyncIterator[FastAPI]:
    async with platform_apps.registry_app(
        test_databases, token_verifier, sync_database_urls["registry"]
    ) as app:
        yield app


@pytest.fixture(scope="session")
async def residents_app(
    test_databases: TestDatabases,
    token_verifier: TokenVerifier,
    tokens: Tokens,
    registry_app: FastAPI,
    sync_database_urls: dict[str, str],
) -> AsyncIterator[FastAPI]:
    """The person index recipients and referrals name their persons in (not behind this gateway)."""
    async with platform_apps.residents_app(
        test_databases, token_verifier, tokens, registry_app, sync_database_urls["residents"]
    ) as app:
        yield app


@pytest.fixture(scope="session")
def clock() -> ManualClock:
    return ManualClock(TODAY)


@pytest.fixture(scope="session")
async def contracts_app(
    test_databases: TestDatabases,
    token_verifier: TokenVerifier,
    tokens: Tokens,
    registry_app: FastAPI,
    residents_app: FastAPI,
    clock: ManualClock,
    sync_database_urls: dict[str, str],
) -> AsyncIterator[FastAPI]:
    async with platform_apps.contracts_app(
        test_databases,
        token_verifier,
        tokens,
        registry_app,
        sync_database_urls["contracts"],
        clock,
        residents=residents_app,
    ) as app:
        yield app


@pytest.fixture(scope="session")
async def homecare_app(
    test_databases: TestDatabases,
    token_verifier: TokenVerifier,
    tokens: Tokens,
    registry_app: FastAPI,
    residents_app: FastAPI,
    sync_database_urls: dict[str, str],
) -> AsyncIterator[FastAPI]:
    async with platform_apps.homecare_app(
        test_databases,
        token_verifier,
        tokens,
        registry_app,
        sync_database_urls["homecare"],
        residents=residents_app,
    ) as app:
        yield app


@pytest.fixture(scope="session")
async def gateway_app(
    test_databases: TestDatabases,
    token_issuer: TokenIssuer,
    sync_database_urls: dict[str, str],
    registry_app: FastAPI,
    contracts_app: FastAPI,
    homecare_app: FastAPI,
) -> AsyncIterator[FastAPI]:
    apps = {"registry": registry_app, "contracts": contracts_app, "homecare": homecare_app}
    async with platform_apps.gateway_app(
        test_databases,
        token_issuer,
        sync_database_urls["gateway"],
        {name: httpx.ASGITransport(app=service_app) for name, service_app in apps.items()},
    ) as app:
        yield app


@pytest.fixture
async def live(
    registry_app: FastAPI, contracts_app: FastAPI, homecare_app: FastAPI, gateway_app: FastAPI, tokens: Tokens
) -> AsyncIterator[Live]:
    async with platform_apps.live_clients(
        registry_app, contracts_app, homecare_app, gateway_app, tokens
    ) as clients:
        yield clients
