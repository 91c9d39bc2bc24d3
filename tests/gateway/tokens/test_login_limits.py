"""Login rate limits: per account and per client address, kept in the database (they span replicas)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import update
from starlette.requests import Request

from libs.common.auth import Role, TokenIssuer
from libs.common.database import session_scope
from libs.common.testing import TestDatabases, running
from services.gateway.app import create_app
from services.gateway.tokens.deps import client_address
from services.gateway.tokens.models import LoginAttempt
from tests.gateway.conftest import SERVICE_SECRET, add_user, gateway_settings, login

WRONG = "Wrong@Password1"


@asynccontextmanager
async def client_from(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_too_many_failures_lock_the_account_even_for_the_right_password(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await add_user(gateway_app.state.database, "locked_out", Role.county_admin, "350206")
    for _ in range(3):
        assert (await login(client, "locked_out", WRONG)).status_code == 401
    response = await login(client, "locked_out")
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "account_locked"
    assert 0 < int(response.headers["retry-after"]) <= 600
    assert body["extra"]["retry_after_seconds"] == int(response.headers["retry-after"])


async def test_account_lock_applies_from_any_address(client: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    await add_user(gateway_app.state.database, "roaming", Role.county_admin, "350206")
    for _ in range(3):
        await login(client, "roaming", WRONG)
    async with client_from(gateway_app, "10.9.9.9") as elsewhere:
        response = await login(elsewhere, "roaming")
    assert response.status_code == 429
    assert response.json()["code"] == "account_locked"


async def test_unknown_accounts_are_locked_too(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await login(client, "does_not_exist", WRONG)
    assert (await login(client, "does_not_exist", WRONG)).status_code == 429


async def test_a_successful_login_resets_the_account_counter(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await add_user(gateway_app.state.database, "forgetful", Role.county_admin, "350206")
    for _ in range(2):
        await login(client, "forgetful", WRONG)
    assert (await login(client, "forgetful")).status_code == 200
    for _ in range(2):
        assert (await login(client, "forgetful", WRONG)).status_code == 401
    assert (await login(client, "forgetful")).status_code == 200


async def test_the_lock_ends_when_the_window_has_passed(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await add_user(gateway_app.state.database, "patient", Role.county_admin, "350206")
    for _ in range(3):
        await login(client, "patient", WRONG)
    assert (await login(client, "patient")).status_code == 429
    async with session_scope(gateway_app.state.database) as session:
        await session.execute(
            update(LoginAttempt)
            .where(LoginAttempt.account == "patient")
            .values(attempted_at=datetime.now(UTC) - timedelta(seconds=601))
        )
    assert (await login(client, "patient")).status_code == 200


async def test_too_many_failures_from_one_address_throttle_every_account(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await add_user(gateway_app.state.database, "bystander", Role.county_admin, "350206")
    for i in range(6):
        assert (await login(client, f"sprayed_{i}", WRONG)).status_code == 401
    response = await login(client, "bystander")
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_requests"
    assert int(response.headers["retry-after"]) > 0
    async with client_from(gateway_app, "10.2.2.2") as other_address:
        assert (await login(other_address, "bystander")).status_code == 200


async def test_a_success_does_not_reset_the_address_counter(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await add_user(gateway_app.state.database, "own_account", Role.county_admin, "350206")
    for i in range(5):
        await login(client, f"guess_{i}", WRONG)
    assert (await login(client, "own_account")).status_code == 200
    assert (await login(client, "guess_5", WRONG)).status_code == 401
    assert (await login(client, "guess_6", WRONG)).status_code == 429


async def test_client_credentials_failures_are_limited_too(client: httpx.AsyncClient) -> None:
    form = {"grant_type": "client_credentials", "client_id": "registry", "client_secret": "guess"}
    for _ in range(3):
        assert (await client.post("/api/v1/auth/token", data=form)).status_code == 401
    right = {**form, "client_secret": SERVICE_SECRET}
    response = await client.post("/api/v1/auth/token", data=right)
    assert response.status_code == 429
    assert response.json()["code"] == "account_locked"


async def test_the_limits_span_gateway_replicas_sharing_one_database(
    test_databases: TestDatabases, token_issuer: TokenIssuer
) -> None:
    replica_a = create_app(gateway_settings(test_databases), issuer=token_issuer)
    replica_b = create_app(gateway_settings(test_databases), issuer=token_issuer)
    suffix = uuid.uuid4().hex[:8]
    async with running(replica_a), running(replica_b):
        await add_user(replica_a.state.database, f"replicated_{suffix}", Role.county_admin, "350206")
        # Per account: failures alternate between the replicas, from different addresses.
        async with (
            client_from(replica_a, f"10.3.{suffix[:2]!s}.1") as a,
            client_from(replica_b, "10.4.0.1") as b,
        ):
            assert (await login(a, f"replicated_{suffix}", WRONG)).status_code == 401
            assert (await login(b, f"replicated_{suffix}", WRONG)).status_code == 401
            assert (await login(a, f"replicated_{suffix}", WRONG)).status_code == 401
            locked = await login(b, f"replicated_{suffix}")
            assert locked.status_code == 429
            assert locked.json()["code"] == "account_locked"
        # Per address: one address sprays both replicas.
        address = f"10.5.{int(suffix[:2], 16)}.{int(suffix[2:4], 16)}"
        async with client_from(replica_a, address) as a, client_from(replica_b, address) as b:
            for i in range(3):
                assert (await login(a, f"spray_a_{suffix}_{i}", WRONG)).status_code == 401
                assert (await login(b, f"spray_b_{suffix}_{i}", WRONG)).status_code == 401
            throttled = await login(a, f"fresh_{suffix}", WRONG)
            assert throttled.status_code == 429
            assert throttled.json()["code"] == "too_many_requests"


def _request(peer: str, forwarded_for: str | None, app: FastAPI) -> Request:
    headers = [(b"x-forwarded-for", forwarded_for.encode())] if forwarded_for else []
    return Request({"type": "http", "headers": headers, "client": (peer, 1), "app": app})


def test_the_peer_address_is_used_when_no_proxy_is_trusted(test_databases: TestDatabases) -> None:
    app = create_app(gateway_settings(test_databases))
    assert client_address(_request("192.0.2.1", "203.0.113.9", app)) == "192.0.2.1"


def test_behind_a_trusted_proxy_the_forwarded_address_is_used_and_spoofed_entries_ignored(
    test_databases: TestDatabases,
) -> None:
    app = create_app(gateway_settings(test_databases, trusted_proxy_count=1))
    # The caller wrote "1.1.1.1"; the proxy appended the real peer "203.0.113.9".
    assert client_address(_request("10.0.0.2", "1.1.1.1, 203.0.113.9", app)) == "203.0.113.9"
    assert client_address(_request("10.0.0.2", None, app)) == "10.0.0.2"
