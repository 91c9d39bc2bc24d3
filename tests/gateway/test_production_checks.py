"""The gateway refuses to start in production with the development signing key, weak or development
service-client secrets, or demo credentials that still sign in; a proper configuration starts. The
retention of login attempts is never shorter than what the throttling reads. (Common checks:
tests/common/test_production_checks.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import update

from demo.gateway import DEMO_ACCOUNTS, PLATFORM_CLIENT_ID, seed
from libs.common.auth import TokenIssuer, ensure_dev_key_file, generate_private_key_pem
from libs.common.database import Database, session_scope
from libs.common.personal_data import generate_key
from libs.common.production import ProductionConfigError
from libs.common.testing import TestDatabases, live_client, make_settings, running
from services.gateway import passwords
from services.gateway.accounts.models import User
from services.gateway.api_clients.models import ApiClient
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings
from services.gateway.signing import DEV_KEY_FILE
from tests.gateway.conftest import gateway_settings

STRONG = {
    "registry": "registry-0123456789-0123456789-0123",
    "contracts": "contracts-0123456789-0123456789-012",
    "homecare": "homecare-0123456789-0123456789-0123",
}


def _production(test_databases: TestDatabases, tmp_path: Path, **overrides: Any) -> GatewaySettings:
    key_file = tmp_path / "signing.pem"
    if not key_file.exists():
        key_file.write_text(generate_private_key_pem())
    values: dict[str, Any] = {
        "environment": "production",
        "signing_key_file": str(key_file),
        "service_clients": STRONG,
        "personal_data_keys": {"2026a": generate_key()},
        "personal_data_primary_key_id": "2026a",
        "personal_data_lookup_key": generate_key(),
        **overrides,
    }
    return gateway_settings(test_databases, **values)


def _refusal(settings: GatewaySettings) -> str:
    with pytest.raises(ProductionConfigError) as refused:
        create_app(settings)
    return str(refused.value)


async def test_a_proper_production_configuration_starts_and_signs(
    test_databases: TestDatabases, tmp_path: Path
) -> None:
    app = create_app(_production(test_databases, tmp_path))
    async with running(app), live_client(app) as client:
        keys = (await client.get("/.well-known/jwks.json")).json()["keys"]
    assert len(keys) == 1


def test_a_missing_signing_key_is_refused(test_databases: TestDatabases, tmp_path: Path) -> None:
    message = _refusal(_production(test_databases, tmp_path, signing_key_file=""))
    assert "GATEWAY_SIGNING_KEY_PEM" in message
    assert "GATEWAY_SIGNING_KEY_FILE" in message


def test_the_development_key_file_under_var_is_refused(test_databases: TestDatabases, tmp_path: Path) -> None:
    dev_pem = ensure_dev_key_file(DEV_KEY_FILE)  # what development uses (made on first use)
    by_path = _refusal(_production(test_databases, tmp_path, signing_key_file=str(DEV_KEY_FILE)))
    assert "GATEWAY_SIGNING_KEY_FILE" in by_path
    inline = _refusal(_production(test_databases, tmp_path, signing_key_pem=dev_pem))
    assert "GATEWAY_SIGNING_KEY_PEM" in inline
    copied = tmp_path / "copied.pem"
    shutil.copy(DEV_KEY_FILE, copied)
    by_content = _refusal(_production(test_databases, tmp_path, signing_key_file=str(copied)))
    assert "GATEWAY_SIGNING_KEY_FILE" in by_content
    for message in (by_path, inline, by_content):
        assert "PRIVATE KEY" not in message


def test_an_unreadable_signing_key_file_is_refused(test_databases: TestDatabases, tmp_path: Path) -> None:
    message = _refusal(_production(test_databases, tmp_path, signing_key_file=str(tmp_path / "absent.pem")))
    assert "GATEWAY_SIGNING_KEY_FILE" in message


@pytest.mark.parametrize(
    ("clients", "named"),
    [
        ({}, "GATEWAY_SERVICE_CLIENTS"),
        ({**STRONG, "contracts": ""}, "GATEWAY_SERVICE_CLIENTS[contracts]"),
        ({**STRONG, "homecare": "h" * 31}, "GATEWAY_SERVICE_CLIENTS[homecare]"),
        ({**STRONG, "registry": "dev-" + "r" * 40}, "GATEWAY_SERVICE_CLIENTS[registry]"),
        ({**STRONG, "contracts": "Demo@2026-platform"}, "GATEWAY_SERVICE_CLIENTS[contracts]"),
    ],
    ids=["none", "empty", "31-chars", "dev-marked", "demo-secret"],
)
def test_weak_or_development_service_client_secrets_are_refused(
    clients: dict[str, str], named: str, test_databases: TestDatabases, tmp_path: Path
) -> None:
    message = _refusal(_production(test_databases, tmp_path, service_clients=clients))
    assert named in message
    for secret in clients.values():
        if secret:
            assert secret not in message


def test_every_problem_is_named_at_once(test_databases: TestDatabases, tmp_path: Path) -> None:
    message = _refusal(
        _production(
            test_databases,
            tmp_path,
            signing_key_file="",
            service_clients={},
            personal_data_keys={},
            personal_data_lookup_key="",
        )
    )
    for setting in (
        "GATEWAY_SIGNING_KEY_PEM",
        "GATEWAY_SERVICE_CLIENTS",
        "GATEWAY_PERSONAL_DATA_KEYS",
        "GATEWAY_PERSONAL_DATA_LOOKUP_KEY",
    ):
        assert setting in message


async def test_production_refuses_to_start_while_a_demo_credential_signs_in(
    test_databases: TestDatabases, token_issuer: TokenIssuer, tmp_path: Path
) -> None:
    url = test_databases.url_for("gateway")
    if url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{test_databases.root / 'gateway_prodcheck.db'}"
    own = {"database_url": url, "database_schema": "gateway_prodcheck"}
    development = make_settings(GatewaySettings, test_databases, **own)
    async with running(create_app(development, issuer=token_issuer)):
        pass  # migrations
    await seed(development)  # a database seeded in development, then promoted

    production = _production(test_databases, tmp_path, **own)
    with pytest.raises(ProductionConfigError) as refused:
        async with running(create_app(production)):
            pass
    message = str(refused.value)
    # every demo account and the platform client (the check keeps their names: production never imports demo)
    assert [a.username for a in DEMO_ACCOUNTS if a.username not in message] == []
    assert PLATFORM_CLIENT_ID in message
    assert "Demo@2026" not in message

    # Demo users deactivated and the platform client's secret rotated: nothing demo signs in any more.
    database = Database(development)
    try:
        async with session_scope(database) as session:
            await session.execute(
                update(User)
                .where(User.username.in_([a.username for a in DEMO_ACCOUNTS]))
                .values(active=False)
                .execution_options(synchronize_session=False)
            )
            await session.execute(
                update(ApiClient)
                .where(ApiClient.client_id == PLATFORM_CLIENT_ID)
                .values(secret_hash=await passwords.hash_("platform-secret-rotated-0123456789"))
                .execution_options(synchronize_session=False)
            )
    finally:
        await database.dispose()
    app = create_app(production)
    async with running(app), live_client(app) as client:
        assert (await client.get("/readyz")).status_code == httpx.codes.OK


def test_login_attempt_retention_is_never_shorter_than_the_throttling_reads(
    test_databases: TestDatabases,
) -> None:
    # the known-address look-back (30 days by default) is the longest
    with pytest.raises(ValidationError, match="GATEWAY_LOGIN_ATTEMPT_RETENTION_DAYS"):
        make_settings(GatewaySettings, test_databases, login_attempt_retention_days=29)
    make_settings(GatewaySettings, test_databases, login_attempt_retention_days=30)
    # a failure memory longer than the retention
    with pytest.raises(ValidationError, match="GATEWAY_LOGIN_ATTEMPT_RETENTION_DAYS"):
        make_settings(
            GatewaySettings,
            test_databases,
            login_known_address_days=1,
            login_failure_memory_seconds=3 * 86400,
            login_attempt_retention_days=2,
        )
    assert make_settings(GatewaySettings, test_databases).login_attempt_retention_days == 90


def test_session_cookies_without_secure_are_refused(test_databases: TestDatabases, tmp_path: Path) -> None:
    message = _refusal(_production(test_databases, tmp_path, session_cookie_secure=False))
    assert "GATEWAY_SESSION_COOKIE_SECURE" in message
