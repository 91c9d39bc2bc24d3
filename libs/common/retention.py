"""Pruning old rows in bounded batches: the idempotency records of every service (and, in the gateway,
its login attempts).

Each batch is one short transaction deleting at most ``batch_size`` of the oldest rows older than the
cutoff, picked through the index on the timestamp column, so a pass never holds a long lock and
several replicas pruning at once only delete fewer rows each.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import InstrumentedAttribute

from libs.common.database import Database, session_scope
from libs.common.jobs import PeriodicJob
from libs.common.models import IdempotencyRecord, utcnow
from libs.common.settings import ServiceSettings


async def delete_older_than(
    database: Database,
    *,
    key: InstrumentedAttribute[Any],
    timestamp: InstrumentedAttribute[Any],
    cutoff: datetime,
    batch_size: int,
) -> int:
    """Delete the rows whose ``timestamp`` is before ``cutoff``, ``batch_size`` per transaction; returns
    how many were deleted."""
    table = key.class_
    total = 0
    while True:
        oldest = select(key).where(timestamp < cutoff).order_by(timestamp).limit(batch_size)
        async with session_scope(database) as session:
            result = await session.execute(
                delete(table)
                .where(key.in_(oldest.scalar_subquery()))
                .execution_options(synchronize_session=False)
            )
        deleted = int(getattr(result, "rowcount", 0) or 0)
        total += deleted
        if deleted < batch_size:
            return total
        await asyncio.sleep(0)  # let requests in between batches


async def prune_idempotency_records(database: Database, *, now: datetime | None = None) -> int:
    """Forget first answers older than ``idempotency_retention_days``: a replay of such a key is then
    treated as a new request."""
    settings: ServiceSettings = database.settings
    cutoff = (now or utcnow()) - timedelta(days=settings.idempotency_retention_days)
    return await delete_older_than(
        database,
        key=IdempotencyRecord.id,
        timestamp=IdempotencyRecord.created_at,
        cutoff=cutoff,
        batch_size=settings.retention_batch_size,
    )


def idempotency_retention_job(settings: ServiceSettings) -> PeriodicJob:
    return PeriodicJob(
        name="prune_idempotency_records",
        interval_seconds=settings.retention_interval_seconds,
        run=prune_idempotency_records,
    )
