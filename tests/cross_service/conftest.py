"""Fixtures of the sync tests (issue 7): the REAL registry, contracts, homecare and gateway apps
in-process, on databases of their own (a SQLite file each, or one PostgreSQL database ``<test db>_sync``
with a schema per service), so that the data these tests commit never meets another suite's.

The services reach the registry through ASGI transports, as in tests/contracts and tests/homecare; the
gateway proxies ``/api/v1/{service}/...`` to the three apps, and issues tokens with the session's test
key, which the services verify.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.auth import Role, TokenIssuer, TokenVerifier
from libs.common.http_client import StaticTokenSource
from libs.common.testing import TestDatabases, Tokens, live_client, make_settings, running
from services.contracts.app import create_app as create_contracts_app
from services.contracts.clients.registry import RegistryClient as ContractsRegistryClient
from services.contracts.clock import ManualClock
from services.contracts.settings import ContractsSettings
from services.gateway.app import create_app as create_gateway_app
from services.gateway.settings import GatewaySettings
from services.homecare.app import create_app as create_homecare_app
from services.homecare.settings import HomecareSettings
from services.registry.app import create_app as create_registry_app
from services.registry.settings import RegistrySettings

SERVICES = ("gateway", "registry", "contracts", "homecare")
UPSTREAMS = {
    "registry": "http://registry.test",
    "contracts": "http://contracts.test",
    "homecare": "http://homecare.test",
}
#: "today" of the contracts service in these tests (agreements' dates are set around it)
TODAY = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)


async def _admin(server_url: str, sql: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def sync_database_urls(test_databases: TestDatabases) -> AsyncIterator[dict[str, str]]:
    if test_databases.postgres_url is None:
        yield {s: f"sqlite+aiosqlite:///{test_databases.root / f'sync_{s}.db'}" for s in SERVICES}
        return
    url = make_url(test_databases.postgres_url)
    name = f"{url.database}_sync"
    server = url.render_as_string(hide_password=False)
    await _admin(server, f'CREATE DATABASE "{name}"')
    try:
        own = url.set(database=name).render_as_string(hide_password=False)
        yield dict.fromkeys(SERVICES, own)
    finally:
        await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _service_token(tokens: Tokens) -> StaticTokenSource:
    return StaticTokenSource(tokens.token(Role.service, ttl=timedelta(hours=6)))


@pytest.fixture(scope="session")
async def registry_app(
    test_databases: TestDatabases, token_verifier: TokenVerifier, sync_database_urls: dict[str, str]
) -> AsyncIterator[FastAPI]:
    settings = make_settings(RegistrySettings, test_databases, database_url=sync_database_urls["registry"])
    app = create_registry_app(settings, verifier=token_verifier)
    async with running(app):
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
    clock: ManualClock,
    sync_database_urls: dict[str, str],
) -> AsyncIterator[FastAPI]:
    token_source = _service_token(tokens)

    def registry_client(_app: FastAPI) -> ContractsRegistryClient:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=registry_app), base_url="http://gateway")
        # one registry call at a time: a rolled-back registry serves every request on one connection
        return ContractsRegistryClient(http, token_source, max_concurrency=1)

    settings = make_settings(
        ContractsSettings,
        test_databases,
        database_url=sync_database_urls["contracts"],
        calendar_interval_seconds=0,
    )
    app = create_contracts_app(
        settings, verifier=token_verifier, registry_client_factory=registry_client, clock=clock
    )
    async with running(app):
        yield app


@pytest.fixture(scope="session")
async def homecare_app(
    test_databases: TestDatabases,
    token_verifier: TokenVerifier,
    tokens: Tokens,
    registry_app: FastAPI,
    sync_database_urls: dict[str, str],
) -> AsyncIterator[FastAPI]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=registry_app), base_url="http://gateway"
    ) as registry_http:
        settings = make_settings(
            HomecareSettings, test_databases, database_url=sync_database_urls["homecare"]
        )
        app = create_homecare_app(
            settings,
            verifier=token_verifier,
            registry_http=registry_http,
            registry_tokens=_service_token(tokens),
        )
        async with running(app):
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
    settings = make_settings(
        GatewaySettings,
        test_databases,
        database_url=sync_database_urls["gateway"],
        **{f"{service}_url": url for service, url in UPSTREAMS.items()},
    )
    app = create_gateway_app(
        settings,
        issuer=token_issuer,
        upstream_mounts={
            UPSTREAMS[name]: httpx.ASGITransport(app=service_app) for name, service_app in apps.items()
        },
    )
    async with running(app):
        yield app


@dataclass(frozen=True)
class Live:
    """Clients whose writes commit: straight to each service, and through the gateway."""

    registry: httpx.AsyncClient
    contracts: httpx.AsyncClient
    homecare: httpx.AsyncClient
    gateway: httpx.AsyncClient
    tokens: Tokens


@pytest.fixture
async def live(
    registry_app: FastAPI, contracts_app: FastAPI, homecare_app: FastAPI, gateway_app: FastAPI, tokens: Tokens
) -> AsyncIterator[Live]:
    async with (
        live_client(registry_app, base_url="http://gateway") as registry,
        live_client(contracts_app) as contracts,
        live_client(homecare_app) as homecare,
        live_client(gateway_app) as gateway,
    ):
        yield Live(registry, contracts, homecare, gateway, tokens)
