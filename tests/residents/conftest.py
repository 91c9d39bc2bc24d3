"""Residents test harness: the real registry app runs in-process (its own test database) and the
residents app reaches it through its registry client, as it reaches the gateway in production.

The apps are package-scoped (they end with tests/residents, not with the session: PostgreSQL's
connections are shared). Fixtures:

- ``client`` / ``registry``: HTTP clients to the residents and registry apps whose writes are rolled back
  after the test; ``world`` (tests/residents/world.py) makes data and callers of every role through them.
- ``live_world``: the same over clients whose writes commit (concurrency); use data unique to the test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role, TokenVerifier
from libs.common.http_client import StaticTokenSource
from libs.common.testing import TestDatabases, Tokens, live_client, make_settings, rolled_back_client, running
from services.registry.app import create_app as create_registry_app
from services.registry.settings import RegistrySettings
from services.residents.app import create_app
from services.residents.settings import ResidentsSettings
from tests.residents.world import World


@pytest.fixture(scope="package")
async def registry_app(
    test_databases: TestDatabases, token_verifier: TokenVerifier
) -> AsyncIterator[FastAPI]:
    """The real registry app, in a schema (PostgreSQL) or file (SQLite) of its own."""
    settings = make_settings(
        RegistrySettings,
        test_databases,
        database_url=test_databases.url_for("residents_registry"),
        database_schema="residents_registry",
    )
    app = create_registry_app(settings, verifier=token_verifier)
    async with running(app):
        yield app


@pytest.fixture(scope="package")
async def residents_app(
    test_databases: TestDatabases, token_verifier: TokenVerifier, tokens: Tokens, registry_app: FastAPI
) -> AsyncIterator[FastAPI]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=registry_app), base_url="http://gateway"
    ) as registry_http:
        app = create_app(
            make_settings(ResidentsSettings, test_databases),
            verifier=token_verifier,
            registry_http=registry_http,
            registry_tokens=StaticTokenSource(tokens.token(Role.service, ttl=timedelta(hours=4))),
        )
        async with running(app):
            yield app


@pytest.fixture
async def registry(registry_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with rolled_back_client(registry_app, base_url="http://gateway") as client:
        yield client


@pytest.fixture
async def client(residents_app: FastAPI, registry: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    async with rolled_back_client(residents_app) as client:
        yield client


@pytest.fixture
def world(client: httpx.AsyncClient, registry: httpx.AsyncClient, tokens: Tokens) -> World:
    return World(client, registry, tokens)


@pytest.fixture
async def live_world(residents_app: FastAPI, registry_app: FastAPI, tokens: Tokens) -> AsyncIterator[World]:
    """Clients whose writes really commit (concurrency, and what only a commit shows); the data is
    unique to the test."""
    async with (
        live_client(registry_app, base_url="http://gateway") as registry,
        live_client(residents_app) as client,
    ):
        yield World(client, registry, tokens)
