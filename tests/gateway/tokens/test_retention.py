"""Login attempts older than ``GATEWAY_LOGIN_ATTEMPT_RETENTION_DAYS`` (90) are pruned, recent ones kept;
the gateway starts its pruning job with the app and stops it with it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy import delete, select

from libs.common.auth import TokenIssuer
from libs.common.database import Database, session_scope
from libs.common.models import utcnow
from libs.common.testing import TestDatabases, running
from services.gateway.app import create_app
from services.gateway.tokens.models import LoginAttempt
from services.gateway.tokens.retention import prune_login_attempts
from tests.gateway.conftest import gateway_settings

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


async def _add(database: Database, account: str, ages: dict[str, timedelta], now: datetime = NOW) -> None:
    async with session_scope(database) as session:
        session.add_all(
            LoginAttempt(
                attempted_at=now - age,
                account=account,
                client_address="203.0.113.7",
                grant_type="password",
                succeeded=True,
                reason=reason,
            )
            for reason, age in ages.items()
        )


async def _reasons(database: Database, account: str) -> set[str | None]:
    async with session_scope(database, write=False) as session:
        return set(await session.scalars(select(LoginAttempt.reason).where(LoginAttempt.account == account)))


async def _remove(database: Database, account: str) -> None:
    async with session_scope(database) as session:
        await session.execute(delete(LoginAttempt).where(LoginAttempt.account == account))


async def test_login_attempts_older_than_ninety_days_are_pruned_and_recent_ones_kept(
    gateway_app: FastAPI,
) -> None:
    database: Database = gateway_app.state.database
    account = f"retention-{uuid.uuid4().hex[:12]}"
    await _add(
        database,
        account,
        {
            "400d": timedelta(days=400),
            "90d1m": timedelta(days=90, minutes=1),
            "89d23h": timedelta(days=89, hours=23),
            "30d": timedelta(days=30),  # still read by the known-address exemption
            "1m": timedelta(minutes=1),
        },
    )
    try:
        assert await prune_login_attempts(database, now=NOW) >= 2
        assert await _reasons(database, account) == {"89d23h", "30d", "1m"}
    finally:
        await _remove(database, account)


async def test_the_gateway_runs_the_pruning_job_while_it_serves(
    gateway_app: FastAPI, test_databases: TestDatabases, token_issuer: TokenIssuer
) -> None:
    database: Database = gateway_app.state.database
    account = f"retention-{uuid.uuid4().hex[:12]}"
    await _add(database, account, {"old": timedelta(days=91), "recent": timedelta(days=1)}, now=utcnow())
    app = create_app(gateway_settings(test_databases, retention_interval_seconds=0.05), issuer=token_issuer)
    try:
        async with running(app):
            names = {t.get_name() for t in asyncio.all_tasks()}
            assert {"job:prune_login_attempts", "job:prune_idempotency_records"} <= names
            for _ in range(100):
                if await _reasons(database, account) == {"recent"}:
                    break
                await asyncio.sleep(0.05)
            assert await _reasons(database, account) == {"recent"}
        assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("job:")]
    finally:
        await _remove(database, account)
