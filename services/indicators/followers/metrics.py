"""The followers' lag in ``/metrics`` (libs/common/metrics.py), read from the stored cursors at each
scrape — the same numbers as ``GET /api/v1/indicators/status``, whichever replica follows the feed.

    yiyang_feed_seconds_behind{service,feed}        the status's lag_seconds (absent before a first success)
    yiyang_feed_applied_seq{service,feed}           the seq of the last entry applied
    yiyang_feed_caught_up{service,feed}             1 when the last successful poll reached the feed's end
    yiyang_feed_consecutive_failures{service,feed}  failed polls in a row
    yiyang_feed_last_success_timestamp_seconds{service,feed}

Items behind: a source does not say how many entries remain, so it is computed by Prometheus from the
source's own ``yiyang_changes_head_seq`` (recording rule ``yiyang:feed_items_behind`` in
deploy/observability/prometheus-rules.yaml): head − applied, 0 once caught up (the tail may hold only
entity types the indicators do not read).
"""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import Gauge
from sqlalchemy import select

from libs.common.clock import now
from libs.common.database import Database, session_scope
from libs.common.metrics import PREFIX, Refresher, ServiceMetrics
from services.indicators.facts.apply import FACTS
from services.indicators.followers.models import FeedCursor
from services.indicators.followers.router import feed_status


def feed_lag_refresher(app: FastAPI, metrics: ServiceMetrics) -> Refresher:
    labels = ["service", "feed"]
    registry = metrics.registry
    seconds_behind = Gauge(
        PREFIX + "feed_seconds_behind",
        "How far the read model is behind the source feed, in seconds",
        labels,
        registry=registry,
        multiprocess_mode="mostrecent",
    )
    applied_seq = Gauge(
        PREFIX + "feed_applied_seq",
        "The seq of the last feed entry applied",
        labels,
        registry=registry,
        multiprocess_mode="mostrecent",
    )
    caught_up = Gauge(
        PREFIX + "feed_caught_up",
        "1 when the last successful poll reached the end of the feed",
        labels,
        registry=registry,
        multiprocess_mode="mostrecent",
    )
    failures = Gauge(
        PREFIX + "feed_consecutive_failures",
        "Failed polls of the feed in a row",
        labels,
        registry=registry,
        multiprocess_mode="mostrecent",
    )
    last_success = Gauge(
        PREFIX + "feed_last_success_timestamp_seconds",
        "Unix time of the last successful poll of the feed",
        labels,
        registry=registry,
        multiprocess_mode="mostrecent",
    )

    async def refresh() -> None:
        database: Database | None = getattr(app.state, "database", None)
        if database is None:
            return
        async with session_scope(database, write=False) as session:
            rows = {row.feed: row for row in (await session.scalars(select(FeedCursor))).all()}
        moment = now()
        for feed in FACTS:
            status = feed_status(feed, rows.get(feed), moment)
            key = (metrics.service, feed)
            if status.lag_seconds is not None:  # None: never read yet (and never again once read)
                seconds_behind.labels(*key).set(status.lag_seconds)
            applied_seq.labels(*key).set(status.last_seq or 0)
            caught_up.labels(*key).set(1 if status.caught_up else 0)
            failures.labels(*key).set(status.consecutive_failures)
            if status.last_success_at is not None:
                last_success.labels(*key).set(status.last_success_at.timestamp())

    return refresh
