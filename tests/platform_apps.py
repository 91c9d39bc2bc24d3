"""The REAL platform apps in-process, for the suites that run several services together
(tests/cross_service, tests/indicators): each builder is an async context manager that creates an app
and runs its lifespan around the block. The conftests keep their own fixtures (names, scopes, database
URLs) and call these.

The services reach the registry through ASGI transports, as in tests/contracts and tests/homecare, with
service tokens of the session's test key; the gateway proxies ``/api/v1/{service}/...`` to the apps it
is given a transport for.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from libs.common.auth import Role, TokenIssuer, TokenVerifier
from libs.common.http_client import StaticTokenSource
from libs.common.testing import (
    TestDatabases,
    Tokens,
    live_client,
    make_settings,
    running,
    scratch_database,
)
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
from services.residents.app import create_app as create_residents_app
from services.residents.settings import ResidentsSettings

#: "today" of the contracts service in these tests (agreements' dates are set around it)
TODAY = datetime(2026, 3, 16, 1, 0, tzinfo=UTC)


def upstream_url(service: str) -> str:
    """The base URL the gateway is configured with for ``service`` (served by an ASGI transport)."""
    return f"http://{service}.test"


@asynccontextmanager
async def database_urls(
    test_databases: TestDatabases, services: Iterable[str], *, sqlite_prefix: str, postgres_suffix: str
) -> AsyncIterator[dict[str, str]]:
    """A database URL per service: a SQLite file ``<sqlite_prefix>_<service>.db`` each, or one
    PostgreSQL database ``<test db>_<postgres_suffix>`` (a schema per service), dropped at the end."""
    if test_databases.postgres_url is None:
        yield {s: f"sqlite+aiosqlite:///{test_databases.root / f'{sqlite_prefix}_{s}.db'}" for s in services}
        return
    server = make_url(test_databases.postgres_url)
    async with scratch_database(
        server.render_as_string(hide_password=False), f"{server.database}_{postgres_suffix}"
    ) as url:
        yield dict.fromkeys(services, url)


def _service_token(tokens: Tokens) -> StaticTokenSource:
    return StaticTokenSource(tokens.token(Role.service, ttl=timedelta(hours=6)))


@asynccontextmanager
async def registry_app(
    test_databases: TestDatabases, token_verifier: TokenVerifier, database_url: str
) -> AsyncIterator[FastAPI]:
    settings = make_settings(RegistrySettings, test_databases, database_url=database_url)
    async with running(create_registry_app(settings, verifier=token_verifier)) as app:
        yield app


@asynccontextmanager
async def residents_app(
    test_databases: TestDatabases,
    token_verifier: TokenVerifier,
    tokens: Tokens,
    registry: FastAPI,
    database_url: str,
) -> AsyncIterator[FastAPI]:
    """The residents service (issue 19): the person index homecare's recipients and contracts' referrals
    name their persons in; reaches the registry in-process."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=registry), base_url="http://gateway"
    ) as registry_http:
        settings = make_settings(ResidentsSettings, test_databases, database_url=database_url)
        app = create_residents_app(
            settings,
            verifier=token_verifier,
            registry_http=registry_http,
            registry_tokens=_service_token(tokens),
        )
        async with running(app):
            yield app


def _residents_http(residents: FastAPI | None) -> httpx.AsyncClient | None:
    if residents is None:
        return None
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=residents), base_url="http://gateway")


@asynccontextmanager
async def contracts_app(
    test_databases: TestDatabases,
    token_verifier: TokenVerifier,
    tokens: Tokens,
    registry: FastAPI,
    database_url: str,
    clock: ManualClock,
    residents: FastAPI | None = None,
) -> AsyncIterator[FastAPI]:
    """``residents``: the person index a referral's resident is found in (without it, requesting a
    referral answers 503 residents_unavailable)."""
    token_source = _service_token(tokens)

    def registry_client(_app: FastAPI) -> ContractsRegistryClient:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=registry), base_url="http://gateway")
        # one registry call at a time: a rolled-back registry serves every request on one connection
        return ContractsRegistryClient(http, token_source, max_concurrency=1)

    settings = make_settings(
        ContractsSettings,
        test_databases,
        database_url=database_url,
        calendar_interval_seconds=0,
        # coverage catches its registry snapshot up on each request (tests read their writes at once)
        registry_snapshot_interval_seconds=0,
        registry_snapshot_max_age_seconds=0,
    )
    residents_http = _residents_http(residents)
    app = create_contracts_app(
        settings,
        verifier=token_verifier,
        registry_client_factory=registry_client,
        clock=clock,
        residents_http=residents_http,
        residents_tokens=token_source if residents_http is not None else None,
    )
    try:
        async with running(app):
            yield app
    finally:
        if residents_http is not None:
            await residents_http.aclose()


@asynccontextmanager
async def homecare_app(
    test_databases: TestDatabases,
    token_verifier: TokenVerifier,
    tokens: Tokens,
    registry: FastAPI,
    database_url: str,
    residents: FastAPI | None = None,
) -> AsyncIterator[FastAPI]:
    """``residents``: the person index recipients name their persons in (without it, registering a
    recipient answers 503 residents_unavailable)."""
    residents_http = _residents_http(residents)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=registry), base_url="http://gateway"
    ) as registry_http:
        settings = make_settings(HomecareSettings, test_databases, database_url=database_url)
        app = create_homecare_app(
            settings,
            verifier=token_verifier,
            registry_http=registry_http,
            registry_tokens=_service_token(tokens),
            residents_http=residents_http,
            residents_tokens=_service_token(tokens) if residents_http is not None else None,
        )
        try:
            async with running(app):
                yield app
        finally:
            if residents_http is not None:
                await residents_http.aclose()


@asynccontextmanager
async def gateway_app(
    test_databases: TestDatabases,
    token_issuer: TokenIssuer,
    database_url: str,
    upstreams: Mapping[str, httpx.AsyncBaseTransport],
    **settings_overrides: Any,
) -> AsyncIterator[FastAPI]:
    """The gateway, proxying each service of ``upstreams`` to its transport."""
    settings = make_settings(
        GatewaySettings,
        test_databases,
        database_url=database_url,
        **{f"{service}_url": upstream_url(service) for service in upstreams},
        **settings_overrides,
    )
    app = create_gateway_app(
        settings,
        issuer=token_issuer,
        upstream_mounts={upstream_url(service): transport for service, transport in upstreams.items()},
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


@asynccontextmanager
async def live_clients(
    registry: FastAPI, contracts: FastAPI, homecare: FastAPI, gateway: FastAPI, tokens: Tokens
) -> AsyncIterator[Live]:
    async with (
        live_client(registry, base_url="http://gateway") as registry_client,
        live_client(contracts) as contracts_client,
        live_client(homecare) as homecare_client,
        live_client(gateway) as gateway_client,
    ):
        yield Live(registry_client, contracts_client, homecare_client, gateway_client, tokens)
