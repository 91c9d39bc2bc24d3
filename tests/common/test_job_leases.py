"""One runner per scheduled job whatever the replica count (libs/common/leases.py, libs/common/jobs.py).

A lease is held by one process at a time, on PostgreSQL (advisory lock on a session of its own) and on
SQLite (a file lock); two replicas running the same jobs run each once per interval between them, and
the other takes over when the holder stops or loses its database session. On PostgreSQL, two real
contracts apps (lifespans, calendar loops) over one database activate and expire each due agreement
exactly once — one change-feed entry each — and the survivor carries on when the holder stops. Two
indicators apps poll each source feed from one replica only.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from libs.common.auth import TokenVerifier
from libs.common.database import Database, session_scope
from libs.common.http_client import StaticTokenSource
from libs.common.jobs import JobPass, PeriodicJob, add_pass_listener, periodic_jobs
from libs.common.leases import LOCK_CLASS, Leases
from libs.common.models import ChangeRecord
from libs.common.testing import TestDatabases, make_settings, running
from services.contracts.agreements.models import Agreement, AgreementState, FeePayer, VisitPeriod
from services.contracts.agreements.schedule import JOB_NAME as CALENDAR
from services.contracts.app import create_app as create_contracts_app
from services.contracts.clock import ManualClock
from services.contracts.settings import ContractsSettings
from services.indicators.app import create_app as create_indicators_app
from services.indicators.facts.apply import FACTS
from services.indicators.settings import IndicatorsSettings
from tests.common.sample_app import SampleSettings

INTERVAL = 0.05
TODAY = date(2026, 3, 16)


def _settings(test_databases: TestDatabases, name: str) -> SampleSettings:
    """Settings of a service ``name`` (its own SQLite file, or its own schema on PostgreSQL)."""
    return make_settings(
        SampleSettings,
        test_databases,
        database_url=test_databases.url_for(name),
        database_schema=name,
    )


async def _eventually(condition: Callable[[], bool], *, seconds: float = 15.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def events() -> Iterator[list[JobPass]]:
    seen: list[JobPass] = []
    remove = add_pass_listener(seen.append)
    yield seen
    remove()


async def test_a_lease_has_one_holder_until_it_lets_go(test_databases: TestDatabases) -> None:
    name = f"leases_{uuid.uuid4().hex[:8]}"
    first, second = Leases(_settings(test_databases, name)), Leases(_settings(test_databases, name))
    other_service = Leases(_settings(test_databases, f"{name}_other"))
    try:
        assert await first.hold("calendar") is True
        assert await second.hold("calendar") is False
        assert await first.hold("calendar") is True  # confirmed, not taken twice
        assert await second.hold("retention") is True  # another job: another lease
        assert await other_service.hold("calendar") is True  # another service's database: its own
        assert first.held == {"calendar"}
        assert second.held == {"retention"}

        await first.release("calendar")
        assert first.held == frozenset()
        assert await second.hold("calendar") is True
        assert await first.hold("calendar") is False

        await second.close()
        assert await first.hold("calendar") is True
        assert await first.hold("retention") is True
    finally:
        for leases in (first, second, other_service):
            await leases.close()


async def test_two_replicas_run_each_job_once_per_interval_and_the_other_takes_over(
    test_databases: TestDatabases, events: list[JobPass]
) -> None:
    settings = _settings(test_databases, f"replicas_{uuid.uuid4().hex[:8]}")
    replicas = {"a": Database(settings), "b": Database(settings)}
    passes: dict[str, int] = {"a": 0, "b": 0}

    def job_of(replica: str) -> PeriodicJob:
        async def run(_: Database) -> int:
            passes[replica] += 1
            return 1

        return PeriodicJob(name="count", interval_seconds=INTERVAL, run=run)

    leases = {replica: Leases(settings) for replica in replicas}
    try:
        async with AsyncExitStack() as b_running:
            async with periodic_jobs(replicas["a"], [job_of("a")], leases=leases["a"]):
                await _eventually(lambda: passes["a"] >= 1)
                await b_running.enter_async_context(
                    periodic_jobs(replicas["b"], [job_of("b")], leases=leases["b"])
                )
                await _eventually(lambda: passes["a"] >= 6)
                await _eventually(lambda: len([e for e in events if e.holder == leases["b"].holder_id]) >= 2)
                # B stood by on every turn while A held the lease: one runner, once per interval
                b_turns = [e for e in events if e.holder == leases["b"].holder_id]
                assert {e.outcome for e in b_turns} == {"standby"}
                assert passes["b"] == 0
                assert leases["a"].held == {"count"}
                assert leases["b"].held == frozenset()
            # A stopped (its block ended and gave the lease up): B takes over within an interval
            a_total = passes["a"]
            await _eventually(lambda: passes["b"] >= 3)
            assert passes["a"] == a_total
            assert leases["b"].held == {"count"}
        done = [e for e in events if e.outcome == "done"]
        assert {e.holder for e in done} == {leases["a"].holder_id, leases["b"].holder_id}
        assert all(e.job == "count" and e.service == settings.service_name and e.count == 1 for e in done)
    finally:
        for replica, database in replicas.items():
            await leases[replica].close()
            await database.dispose()


async def test_a_failing_pass_keeps_the_lease_and_is_reported(
    test_databases: TestDatabases, events: list[JobPass]
) -> None:
    settings = _settings(test_databases, f"failing_{uuid.uuid4().hex[:8]}")
    database = Database(settings)

    async def broken(_: Database) -> int:
        raise RuntimeError("database restarting")

    leases = Leases(settings)
    try:
        async with periodic_jobs(database, [PeriodicJob("broken", INTERVAL, broken)], leases=leases):
            await _eventually(lambda: len(events) >= 2)
            assert leases.held == {"broken"}
        assert {(e.job, e.outcome, e.count) for e in events} == {("broken", "failed", None)}
        assert leases.held == frozenset()  # given up when the jobs stopped
    finally:
        await leases.close()
        await database.dispose()


@pytest.mark.postgres_only
async def test_a_holder_whose_session_is_cut_loses_the_lease(test_databases: TestDatabases) -> None:
    settings = _settings(test_databases, f"cut_{uuid.uuid4().hex[:8]}")
    holder, standby = Leases(settings), Leases(settings)
    database = Database(settings)
    try:
        assert await holder.hold("calendar") is True
        assert await standby.hold("calendar") is False
        async with database.engine.connect() as connection:  # the holder's session is cut
            killed = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND classid = CAST(:cls AS oid) AND objid = CAST(hashtext(:key) AS oid)"
                ),
                {"cls": LOCK_CLASS, "key": f"{settings.database_schema}:calendar"},
            )
        assert killed == 1
        # the holder notices at its next confirmation and does not run; a fresh session may take it
        assert await holder.hold("calendar") is False
        assert holder.held == frozenset()
        assert await standby.hold("calendar") is True
        assert await holder.hold("calendar") is False
    finally:
        await holder.close()
        await standby.close()
        await database.dispose()


# Two contracts replicas over one PostgreSQL ----------------------------------------------------------


def _agreement(state: AgreementState, start: date, end: date) -> Agreement:
    return Agreement(
        medical_institution_id=uuid.uuid4(),
        medical_name="厦门市第一医院",
        medical_region_code="350203",
        elderly_institution_id=uuid.uuid4(),
        elderly_name="兰馨颐养院",
        elderly_region_code="350203",
        elderly_kind="elderly_care",
        region_code="350203",
        state=state,
        title="医养签约协议",
        services=["medical_rounds"],
        visit_count=1,
        visit_period=VisitPeriod.week,
        fee_payer=FeePayer.elderly_care_party,
        start_date=start,
        end_date=end,
    )


async def _seed(database: Database) -> tuple[list[uuid.UUID], list[uuid.UUID], int]:
    """Agreements due to activate and to expire today, one not yet due; and the feed's last seq."""
    due_to_activate = [
        _agreement(AgreementState.countersigned, TODAY - timedelta(days=n), TODAY + timedelta(days=300))
        for n in range(3)
    ]
    due_to_expire = [
        _agreement(state, TODAY - timedelta(days=400), TODAY - timedelta(days=1))
        for state in (AgreementState.active, AgreementState.countersigned)
    ]
    later = _agreement(AgreementState.countersigned, TODAY + timedelta(days=10), TODAY + timedelta(days=375))
    async with session_scope(database) as session:
        session.add_all([*due_to_activate, *due_to_expire, later])
    async with session_scope(database, write=False) as session:
        last_seq = await session.scalar(select(func.max(ChangeRecord.seq)))
    return [a.id for a in due_to_activate], [a.id for a in due_to_expire], int(last_seq or 0)


