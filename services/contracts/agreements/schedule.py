"""The periodic job that persists calendar moves (activation, expiry), started in every replica's lifespan
and run by one replica at a time (the job's lease, libs/common/jobs.py).

Safe even when two passes meet (a holder cut off from the database and its successor): each move is a
conditional UPDATE, so the agreements move once between them, and a pass that finds nothing to do
changes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from libs.common.changes import write_pending_changes
from libs.common.database import Database, session_scope
from libs.common.jobs import PeriodicJob, periodic_jobs
from services.contracts.agreements.lifecycle import advance_calendar
from services.contracts.clock import Clock

JOB_NAME = "agreement_calendar"


async def run_once(database: Database, clock: Clock) -> int:
    async with session_scope(database) as session:
        moved = await advance_calendar(session, today=clock.today(), now=clock.now())
        await write_pending_changes(session)
    return moved


def calendar_job(clock: Clock, interval_seconds: float) -> PeriodicJob:
    async def run(database: Database) -> int:
        return await run_once(database, clock)

    return PeriodicJob(name=JOB_NAME, interval_seconds=interval_seconds, run=run)


@contextlib.asynccontextmanager
async def calendar_task(app: FastAPI) -> AsyncIterator[None]:
    job = calendar_job(app.state.clock, app.state.settings.calendar_interval_seconds)
    async with periodic_jobs(app.state.database, [job], leases=app.state.leases):
        yield
