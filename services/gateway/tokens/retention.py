"""Pruning ``login_attempt``: rows older than ``GATEWAY_LOGIN_ATTEMPT_RETENTION_DAYS`` (which the
settings keep at least as long as the throttling's longest look-back) are deleted in bounded batches."""

from __future__ import annotations

from datetime import datetime, timedelta

from libs.common.database import Database
from libs.common.jobs import PeriodicJob
from libs.common.models import utcnow
from libs.common.retention import delete_older_than
from services.gateway.settings import GatewaySettings
from services.gateway.tokens.models import LoginAttempt


async def prune_login_attempts(database: Database, *, now: datetime | None = None) -> int:
    settings = database.settings
    assert isinstance(settings, GatewaySettings)
    cutoff = (now or utcnow()) - timedelta(days=settings.login_attempt_retention_days)
    return await delete_older_than(
        database,
        key=LoginAttempt.id,
        timestamp=LoginAttempt.attempted_at,
        cutoff=cutoff,
        batch_size=settings.retention_batch_size,
    )


def login_attempt_retention_job(settings: GatewaySettings) -> PeriodicJob:
    return PeriodicJob(
        name="prune_login_attempts",
        interval_seconds=settings.retention_interval_seconds,
        run=prune_login_attempts,
    )