async def _moves(database: Database, ids: list[uuid.UUID], after_seq: int) -> dict[uuid.UUID, int]:
    """Feed entries written for each agreement after ``after_seq``."""
    async with session_scope(database, write=False) as session:
        rows = await session.execute(
            select(ChangeRecord.entity_id, func.count())
            .where(ChangeRecord.seq > after_seq, ChangeRecord.entity_id.in_(ids))
            .group_by(ChangeRecord.entity_id)
        )
        return {entity_id: count for entity_id, count in rows}


async def _states(database: Database, ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[AgreementState, int]]:
    async with session_scope(database, write=False) as session:
        rows = await session.execute(
            select(Agreement.id, Agreement.state, Agreement.version).where(Agreement.id.in_(ids))
        )
        return {id_: (state, version) for id_, state, version in rows}


@pytest.mark.postgres_only
async def test_two_contracts_replicas_move_each_agreement_once_and_the_survivor_carries_on(
    test_databases: TestDatabases, token_verifier: TokenVerifier, events: list[JobPass]
) -> None:
    schema = f"contracts_replicas_{uuid.uuid4().hex[:8]}"
    settings = make_settings(
        ContractsSettings,
        test_databases,
        database_schema=schema,
        calendar_interval_seconds=INTERVAL,
        retention_interval_seconds=INTERVAL,
    )
    clock = ManualClock(datetime(2026, 3, 16, 1, 0, tzinfo=UTC))
    apps: list[FastAPI] = [
        create_contracts_app(settings, verifier=token_verifier, clock=clock) for _ in range(2)
    ]

    def passes_by(app: FastAPI, job: str) -> int:
        holder = app.state.leases.holder_id
        return len([e for e in events if e.holder == holder and e.job == job and e.outcome == "done"])

    try:
        async with AsyncExitStack() as second:
            async with running(apps[0]):
                await _eventually(lambda: passes_by(apps[0], CALENDAR) >= 1)
                await second.enter_async_context(running(apps[1]))  # its lifespan migrates too (no-op)
                database: Database = apps[0].state.database
                activate, expire, seq = await _seed(database)
                await _eventually(lambda: passes_by(apps[0], CALENDAR) >= 8)
                states = await _states(database, activate + expire)
                assert {states[i] for i in activate} == {(AgreementState.active, 2)}
                assert {states[i] for i in expire} == {(AgreementState.expired, 2)}
                # one feed entry per move, though both replicas run the calendar loop
                assert await _moves(database, activate + expire, seq) == dict.fromkeys(activate + expire, 1)
                # every job of the service ran in the first replica only; the second stood by
                for job in (CALENDAR, "prune_idempotency_records"):
                    assert passes_by(apps[1], job) == 0
                assert apps[0].state.leases.held >= {CALENDAR, "prune_idempotency_records"}
                assert apps[1].state.leases.held == frozenset()

            # the first replica stopped: the second takes over and moves what falls due
            database = apps[1].state.database
            activate, expire, seq = await _seed(database)
            await _eventually(lambda: passes_by(apps[1], CALENDAR) >= 3)
            states = await _states(database, activate + expire)
            assert {states[i] for i in activate} == {(AgreementState.active, 2)}
            assert {states[i] for i in expire} == {(AgreementState.expired, 2)}
            assert await _moves(database, activate + expire, seq) == dict.fromkeys(activate + expire, 1)
            assert apps[1].state.leases.held >= {CALENDAR, "prune_idempotency_records"}
    finally:
        database = Database(settings)
        try:
            async with database.engine.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            await database.dispose()


