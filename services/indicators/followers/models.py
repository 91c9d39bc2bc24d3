"""Where each follower stands in its source's feed: the cursor, stored with the pages it applied.

One row per followed feed (``registry``, ``contracts``, ``homecare``). ``cursor`` is the source's opaque
``next_cursor`` after the last applied page (None: start of the feed); it changes only in the
transaction that applies that page. The other columns describe the follower's health for
``GET /api/v1/indicators/status``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import UTCDateTime
from services.indicators.base import Base


class FeedCursor(Base):
    __tablename__ = "feed_cursor"

    feed: Mapped[str] = mapped_column(String(30), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(200))
    # the seq of the last entry applied (for people reading the status; the cursor is what resumes)
    last_seq: Mapped[int | None] = mapped_column(BigInteger)
    # the source's changed_at of the last entry applied
    last_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    entries_applied: Mapped[int] = mapped_column(BigInteger, default=0)
    # whether the last successful poll reached the end of the feed (has_more false)
    caught_up: Mapped[bool] = mapped_column(default=False)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error_code: Mapped[str | None] = mapped_column(String(60))
    last_error_detail: Mapped[str | None] = mapped_column(String(500))
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
