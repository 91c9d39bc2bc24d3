"""Login throttling: attempts are throttled (per account and address, per account, per address; state in the
database, so it spans replicas), never the right credentials of a user or client."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from starlette.requests import Request

from libs.common.auth import Role, TokenIssuer
from libs.common.database import session_scope
from libs.common.testing import TestDatabases, running
from services.gateway.app import create_app
from services.gateway.tokens.deps import client_address
from services.gateway.tokens.models import LoginAttempt
from tests.gateway.conftest import (
    CLIENT_SECRET,
    HOMECARE_SECRET,
    add_api_client,
    add_user,
    gateway_settings,
    login,
)

WRONG = "Wrong@Password1"
TOKEN = "/api/v1/auth/token"


@asynccontextmanager
async def client_from(app: FastAPI, address: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def _shift_back(app: FastAPI, seconds: float) -> None:
    """Let time pass: every recorded attempt moves ``seconds`` into the past."""
    async with session_scope(app.state.database) as session:
        for attempt in (await session.scalars(select(LoginAttempt))).all():
            attempt.attempted_at -= timedelta(seconds=seconds)


async def test_an_attacker_cannot_lock_a_user_out_even_with_folded_variants_of_the_name(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await add_user(gateway_app.state.database, "victim", Role.county_admin, "350206")
    statuses = [
        (await login(client, name, WRONG)).status_code for name in ("VICTIM", " victim", "victim ") * 4
    ]
    assert statuses[:2] == [401, 401]
    assert set(statuses[2:]) == {429}  # wrong passwords for an attacked account; this address waits
    async with client_from(gateway_app, "10.77.0.1") as victims_address:
        response = await login(victims_address, "victim")
    assert response.status_code == 200, response.text


async def test_an_attacker_cannot_lock_out_a_city_platform_client(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await add_api_client(gateway_app.state.database, "xm_city_platform_t", "350200")
    form = {"grant_type": "client_credentials", "client_id": "xm_city_platform_t", "client_secret": "guess"}
    for _ in range(12):
        assert (await client.post(TOKEN, data=form)).status_code in (401, 429)
    async with client_from(gateway_app, "10.78.0.1") as platform:
        response = await platform.post(TOKEN, data={**form, "client_secret": CLIENT_SECRET})
    assert response.status_code == 200, response.text


async def test_outside_traffic_never_locks_an_internal_service_client(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    guess = {"grant_type": "client_credentials", "client_id": "homecare", "client_secret": "guess"}
    for _ in range(12):
        assert (await client.post(TOKEN, data=guess)).status_code in (401, 429)
    right = {**guess, "client_secret": HOMECARE_SECRET, "audience": "registry"}
    async with client_from(gateway_app, "10.79.0.1") as homecare:
        assert (await homecare.post(TOKEN, data=right)).status_code == 200
    # Even from the attacker's own address (one egress for both), the right secret works.
    assert (await client.post(TOKEN, data=right)).status_code == 200


async def test_the_delay_grows_with_each_further_failure_from_one_address(
    client: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await add_user(gateway_app.state.database, "slowed", Role.county_admin, "350206")
    for _ in range(3):  # the free failures (login_free_failures = 3)
        assert (await login(client, "slowed", WRONG)).status_code in (401, 429)
    first = await login(client, "slowed", WRONG)
    assert (first.status_code, first.json()["code"]) == (429, "login_throttled")
    first_wait = int(first.headers["retry-after"])
    await _shift_back(gateway_app, first_wait + 1)
    assert (await login(client, "slowed", WRONG)).status_code in (401, 429)  # verified and failed again
    second = await login(client, "slowed", WRONG)
    assert (second.status_code, second.json()["code"]) == (429, "login_throttled")
    assert int(second.headers["retry-after"]) > first_wait
    assert second.json()["extra"]["retry_after_seconds"] == int(second.headers["retry-after"])


async def test_unknown_and_known_users_answer_alike(client: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    await add_user(gateway_app.state.database, "known_one", Role.county_admin, "350206")

    async def answers(name: str, address: str) -> tuple[list[tuple[int, str, str | None]], list[float]]:
        seen, times = [], []
        async with client_from(gateway_app, address) as attacker:
            for _ in range(6):
                started = time.perf_counter()
                response = await login(attacker, name, WRONG)
                times.append(time.perf_counter() - started)
                seen.append(
                    (response.status_code, response.json()["code"], response.headers.get("retry-after"))
                )
        return seen, times

    known, known_times = await answers("known_one", "10.80.0.1")
    unknown, unknown_times = await answers("nobody_here", "10.80.0.2")
    assert known == unknown
    # Verified failures take as long (a dummy hash is verified for unknown users).
    assert 0.33 < statistics.median(known_times[:3]) / statistics.median(unknown_times[:3]) < 3


async def test_an_account_under_attack_from_many_addresses_answers_429_to_wrong_passwords_only(
    gateway_app: FastAPI, client: httpx.AsyncClient
) -> None:
    await add_user(gateway_app.state.database, "targeted", Role.county_admin, "350206")
    for i in range(4):  # login_max_failures_per_account = 3, spread over addresses
        async with client_from(gateway_app, f"10.81.0.{i}") as bot:
            await login(bot, "targeted", WRONG)
    async with client_from(gateway_app, "10.81.1.1") as anyone:
        wrong = await login(anyone, "targeted", WRONG)
        assert (wrong.status_code, wrong.json()["code"]) == (429, "account_throttled")
        assert int(wrong.headers["retry-after"]) > 0
    async with client_from(gateway_app, "10.81.2.2") as owner:
        assert (await login(owner, "targeted")).status_code == 200


async def test_a_spraying_address_waits_but_accounts_that_signed_in_from_it_do_not(
    gateway_app: FastAPI,
) -> None:
    await add_user(gateway_app.state.database, "colleague", Role.county_admin, "350206")
    await add_user(gateway_app.state.database, "newcomer", Role.county_admin, "350206")
    # an address of its own: failures other tests left at the test client's address must not count here
    async with client_from(gateway_app, f"10.81.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}") as client:
        assert (await login(client, "colleague")).status_code == 200  # signs in from this (shared) address
        for i in range(6):  # login_max_failures_per_address = 6
            assert (await login(client, f"sprayed_{i}", WRONG)).status_code == 401
        throttled = await login(client, "newcomer")
        assert (throttled.status_code, throttled.json()["code"]) == (429, "too_many_requests")
        assert int(throttled.headers["retry-after"]) > 0
        assert (await login(client, "colleague")).status_code == 200
    async with client_from(gateway_app, "10.82.0.1") as other_address:
        assert (await login(other_address, "newcomer")).status_code == 200


async def test_the_delay_ends_by_itself(client: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    await add_user(gateway_app.state.database, "patient", Role.county_admin, "350206")
    for _ in range(3):
        await login(client, "patient", WRONG)
    waiting = await login(client, "patient")
    assert waiting.status_code == 429
    await _shift_back(gateway_app, int(waiting.headers["retry-after"]) + 1)
    assert (await login(client, "patient")).status_code == 200


async def test_the_limits_span_gateway_replicas_sharing_one_database(
    test_databases: TestDatabases, token_issuer: TokenIssuer
) -> None:
    replica_a = create_app(gateway_settings(test_databases), issuer=token_issuer)
    replica_b = create_app(gateway_settings(test_databases), issuer=token_issuer)
    suffix = uuid.uuid4().hex[:8]
    address = f"10.5.{int(suffix[:2], 16)}.{int(suffix[2:4], 16)}"
    async with running(replica_a), running(replica_b):
        await add_user(replica_a.state.database, f"replicated_{suffix}", Role.county_admin, "350206")
        async with client_from(replica_a, address) as a, client_from(replica_b, address) as b:
            assert (await login(a, f"replicated_{suffix}", WRONG)).status_code == 401
            assert (await login(b, f"replicated_{suffix}", WRONG)).status_code == 401
            assert (await login(a, f"replicated_{suffix}", WRONG)).status_code == 429  # account_throttled
            throttled = await login(b, f"replicated_{suffix}")
            assert (throttled.status_code, throttled.json()["code"]) == (429, "login_throttled")


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
