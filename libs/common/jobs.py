"""Periodic jobs: started with each replica's app, run by ONE replica at a time.

A :class:`PeriodicJob` is one pass (``run(database) -> how many things it did``) and an interval.
:func:`periodic_jobs` starts one asyncio task per job when the app starts and cancels them cleanly when it
stops; a job with an interval of 0 is not started (tests, or a deployment that runs passes elsewhere).
Before each pass the task takes (or confirms) the job's lease (libs/common/leases.py): the replica that
holds it runs the job once per interval, the others stand by and ask again each interval, and take over
within one interval of the holder stopping. A pass that raises is logged and the next one runs after
the interval: a job never takes the process down. Jobs stay safe to run twice (conditional or
idempotent statements): a holder cut off from the database may finish a pass its successor repeats.
:func:`run_pass` runs one pass of a job now, without a lease (tests, maintenance scripts).

Observers (metrics): :func:`add_pass_listener` registers a callback that receives a :class:`JobPass`
after every turn of every job loop — a pass done or failed, or a turn in standby.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from libs.common.database import Database
from libs.common.leases import Leases

log = logging.getLogger("libs.common.jobs")

Outcome = Literal["done", "failed", "standby"]


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    name: str
    interval_seconds: float
    run: Callable[[Database], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class JobPass:
    """One turn of a job loop, for observers: ``standby`` when another replica holds the lease."""

    service: str
    job: str
    holder: str  # the replica's Leases.holder_id
    outcome: Outcome
    count: int | None  # things done (``done``), else None
    started_at: float  # time.time()
    duration_seconds: float


PassListener = Callable[[JobPass], None]
_listeners: list[PassListener] = []


def add_pass_listener(listener: PassListener) -> Callable[[], None]:
    """Call ``listener`` after every turn of every job loop in this process; returns its remover.
    A listener must be quick and must not raise (an exception is logged and ignored)."""
    _listeners.append(listener)

    def remove() -> None:
        with contextlib.suppress(ValueError):
            _listeners.remove(listener)

    return remove


def notify(event: JobPass) -> None:
    """Tell the listeners about ``event`` (job loops outside :func:`periodic_jobs` use it too)."""
    for listener in tuple(_listeners):
        try:
            listener(event)
        except Exception:  # an observer must not stop a job
            log.exception("job listener failed", extra={"job": event.job})


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


async def run_leased_pass(database: Database, job: PeriodicJob, leases: Leases) -> JobPass:
    """One turn: the pass if this process holds (or takes) the job's lease, else a standby turn."""
    started, clock = time.time(), time.monotonic()
    outcome: Outcome = "standby"
    count: int | None = None
    if await leases.hold(job.name):
        count = await run_pass(database, job)
        outcome = "failed" if count is None else "done"
    event = JobPass(
        service=database.settings.service_name,
        job=job.name,
        holder=leases.holder_id,
        outcome=outcome,
        count=count,
        started_at=started,
        duration_seconds=time.monotonic() - clock,
    )
    notify(event)
    return event


async def _loop(database: Database, job: PeriodicJob, leases: Leases) -> None:
    while True:
        await run_leased_pass(database, job, leases)
        await asyncio.sleep(job.interval_seconds)


@contextlib.asynccontextmanager
async def periodic_jobs(
    database: Database, jobs: Sequence[PeriodicJob], *, leases: Leases | None = None
) -> AsyncIterator[list[asyncio.Task[None]]]:
    """Run each job (interval > 0) in its own task for the duration of the block, each pass under the
    job's lease in ``leases`` (the app's; when None, leases of this block, given up when it ends)."""
    own = leases is None
    active = leases or Leases(database.settings)
    tasks = [
        asyncio.create_task(_loop(database, job, active), name=f"job:{job.name}")
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
        if own:
            await active.close()
        else:
            for job in jobs:
                await active.release(job.name)