# The indicators followers: one replica follows each feed ---------------------------------------------


def _feed_upstream(requests: list[str]) -> httpx.AsyncClient:
    """The gateway as the followers see it: every feed answers an empty page (``requests`` records
    which feed was asked)."""

    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request.url.path.split("/")[3])  # /api/v1/<service>/changes
        return httpx.Response(200, json={"items": [], "next_cursor": "c1", "has_more": False})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://gateway")


async def test_two_indicators_replicas_follow_each_feed_from_one_replica(
    test_databases: TestDatabases, token_verifier: TokenVerifier
) -> None:
    name = f"indicators_replicas_{uuid.uuid4().hex[:8]}"
    settings = make_settings(
        IndicatorsSettings,
        test_databases,
        database_url=test_databases.url_for(name),
        database_schema=name,
        follow_interval_seconds=INTERVAL,
    )
    asked: dict[str, list[str]] = {"a": [], "b": []}
    uppers = {replica: _feed_upstream(requests) for replica, requests in asked.items()}
    apps = {
        replica: create_indicators_app(
            settings,
            verifier=token_verifier,
            gateway_http=http,
            tokens=lambda _service: StaticTokenSource("token"),
        )
        for replica, http in uppers.items()
    }
    feeds = {f"follower:{feed}" for feed in FACTS}
    try:
        async with AsyncExitStack() as second:
            async with running(apps["a"]):
                await _eventually(lambda: set(asked["a"]) == set(FACTS))
                await second.enter_async_context(running(apps["b"]))
                polls = len(asked["a"])
                await _eventually(lambda: len(asked["a"]) >= polls + 3 * len(FACTS))
                assert asked["b"] == []
                assert apps["a"].state.leases.held == feeds
                assert apps["b"].state.leases.held == frozenset()
            await _eventually(lambda: set(asked["b"]) == set(FACTS))
            assert apps["b"].state.leases.held == feeds
    finally:
        for http in uppers.values():
            await http.aclose()
        if not settings.is_sqlite:
            database = Database(settings)
            try:
                async with database.engine.begin() as connection:
                    await connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            finally:
                await database.dispose()
