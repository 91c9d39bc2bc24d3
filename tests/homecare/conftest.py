"""Homecare test harness: the real registry and residents apps run in-process (their own test databases)
and the homecare app reaches them through its registry and residents clients, as it reaches the gateway
in production (the residents: a person's latest ability assessment for the disability rules).
``residents`` is a rolled-back client to the residents app: while a test holds it, what it writes there
is what homecare reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role, TokenVerifier
from libs.common.http_client import StaticTokenSource
from libs.common.testing import TestDatabases, Tokens, live_client, make_settings, rolled_back_client, running
from services.homecare.app import SERVICE_CLIENT_ID, create_app
from services.homecare.settings import HomecareSettings
from services.registry.app import create_app as create_registry_app
from services.registry.settings import RegistrySettings
from services.residents.app import create_app as create_residents_app
from services.residents.settings import ResidentsSettings
from tests.homecare.held_registry import HeldRegistry, held_registry_for
from tests.homecare.world import World


@pytest.fixture(scope="session")
async def registry_app(
    test_databases: TestDatabases, token_verifier: TokenVerifier
) -> AsyncIterator[FastAPI]:
    """The real registry app, in a schema (PostgreSQL) or file (SQLite) of its own."""
    settings = make_settings(
        RegistrySettings,
        test_databases,
        database_url=test_databases.url_for("homecare_registry"),
        database_schema="homecare_registry",
    )
    app = create_registry_app(settings, verifier=token_verifier)
    async with running(app):
        yield app


@pytest.fixture(scope="session")
async def residents_app(
    test_databases: TestDatabases, token_verifier: TokenVerifier, tokens: Tokens, registry_app: FastAPI
) -> AsyncIterator[FastAPI]:
    """The real residents app (persons, ability assessments), in a schema or file of its own."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=registry_app), base_url="http://gateway"
    ) as registry_http:
        app = create_residents_app(
            make_settings(
                ResidentsSettings,
                test_databases,
                database_url=test_databases.url_for("homecare_residents"),
                database_schema="homecare_residents",
            ),
            verifier=token_verifier,
            registry_http=registry_http,
            registry_tokens=StaticTokenSource(tokens.token(Role.service, ttl=timedelta(hours=4))),
        )
        async with running(app):
            yield app


@pytest.fixture(scope="session")
async def homecare_app(
    test_databases: TestDatabases,
    token_verifier: TokenVerifier,
    tokens: Tokens,
    registry_app: FastAPI,
    residents_app: FastAPI,
) -> AsyncIterator[FastAPI]:
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=registry_app), base_url="http://gateway"
        ) as registry_http,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=residents_app), base_url="http://gateway"
        ) as residents_http,
    ):
        app = create_app(
            # an event stream ends after a second here: the walks over every endpoint (permissions,
            # forged cursors) read it through the ASGI transport, which waits for the whole body;
            # tests/homecare/events lengthen it for their own streams
            make_settings(
                HomecareSettings, test_databases, events_stream_seconds=1.0, events_heartbeat_seconds=0.5
            ),
            verifier=token_verifier,
            registry_http=registry_http,
            registry_tokens=StaticTokenSource(tokens.token(Role.service, ttl=timedelta(hours=4))),
            residents_http=residents_http,
            # homecare's own service token (sub service:homecare), as the gateway would issue it
            residents_tokens=StaticTokenSource(
                tokens.token(Role.service, ttl=timedelta(hours=4), sub=f"service:{SERVICE_CLIENT_ID}")
            ),
        )
        async with running(app):
            # a rolled-back residents client serves every request on one connection: one at a time
            app.state.residents.concurrency = 1
            yield app


@pytest.fixture
async def residents(residents_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with rolled_back_client(residents_app, base_url="http://gateway") as client:
        yield client


@pytest.fixture
async def registry(registry_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with rolled_back_client(registry_app, base_url="http://gateway") as client:
        yield client


@pytest.fixture
async def client(homecare_app: FastAPI, registry: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async with rolled_back_client(homecare_app) as client:
        yield client


@pytest.fixture
def world(client: httpx.AsyncClient, registry: httpx.AsyncClient, tokens: Tokens) -> World:
    return World(client, registry, tokens)


@pytest.fixture
async def live_world(homecare_app: FastAPI, registry_app: FastAPI, tokens: Tokens) -> AsyncIterator[World]:
    """Clients whose writes really commit (concurrency, and what only a commit shows); the data is
    unique to the test."""
    async with (
        live_client(registry_app, base_url="http://gateway") as registry,
        live_client(homecare_app) as client,
    ):
        yield World(client, registry, tokens)


@pytest.fixture
async def held_registry(
    homecare_app: FastAPI, registry_app: FastAPI, tokens: Tokens
) -> AsyncIterator[HeldRegistry]:
    """The homecare app's registry, holdable at the practitioner look-up (tests/homecare/held_registry.py)."""
    async with held_registry_for(homecare_app, registry_app, tokens) as held:
        yield held
