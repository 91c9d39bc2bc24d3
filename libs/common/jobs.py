"""Periodic jobs run by every replica inside its app's lifespan.

A :class:`PeriodicJob` is one pass (``run(database) -> how many things it did``) and an interval.
:func:`periodic_jobs` starts one asyncio task per job when the app starts and cancels them cleanly when it
stops; a job with an interval of 0 is not started (tests, or a deployment that runs passes elsewhere).
A pass that raises is logged and the next one runs after the interval: a job never takes the process
down. Jobs must be safe to run in several replicas at once (conditional or idempotent statements).
:func:`run_pass` runs one pass of each job now (tests, maintenance scripts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from libs.common.database import Database

log = logging.getLogger("libs.common.jobs")


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    interval_seconds: float
    run: Callable[[Database], Awaitable[int]]


async def run_pass(database: Database, job: PeriodicJob) -> int | None:
    """One pass of ``job``: how many things it did, or None when it failed (logged, not raised)."""
    try:
        done = await job.run(database)
    except Exception:  # a bad pass (database restart, lock timeout) must not stop the job or the app
        log.exception("periodic job failed", extra={"job": job.name})
        return None
    if done:
        log.info("periodic job done", extra={"job": job.name, "count": done})
    return done


async def _loop(database: Database, job: PeriodicJob) -> None:
    while True:
        await run_pass(database, job)
        await asyncio.sleep(job.interval_seconds)


@contextlib.asynccontextmanager
async def periodic_jobs(
    database: Database, jobs: Sequence[PeriodicJob]
) -> AsyncIterator[list[asyncio.Task[None]]]:
    """Run each job (interval > 0) in its own task for the duration of the block."""
    tasks = [
        asyncio.create_task(_loop(database, job), name=f"job:{job.name}")
        for job in jobs
        if job.interval_seconds > 0
    ]
    try:
        yield tasks
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
