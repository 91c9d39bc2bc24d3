"""Abandoned resumable uploads (issue 18): an upload begun more than ``attachments_upload_abandoned_hours``
ago and never completed is dropped — its partial bytes from the store, then its row — by a periodic job
(libs/common/jobs.py: one replica at a time, every ``retention_interval_seconds`` like the other pruning
passes). A phone that comes back later begins again (``POST /attachments/uploads`` answers a new upload).

Safe to run twice: the partial bytes are dropped before the row, so a pass cut off in between leaves a
row whose bytes are gone, which the next pass drops again (dropping missing bytes is harmless).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from libs.common.database import Database, session_scope
from libs.common.jobs import PeriodicJob
from libs.common.models import utcnow
from services.homecare.attachments.models import AttachmentUpload
from services.homecare.attachments.storage import AttachmentStore
from services.homecare.settings import HomecareSettings

JOB_NAME = "drop_abandoned_attachment_uploads"
BATCH = 500


async def drop_abandoned_uploads(database: Database, store: AttachmentStore, *, before: datetime) -> int:
    """Drop the uploads begun before ``before`` and not completed; how many were dropped."""
    dropped = 0
    while True:
        async with database.session(write=False) as session:
            ids = list(
                await session.scalars(
                    select(AttachmentUpload.id)
                    .where(AttachmentUpload.created_at < before)
                    .order_by(AttachmentUpload.created_at)
                    .limit(BATCH)
                )
            )
        if not ids:
            return dropped
        for upload_id in ids:
            await store.drop_part(str(upload_id))
        async with session_scope(database) as session:
            await session.execute(delete(AttachmentUpload).where(AttachmentUpload.id.in_(ids)))
        dropped += len(ids)
        if len(ids) < BATCH:
            return dropped


def abandoned_uploads_job(settings: HomecareSettings, store: Callable[[], AttachmentStore]) -> PeriodicJob:
    """The periodic job; ``store`` gives the app's attachment store when a pass runs."""

    async def run(database: Database) -> int:
        before = utcnow() - timedelta(hours=settings.attachments_upload_abandoned_hours)
        return await drop_abandoned_uploads(database, store(), before=before)

    return PeriodicJob(name=JOB_NAME, interval_seconds=settings.retention_interval_seconds, run=run)
