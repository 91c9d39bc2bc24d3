"""Fixtures of the indicators tests: the REAL registry, contracts, homecare, gateway and indicators apps
in-process (built by tests/platform_apps.py), on databases of their own (a SQLite file each, or one
PostgreSQL database ``<test db>_indicators`` with a schema per service).

The indicators follow the feeds as in production: through the gateway, with service tokens the gateway
issues to its ``indicators`` service client. Between the gateway and the registry, and between the
indicators and the gateway, sits a :class:`Switch` that can make the hop fail (the source answering 503,
connection refused) — the only thing that is not the real platform.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role, TokenIssuer, TokenVerifier
from libs.common.database import Database
from libs.common.http_client import StaticTokenSource
from libs.common.testing import TestDatabases, Tokens, make_settings, running
from services.contracts.clock import ManualClock
from services.indicators.app import create_app as create_indicators_app
from services.indicators.followers.follower import Followers
from services.indicators.rebuild import clear
from services.indicators.settings import IndicatorsSettings
from services.residents.app import create_app as create_residents_app
from services.residents.settings import ResidentsSettings
from tests import platform_apps
from tests.platform_apps import TODAY, Live

SERVICES = ("gateway", "registry", "contracts", "homecare", "residents", "indicators")
INDICATORS_SECRET = "indicators-test-secret"


class Switch(httpx.AsyncBaseTransport):
    """A hop that works (``up``), answers 503 (``unavailable``) or refuses connections (``refused``)."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner
        self.mode: Literal["up", "unavailable", "refused"] = "up"
        self.failed = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.mode == "refused":
            self.failed += 1
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if self.mode == "unavailable":
            self.failed += 1
            body = b'{"type":"about:blank","title":"Service Unavailable","status":503,"code":"down"}'
            return httpx.Response(  # a stream, as a real upstream's: the gateway relays it unread
                503,
                headers={"Content-Type": "application/problem+json", "Content-Length": str(len(body))},
                stream=httpx.ByteStream(body),
                request=request,
            )
        assert self.inner is not None
        return await self.inner.handle_async_request(request)


@pytest.fixture(scope="session")
async def indicators_database_urls(test_databases: TestDatabases) -> AsyncIterator[dict[str, str]]:
    async with platform_apps.database_urls(
        test_databases, SERVICES, sqlite_prefix="ind", postgres_suffix="indicators"
    ) as urls:
        yield urls


@pytest.fixture(scope="session")
async def registry_app(
    test_databases: TestDatabases, token_verifier: TokenVerifier, indicators_database_urls: dict[str, str]
) -> AsyncIterator[FastAPI]:
    async with platform_apps.registry_app(
        test_databases, token_verifier, indicators_database_urls["registry"]
    ) as app:
        yield app


@pytest.fixture(scope="session")
async def contracts_app(
    test_databases: TestDatabases,
    token_verifier: TokenVerifier,
    tokens: Tokens,
    registry_app: FastAPI,
    residents_app: FastAPI,
    indicators_database_urls: dict[str, str],
) -> AsyncIterator[FastAPI]:
    async with platform_apps.contracts_app(
        test_databases,
        token_verifier,
        tokens,
        registry_app,
        indicators_database_urls["contracts"],
        ManualClock(TODAY),
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
    indicators_database_urls: dict[str, str],
) -> AsyncIterator[FastAPI]:
    async with platform_apps.homecare_app(
        test_databases,
        token_verifier,
        tokens,
        registry_app,
        indicators_database_urls["homecare"],
        residents=residents_app,
    ) as app:
        yield app


