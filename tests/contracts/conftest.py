from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role, TokenVerifier
from libs.common.http_client import StaticTokenSource
from libs.common.testing import TestDatabases, Tokens, live_client, make_settings, rolled_back_client, running
from services.contracts.app import create_app
from services.contracts.clients.registry import RegistryClient
from services.contracts.clock import ManualClock
from services.contracts.settings import ContractsSettings
from services.registry.app import create_app as create_registry_app
from services.registry.settings import RegistrySettings
from services.residents.app import create_app as create_residents_app
from services.residents.settings import ResidentsSettings
from tests.contracts.registry_data import RegistryData

TODAY = date(2026, 3, 16)
#: the only region where tests commit data (live clients); no other test reads 三明
LIVE_REGION = "350404"
LIVE_CITY = "350400"


@pytest.fixture(scope="session")
async def registry_app(
    test_databases: TestDatabases, token_verifier: TokenVerifier
) -> AsyncIterator[FastAPI]:
    """The real registry app, in a schema (PostgreSQL) or file (SQLite) of its own, so that the
    concurrency tests may commit institutions without touching the registry's own tests."""
    settings = make_settings(
        RegistrySettings,
        test_databases,
        database_url=test_databases.url_for("contracts_registry"),
        database_schema="contracts_registry",
    )
    app = create_registry_app(settings, verifier=token_verifier)
    async with running(app):
        yield app


@pytest.fixture(scope="session")
async def residents_app(
    test_databases: TestDatabases, token_verifier: TokenVerifier, tokens: Tokens, registry_app: FastAPI
) -> AsyncIterator[FastAPI]:
    """The real residents app (the person index a referral's resident is found in or registered to),
    in a schema or file of its own."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=registry_app), base_url="http://gateway"
    ) as registry_http:
        app = create_residents_app(
            make_settings(
                ResidentsSettings,
                test_databases,
                database_url=test_databases.url_for("contracts_residents"),
                database_schema="contracts_residents",
            ),
            verifier=token_verifier,
            registry_http=registry_http,
            registry_tokens=StaticTokenSource(tokens.token(Role.service, ttl=timedelta(hours=4))),
        )
        async with running(app):
            yield app


@pytest.fixture(scope="session")
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 16, 1, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
async def contracts_app(
    test_databases: TestDatabases,
    token_verifier: TokenVerifier,
    tokens: Tokens,
    registry_app: FastAPI,
    residents_app: FastAPI,
    clock: ManualClock,
) -> AsyncIterator[FastAPI]:
    # the contracts' own service caller, with what the registry grants it (services/registry/permissions.py)
    service_token = tokens.token(Role.service, sub="service:contracts", ttl=timedelta(hours=6))

    def registry_client(_app: FastAPI) -> RegistryClient:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=registry_app), base_url="http://gateway")
        return RegistryClient(http, StaticTokenSource(service_token), max_concurrency=1)

    settings = make_settings(
        ContractsSettings,
        test_databases,
        calendar_interval_seconds=0,
        document_max_bytes=64 * 1024,
        # coverage reads the registry's latest writes at once: each request catches the snapshot up
        registry_snapshot_interval_seconds=0,
        registry_snapshot_max_age_seconds=0,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=residents_app), base_url="http://gateway"
    ) as residents_http:
        app = create_app(
            settings,
            verifier=token_verifier,
            registry_client_factory=registry_client,
            clock=clock,
            residents_http=residents_http,
            residents_tokens=StaticTokenSource(service_token),
        )
        async with running(app):
            yield app


@pytest.fixture(autouse=True)
def _reset_clock(clock: ManualClock) -> None:
    clock.set_today(TODAY)


@pytest.fixture
async def registry(registry_app: FastAPI, tokens: Tokens) -> AsyncIterator[RegistryData]:
    async with rolled_back_client(registry_app, base_url="http://gateway") as client:
        yield RegistryData(client, registry_app, tokens)


@pytest.fixture
async def client(contracts_app: FastAPI, registry: RegistryData) -> AsyncIterator[httpx.AsyncClient]:
    async with rolled_back_client(contracts_app) as client:
        yield client


def agreement_body(medical: dict[str, Any], elderly: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "medical_institution_id": medical["id"],
        "elderly_institution_id": elderly["id"],
        "services": ["medical_rounds", "two_way_referral", "emergency_green_channel"],
        "visit_count": 1,
        "visit_period": "week",
        "visit_staff": "全科医师1名、护士1名",
        "fee_payer": "elderly_care_party",
        "fee_amount_yuan": "12000.00",
        "start_date": "2026-04-01",
        "end_date": "2027-03-31",
        "medical_contact": {"name": "李主任", "phone": "13812345678"},
        "elderly_contact": {"name": "王院长", "phone": "13912345678"},
    }
    body.update(overrides)
    return body


@pytest.fixture
async def live_registry(registry_app: FastAPI, tokens: Tokens) -> AsyncIterator[RegistryData]:
    """Registry data that is committed (for tests whose requests run concurrently)."""
    async with live_client(registry_app, base_url="http://gateway") as client:
        yield RegistryData(client, registry_app, tokens)
