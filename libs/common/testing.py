"""pytest plugin shared by every service's tests (``pytest_plugins = ["libs.common.testing"]``).

- The backend comes from ``TEST_DATABASE`` (``sqlite``, the default, or ``postgresql``). On PostgreSQL a
  database of its own is created for the session (``TEST_POSTGRES_URL`` names the server) and dropped
  at the end, so parallel runs never meet.
- Migrations run once per session (the app's lifespan applies them); each test then runs inside a
  transaction on one connection, rolled back at the end (:func:`rolled_back_client`). Tests of
  concurrency use :func:`live_client`, which commits for real.
- Tokens are minted by the real auth module with a key made for the session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from libs.common import response_cache
from libs.common.auth import (
    Principal,
    Role,
    TokenIssuer,
    TokenVerifier,
    generate_private_key_pem,
    principal_claims,
)
from libs.common.database import Database
from libs.common.feed_head import HEAD_SQL
from libs.common.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)
TEST_ISSUER = "yiyang-gateway"
TEST_AUDIENCE = "yiyang-platform"
TEST_SERVICES = ("gateway", "registry", "contracts", "homecare", "indicators", "residents", "sample")
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def backend() -> str:
    return os.environ.get("TEST_DATABASE", "sqlite")


class TestDatabases:
    """Where the services' test databases live for this session."""

    __test__ = False

    def __init__(self, root: Path, postgres_url: str | None) -> None:
        self.root = root
        self.postgres_url = postgres_url

    def url_for(self, service: str) -> str:
        if self.postgres_url:
            return self.postgres_url
        return f"sqlite+aiosqlite:///{self.root / (service + '.db')}"


async def _admin(sql: str, server_url: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def create_database(server_url: str, name: str) -> str:
    """Create the PostgreSQL database ``name`` on the server of ``server_url``; its URL."""
    await _admin(f'CREATE DATABASE "{name}"', server_url)
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_database(server_url: str, name: str) -> None:
    """Drop the PostgreSQL database ``name`` (connections still open to it are closed)."""
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', server_url)


@asynccontextmanager
async def scratch_database(server_url: str, name: str) -> AsyncIterator[str]:
    """A PostgreSQL database ``name`` for the block (its URL), dropped at the end."""
    url = await create_database(server_url, name)
    try:
        yield url
    finally:
        await drop_database(server_url, name)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres_only`` (races on row and advisory locks) run only on PostgreSQL;
    ``make test-postgres-only`` runs just them."""
    if backend() == "postgresql":
        return
    skip = pytest.mark.skip(reason="postgres_only: runs with TEST_DATABASE=postgresql")
    for item in items:
        if item.get_closest_marker("postgres_only") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
async def test_databases(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TestDatabases]:
    if backend() != "postgresql":
        yield TestDatabases(tmp_path_factory.mktemp("db"), None)
        return
    server = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    name = f"yyt_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    async with scratch_database(server, name) as url:
        yield TestDatabases(tmp_path_factory.mktemp("db"), url)


@pytest.fixture(scope="session")
def token_issuer() -> TokenIssuer:
    return TokenIssuer(generate_private_key_pem(), issuer=TEST_ISSUER, audience=TEST_AUDIENCE)


@pytest.fixture(scope="session")
def token_verifier(token_issuer: TokenIssuer) -> TokenVerifier:
    return TokenVerifier(issuer=TEST_ISSUER, audience=TEST_AUDIENCE, static_jwks=token_issuer.jwks())


def make_settings(settings_type: type[S], databases: TestDatabases, **overrides: Any) -> S:
    service = settings_type.model_fields["service_name"].default
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": databases.url_for(service),
        "database_schema": service,
        "migrate_on_start": True,
        "log_json": False,
        "gc_freeze_after_start": False,
        # PostgreSQL: a test app keeps two idle connections (bursts overflow and close again) — the suite
        # keeps many apps up at once (session- and package-scoped), and with the default ten each their idle
        # connections exhausted the server's 100 (fresh-clone CI: "too many clients" from tests/indicators on)
        "database_pool_size": 2,
        "jwt_issuer": TEST_ISSUER,
        "jwt_audience": TEST_AUDIENCE,
        # periodic jobs (retention) off: a test runs a pass itself (libs.common.jobs.run_pass)
        "retention_interval_seconds": 0,
        **overrides,
    }
    return settings_type(**values)


class Tokens:
    """Mints access tokens for tests: ``tokens.headers(Role.county_admin, "350206")``."""

    def __init__(self, issuer: TokenIssuer) -> None:
        self.issuer = issuer

    def token(
        self,
        role: Role,
        region_code: str = "350000",
        *,
        institution_id: uuid.UUID | None = None,
        practitioner_id: uuid.UUID | None = None,
        sub: str | None = None,
        ttl: timedelta = timedelta(minutes=15),
        audience: str | list[str] | None = None,
    ) -> str:
        """``audience``: the platform's by default; a ``service`` token names the services it may call
        (by default every service, as the tests' one service token calls them all)."""
        principal = Principal(
            sub=sub or f"{role.value}:{region_code}:{institution_id or ''}",
            role=role,
            region_code=region_code,
            institution_id=institution_id,
            practitioner_id=practitioner_id,
        )
        if audience is None and role is Role.service:
            audience = list(TEST_SERVICES)
        token, _ = self.issuer.issue(principal_claims(principal), ttl, audience=audience)
        return token

    def headers(self, role: Role, region_code: str = "350000", **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, region_code, **kwargs)}"}


@pytest.fixture(scope="session")
def tokens(token_issuer: TokenIssuer) -> Tokens:
    return Tokens(token_issuer)


class ConnectionBoundDatabase(Database):
    """A service database whose sessions all join one outer transaction (rolled back after the test)."""

    def __init__(self, base: Database, connection: AsyncConnection) -> None:
        self.settings = base.settings
        self.is_sqlite = base.is_sqlite
        self.engine = base.engine
        self.read_engine = base.read_engine
        self.head_probe = None  # the head is read on the test's connection (feed_head below)
        self._connection = connection

    def session(self, *, write: bool = True) -> AsyncSession:
        return AsyncSession(
            bind=self._connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
            autoflush=False,
        )

    async def ping(self) -> None:
        await self._connection.execute(text("SELECT 1"))

    async def feed_head(self) -> int:
        # on the test's connection: its transaction's writes are not committed, yet they are the head
        return int((await self._connection.execute(text(HEAD_SQL))).scalar_one())

    async def dispose(self) -> None:
        return None


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """Run an app's lifespan (migrations, database, clients) around a block."""
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def rolled_back_client(
    app: FastAPI, base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client to ``app`` whose every write is rolled back when the block ends."""
    database: Database = app.state.database
    # pages cached from the rolled-back data must not outlive it (a later test may reach the same feed
    # head: SQLite numbers the next entry after the last one left)
    response_cache.forget(app)
    async with database.engine.connect() as connection:
        transaction = await connection.begin()
        app.state.database = ConnectionBoundDatabase(database, connection)
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client:
                yield client
        finally:
            app.state.database = database
            await transaction.rollback()
            response_cache.forget(app)


@asynccontextmanager
async def live_client(app: FastAPI, base_url: str = "http://testserver") -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client whose writes commit (for concurrency tests; use data unique to the test)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client:
        yield client
