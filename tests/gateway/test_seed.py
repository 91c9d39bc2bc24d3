from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from demo import DEMO_PASSWORD, demo_id
from demo.gateway import DEMO_ACCOUNTS, PLATFORM_CLIENT_SECRET, seed
from libs.common.auth import TokenIssuer
from libs.common.database import Database, session_scope
from libs.common.testing import TestDatabases, live_client, make_settings, running
from services.gateway.accounts.models import User
from services.gateway.api_clients.models import ApiClient
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from tests.gateway.conftest import login


def _own_database(test_databases: TestDatabases) -> GatewaySettings:
    """A database of its own (the seed commits for real and must not meet the other tests' data)."""
    url = test_databases.url_for("gateway")
    if url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{test_databases.root / 'gateway_seed.db'}"
    return make_settings(GatewaySettings, test_databases, database_url=url, database_schema="gateway_seed")


async def test_seed_creates_every_demo_account_once_and_they_can_log_in(
    test_databases: TestDatabases, token_issuer: TokenIssuer
) -> None:
    settings = _own_database(test_databases)
    app = create_app(settings, issuer=token_issuer)
    async with running(app), live_client(app) as client:
        await _check_seed(settings, client)


async def _check_seed(settings: GatewaySettings, client: httpx.AsyncClient) -> None:
    await seed(settings)
    await seed(settings)  # idempotent
    database = Database(settings)
    try:
        async with session_scope(database, write=False) as session:
            count = await session.scalar(
                select(func.count()).where(User.username.in_([a.username for a in DEMO_ACCOUNTS]))
            )
            nurse = await session.scalar(select(User).where(User.username == "xinkaiyuan_nurse"))
            clients = await session.scalar(
                select(func.count()).where(ApiClient.client_id == "xm_city_platform")
            )
    finally:
        await database.dispose()
    assert count == len(DEMO_ACCOUNTS) == 13
    assert clients == 1
    assert nurse is not None
    assert nurse.institution_id == demo_id("institution", "厦门新开元医院")
    assert nurse.practitioner_id == demo_id("practitioner", "林晓燕")

    assert (await login(client, "prov_admin", DEMO_PASSWORD)).status_code == 200
    platform = await client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "xm_city_platform",
            "client_secret": PLATFORM_CLIENT_SECRET,
        },
    )
    assert platform.status_code == 200


async def test_seed_refuses_production(test_databases: TestDatabases) -> None:
    settings = make_settings(GatewaySettings, test_databases, environment="production")
    with pytest.raises(SystemExit):
        await seed(settings)