@pytest.fixture(scope="session")
async def residents_app(
    test_databases: TestDatabases,
    token_verifier: TokenVerifier,
    tokens: Tokens,
    registry_app: FastAPI,
    indicators_database_urls: dict[str, str],
) -> AsyncIterator[FastAPI]:
    """The residents service (issue 19), reaching the registry in-process."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=registry_app), base_url="http://gateway"
    ) as registry_http:
        settings = make_settings(
            ResidentsSettings, test_databases, database_url=indicators_database_urls["residents"]
        )
        app = create_residents_app(
            settings,
            verifier=token_verifier,
            registry_http=registry_http,
            registry_tokens=StaticTokenSource(tokens.token(Role.service, ttl=timedelta(hours=6))),
        )
        async with running(app):
            yield app


@dataclass
class Hops:
    """The switchable hops: the gateway → registry, and the indicators → gateway."""

    registry: Switch
    gateway: Switch

    def reset(self) -> None:
        self.registry.mode = self.gateway.mode = "up"
        self.registry.failed = self.gateway.failed = 0


@pytest.fixture(scope="session")
def hops() -> Hops:
    return Hops(registry=Switch(), gateway=Switch())


@pytest.fixture(scope="session")
def indicators_settings(
    test_databases: TestDatabases, indicators_database_urls: dict[str, str]
) -> IndicatorsSettings:
    return make_settings(
        IndicatorsSettings,
        test_databases,
        database_url=indicators_database_urls["indicators"],
        service_client_secret=INDICATORS_SECRET,
        follow_interval_seconds=0,  # no follower runs unless a test starts it
        follow_batch_size=50,
    )


def indicators_app_for(settings: IndicatorsSettings, verifier: TokenVerifier, hops: Hops) -> FastAPI:
    """An indicators app reaching the gateway through the switchable hop (a new one = a restart)."""
    gateway_http = httpx.AsyncClient(transport=hops.gateway, base_url="http://gateway")
    return create_indicators_app(settings, verifier=verifier, gateway_http=gateway_http)


@pytest.fixture(scope="session")
async def platform(
    test_databases: TestDatabases,
    token_issuer: TokenIssuer,
    token_verifier: TokenVerifier,
    indicators_database_urls: dict[str, str],
    indicators_settings: IndicatorsSettings,
    hops: Hops,
    registry_app: FastAPI,
    contracts_app: FastAPI,
    homecare_app: FastAPI,
    residents_app: FastAPI,
) -> AsyncIterator[tuple[FastAPI, FastAPI]]:
    """(gateway, indicators), both started: the gateway routes to the five services and issues the
    indicators' service tokens; the indicators reach it through ``hops.gateway``."""
    indicators_app = indicators_app_for(indicators_settings, token_verifier, hops)
    hops.registry.inner = httpx.ASGITransport(app=registry_app)
    upstreams: dict[str, httpx.AsyncBaseTransport] = {
        "registry": hops.registry,
        "contracts": httpx.ASGITransport(app=contracts_app),
        "homecare": httpx.ASGITransport(app=homecare_app),
        "residents": httpx.ASGITransport(app=residents_app),
        "indicators": httpx.ASGITransport(app=indicators_app),
    }
    async with platform_apps.gateway_app(
        test_databases,
        token_issuer,
        indicators_database_urls["gateway"],
        upstreams,
        service_clients={"indicators": INDICATORS_SECRET},
    ) as gateway_app:
        hops.gateway.inner = httpx.ASGITransport(app=gateway_app)
        async with running(indicators_app):
            yield gateway_app, indicators_app


@dataclass(frozen=True)
class Indicators:
    """The started indicators app (its read model cleared for the test) and what the tests drive."""

    app: FastAPI
    settings: IndicatorsSettings
    hops: Hops

    @property
    def database(self) -> Database:
        database: Database = self.app.state.database
        return database

    @property
    def followers(self) -> Followers:
        followers: Followers = self.app.state.followers
        return followers


@pytest.fixture
async def indicators(
    platform: tuple[FastAPI, FastAPI], indicators_settings: IndicatorsSettings, hops: Hops
) -> AsyncIterator[Indicators]:
    """The indicators from nothing (no fact, no cursor), every hop up."""
    _gateway, app = platform
    hops.reset()
    await clear(app.state.database)
    yield Indicators(app, indicators_settings, hops)
    await app.state.followers.stop()
    hops.reset()


@pytest.fixture
async def live(
    registry_app: FastAPI,
    contracts_app: FastAPI,
    homecare_app: FastAPI,
    platform: tuple[FastAPI, FastAPI],
    tokens: Tokens,
) -> AsyncIterator[Live]:
    """Clients whose writes commit: straight to each service, and through the gateway."""
    gateway_app, _indicators = platform
    async with platform_apps.live_clients(
        registry_app, contracts_app, homecare_app, gateway_app, tokens
    ) as clients:
        yield clients
