"""Fixtures of the gateway's tests: the gateway app (signing with the session's test key, so that tokens
of the ``tokens`` fixture and the gateway's own are verified alike) and the REAL registry app in-process,
which the gateway reaches at ``http://registry.test`` through an ASGI transport."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from functools import cache

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role, TokenIssuer, TokenVerifier
from libs.common.database import Database, session_scope
from libs.common.testing import TestDatabases, make_settings, rolled_back_client, running
from services.gateway import passwords
from services.gateway.accounts.models import User
from services.gateway.api_clients.models import ApiClient
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.registry.app import create_app as create_registry_app
from services.registry.settings import RegistrySettings

REGISTRY_URL = "http://registry.test"
SERVICE_SECRET = "registry-service-secret"
CONTRACTS_SECRET = "contracts-service-secret-0123456789"
HOMECARE_SECRET = "homecare-service-secret-0123456789"
PASSWORD = "Test@2026pw"
CLIENT_SECRET = "city-platform-secret-0123456789"


@cache
def password_hash(password: str = PASSWORD) -> str:
    return passwords.hash_sync(password)


def gateway_settings(test_databases: TestDatabases, **overrides: object) -> GatewaySettings:
    values: dict[str, object] = {
        "registry_url": REGISTRY_URL,
        "service_clients": {
            "registry": SERVICE_SECRET,
            "contracts": CONTRACTS_SECRET,
            "homecare": HOMECARE_SECRET,
        },
        "login_max_failures_per_account": 3,
        "login_max_failures_per_address": 6,
        "login_window_seconds": 600,
        **overrides,
    }
    return make_settings(GatewaySettings, test_databases, **values)


@pytest.fixture(scope="session")
async def registry_app(
    test_databases: TestDatabases, token_verifier: TokenVerifier
) -> AsyncIterator[FastAPI]:
    app = create_registry_app(make_settings(RegistrySettings, test_databases), verifier=token_verifier)
    async with running(app):
        yield app


@pytest.fixture(scope="session")
async def gateway_app(
    test_databases: TestDatabases, token_issuer: TokenIssuer, registry_app: FastAPI
) -> AsyncIterator[FastAPI]:
    app = create_app(
        gateway_settings(test_databases),
        issuer=token_issuer,
        upstream_mounts={REGISTRY_URL: httpx.ASGITransport(app=registry_app)},
    )
    async with running(app):
        yield app


@pytest.fixture
async def client(gateway_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with rolled_back_client(gateway_app) as client:
        yield client


@pytest.fixture
async def registry_client(registry_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with rolled_back_client(registry_app) as client:
        yield client


async def add_user(
    database: Database,
    username: str,
    role: Role,
    region_code: str,
    *,
    institution_id: uuid.UUID | None = None,
    practitioner_id: uuid.UUID | None = None,
    active: bool = True,
    password: str = PASSWORD,
) -> User:
    user = User(
        username=username,
        display_name=f"测试 {username}",
        password_hash=password_hash(password),
        role=role.value,
        region_code=region_code,
        institution_id=institution_id,
        practitioner_id=practitioner_id,
        active=active,
    )
    async with session_scope(database) as session:
        session.add(user)
    return user


async def add_api_client(
    database: Database, client_id: str, region_code: str = "350200", *, active: bool = True
) -> ApiClient:
    client = ApiClient(
        client_id=client_id,
        name=f"测试平台 {client_id}",
        role=Role.city_platform.value,
        region_code=region_code,
        secret_hash=password_hash(CLIENT_SECRET),
        active=active,
    )
    async with session_scope(database) as session:
        session.add(client)
    return client


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, **kwargs: object
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
        **kwargs,  # type: ignore[arg-type]
    )


class SlowServer:
    """A tiny TCP server on loopback that accepts requests and never answers (until closed)."""

    def __init__(self) -> None:
        self.url = ""
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._release = asyncio.Event()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await reader.read(65536)
            await self._release.wait()
        finally:
            writer.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture(scope="session")
async def slow_server() -> AsyncIterator[SlowServer]:
    server = SlowServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
def closed_port_url() -> str:
    """A loopback port with nothing listening: connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
