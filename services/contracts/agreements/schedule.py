"""The periodic task that persists calendar moves (activation, expiry) in every replica's lifespan.

Safe with several replicas: each move is a conditional UPDATE, so the replicas that run at the same
moment move each agreement once between them, and a run that finds nothing to do changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from libs.common.changes import write_pending_changes
from libs.common.database import Database, session_scope
from services.contracts.agreements.lifecycle import advance_calendar
from services.contracts.clock import Clock

log = logging.getLogger("services.contracts.schedule")


async def run_once(database: Database, clock: Clock) -> int:
    async with session_scope(database) as session:
        moved = await advance_calendar(session, today=clock.today(), now=clock.now())
        await write_pending_changes(session)
    return moved


async def _loop(database: Database, clock: Clock, interval: float) -> None:
    while True:
        try:
            moved = await run_once(database, clock)
            if moved:
                log.info("calendar moved agreements", extra={"moved": moved})
        except Exception:  # the loop must survive a bad run (database restart, lock timeout)
            log.exception("calendar run failed")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def calendar_task(app: FastAPI) -> AsyncIterator[None]:
    interval: float = app.state.settings.calendar_interval_seconds
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(_loop(app.state.database, app.state.clock, interval))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
