"""Retention: idempotency records older than ``idempotency_retention_days`` (7) are pruned in bounded
batches and recent ones kept; the pruning job starts and stops with the app; a failing pass is logged and
the job goes on."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select

from libs.common.auth import TokenVerifier
from libs.common.database import Database, session_scope
from libs.common.jobs import PeriodicJob, periodic_jobs, run_pass
from libs.common.models import IdempotencyRecord, utcnow
from libs.common.retention import delete_older_than, idempotency_retention_job, prune_idempotency_records
from libs.common.testing import TestDatabases, make_settings, running
from tests.common.sample_app import SampleSettings, create_sample_app

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=utcnow().tzinfo)


@pytest.fixture
async def database(sample_app: FastAPI) -> Database:
    """The sample service's database (tables made by the session fixture); rows of each test carry a
    subject of their own and are removed after it."""
    database: Database = sample_app.state.database
    return database


async def _add(database: Database, sub: str, ages: dict[str, timedelta], now: datetime = NOW) -> None:
    async with session_scope(database) as session:
        session.add_all(
            IdempotencyRecord(
                principal_sub=sub,
                key=key,
                method="POST",
                path="/things",
                request_hash="0" * 64,
                status_code=201,
                response_headers={},
                response_body=b"x",
                created_at=now - age,
            )
            for key, age in ages.items()
        )


async def _keys(database: Database, sub: str) -> set[str]:
    async with session_scope(database, write=False) as session:
        return set(
            await session.scalars(select(IdempotencyRecord.key).where(IdempotencyRecord.principal_sub == sub))
        )


async def _remove(database: Database, sub: str) -> None:
    async with session_scope(database) as session:
        await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.principal_sub == sub))


async def test_idempotency_records_older_than_seven_days_are_pruned_and_recent_ones_kept(
    database: Database,
) -> None:
    sub = f"retention:{uuid.uuid4()}"
    await _add(
        database,
        sub,
        {
            "30-days": timedelta(days=30),
            "7-days-1-minute": timedelta(days=7, minutes=1),
            "6-days-23-hours": timedelta(days=6, hours=23),
            "1-hour": timedelta(hours=1),
        },
    )
    try:
        assert database.settings.idempotency_retention_days == 7
        deleted = await prune_idempotency_records(database, now=NOW)
        assert deleted >= 2
        assert await _keys(database, sub) == {"6-days-23-hours", "1-hour"}
    finally:
        await _remove(database, sub)


async def test_pruning_deletes_in_batches_until_none_is_left(database: Database) -> None:
    sub = f"retention:{uuid.uuid4()}"
    await _add(
        database, sub, {f"old-{i}": timedelta(days=10, minutes=i) for i in range(7)} | {"new": timedelta(0)}
    )
    try:
        deleted = await delete_older_than(
            database,
            key=IdempotencyRecord.id,
            timestamp=IdempotencyRecord.created_at,
            cutoff=NOW - timedelta(days=7),
            batch_size=2,
        )
        assert deleted >= 7
        assert await _keys(database, sub) == {"new"}
    finally:
        await _remove(database, sub)


async def test_the_pruning_job_starts_and_stops_with_the_app(
    sample_app: FastAPI, database: Database, test_databases: TestDatabases, token_verifier: TokenVerifier
) -> None:
    sub = f"retention:{uuid.uuid4()}"
    await _add(database, sub, {"old": timedelta(days=8), "recent": timedelta(days=1)}, now=utcnow())
    settings = make_settings(
        SampleSettings, test_databases, migrate_on_start=False, retention_interval_seconds=0.05
    )
    app = create_sample_app(settings, token_verifier)
    try:
        async with running(app):
            jobs = [t for t in asyncio.all_tasks() if t.get_name() == "job:prune_idempotency_records"]
            assert len(jobs) == 1
            for _ in range(100):
                if await _keys(database, sub) == {"recent"}:
                    break
                await asyncio.sleep(0.05)
            assert await _keys(database, sub) == {"recent"}
            assert not jobs[0].done()
        assert jobs[0].cancelled()
        assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("job:")]
    finally:
        await _remove(database, sub)


def test_an_interval_of_zero_starts_no_job(test_databases: TestDatabases) -> None:
    settings = make_settings(SampleSettings, test_databases)
    assert settings.retention_interval_seconds == 0  # tests run passes themselves
    assert idempotency_retention_job(settings).interval_seconds == 0


async def test_a_failing_pass_is_logged_and_the_job_goes_on(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    passes: list[int] = []

    async def flaky(_: Database) -> int:
        passes.append(1)
        if len(passes) == 1:
            raise RuntimeError("database restarting")
        return 0

    job = PeriodicJob(name="flaky", interval_seconds=0.01, run=flaky)
    with caplog.at_level(logging.ERROR, logger="libs.common.jobs"):
        assert await run_pass(database, job) is None
        async with periodic_jobs(database, [job]) as tasks:
            for _ in range(100):
                if len(passes) >= 3:
                    break
                await asyncio.sleep(0.01)
    assert len(passes) >= 3
    assert tasks[0].cancelled()
    assert any(record.message == "periodic job failed" for record in caplog.records)
