"""The coverage's own copy of the registry's elderly-care institutions, followed from the registry's feed.

签约覆盖率 counts the elderly-care institutions of a region against the agreements in force. It used to
list them from the registry over HTTP on every request (at 30,000 institutions: 150 pages of full rows
per request, 37–62× the SQL it stands on). Instead the contracts database keeps, per institution of an
elderly-care kind, what the coverage reads — id, name, kind, county, active, has_medical_unit — applied
from ``GET /api/v1/registry/changes?entity_types=institution`` page by page with the cursor after it in
one transaction, so the coverage is one GROUP BY joined to the agreements in force.

- **Fresh**: each replica polls the feed every ``registry_snapshot_interval_seconds`` in the background;
  a coverage request catches up first (on the request path) only when this replica's last caught-up poll
  is older than ``registry_snapshot_max_age_seconds`` (0: every request catches up — the tests, which
  read their own registry writes at once). A catch-up that fails answers as the registry call did (502
  ``registry_refused`` / 504), so a coverage is never silently older than the allowed age.
- **Idempotent and safe beside another poller**: the page is fetched before the write transaction; the
  cursor row is locked and the page applied only if the stored cursor is still the one it was read from.
- **What is kept**: institutions of the kinds the coverage counts (elderly_care, integrated); an upsert of
  another kind (a kind changed) or a ``delete`` entry removes the row. Inactive ones are kept (a flag).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from pydantic import ValidationError
from sqlalchemy import BigInteger, Boolean, Index, String, delete, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.database import Database, session_scope
from libs.common.errors import DomainError, UpstreamError
from libs.common.models import ChangeRecord
from services.contracts.base import Base
from services.contracts.clients.registry import (
    ELDERLY_CARE_KINDS,
    FeedEntry,
    InstitutionFeedData,
    RegistryClient,
)

log = logging.getLogger("services.contracts.coverage.snapshot")

FEED = "registry"
ENTITY_TYPES = ("institution",)
PAGE_SIZE = 1000  # the feed's largest page
MAX_PAGES_PER_CATCH_UP = 10_000
ANALYZE_AFTER_ENTRIES = 1_000  # a catch-up this large refreshes the planner's statistics of the table


class SnapshotInstitution(Base):
    """An elderly-care or integrated institution as the registry's feed last said (coverage only)."""

    __tablename__ = "registry_institution"
    __table_args__ = (
        # the coverage's filter (kind, active, county prefix) and everything it reads: an index-only scan
        Index("ix_registry_institution_coverage", "active", "region_code", "kind", "has_medical_unit", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str] = mapped_column(String(6))
    active: Mapped[bool] = mapped_column(Boolean)
    has_medical_unit: Mapped[bool] = mapped_column(Boolean)
    seq: Mapped[int] = mapped_column(BigInteger)  # the feed entry it was last written from


class SnapshotCursor(Base):
    """Where the snapshot stands in a feed (one row, ``feed='registry'``)."""

    __tablename__ = "registry_feed_cursor"

    feed: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(String(200))
    last_seq: Mapped[int | None] = mapped_column(BigInteger)


def _final_states(entries: Sequence[FeedEntry]) -> tuple[set[uuid.UUID], list[dict[str, object]]]:
    """The page's institutions to remove and rows to write (the last entry of each institution wins)."""
    last: dict[uuid.UUID, FeedEntry] = {}
    for entry in entries:
        if entry.entity_type in ENTITY_TYPES:
            last[entry.entity_id] = entry
    rows: list[dict[str, object]] = []
    for entity_id, entry in last.items():
        if entry.op != "upsert" or entry.data is None:
            continue
        data = InstitutionFeedData.model_validate(entry.data)
        if data.kind not in ELDERLY_CARE_KINDS:
            continue
        rows.append(
            {
                "id": entity_id,
                "name": data.name,
                "kind": data.kind,
                "region_code": data.region_code,
                "active": data.active,
                "has_medical_unit": data.has_medical_unit,
                "seq": entry.seq,
            }
        )
    return set(last), rows


class RegistrySnapshot:
    """Keeps ``registry_institution`` up with the registry's feed (one per app)."""

    def __init__(self, client: RegistryClient, *, max_age_seconds: float) -> None:
        self.client = client
        self.max_age_seconds = max_age_seconds
        self._caught_up_at: float | None = None  # time.monotonic() of the last poll that found no more
        self._lock = asyncio.Lock()

    def is_fresh(self) -> bool:
        return (
            self.max_age_seconds > 0
            and self._caught_up_at is not None
            and time.monotonic() - self._caught_up_at < self.max_age_seconds
        )

    async def ensure_fresh(self, database: Database) -> None:
        """Catch up unless this replica caught up within the allowed age (raises the registry's error)."""
        if self.is_fresh():
            return
        async with self._lock:  # concurrent requests wait for one catch-up
            if not self.is_fresh():
                await self.catch_up(database)

    async def stored_cursor(self, database: Database) -> str | None:
        async with database.session(write=False) as session:
            row = await session.get(SnapshotCursor, FEED)
            return row.cursor if row else None

    async def poll_once(self, database: Database) -> tuple[int, bool]:
        """Apply one page from the stored cursor: (entries received, whether the feed has more)."""
        started = time.monotonic()
        after = await self.stored_cursor(database)
        page = await self.client.feed_page(after=after, limit=PAGE_SIZE, entity_types=ENTITY_TYPES)
        if not page.items:
            self._caught_up_at = started
            return 0, False
        try:
            removed, rows = _final_states(page.items)
        except ValidationError as exc:
            raise UpstreamError(
                f"{self.client.upstream_name}返回的数据无法识别", code=self.client.bad_payload_code
            ) from exc
        async with session_scope(database) as session:
            cursor = await session.scalar(
                select(SnapshotCursor).where(SnapshotCursor.feed == FEED).with_for_update()
            )
            if cursor is None:
                cursor = SnapshotCursor(feed=FEED, cursor=None, last_seq=None)
                session.add(cursor)
            if cursor.cursor != after:  # another poller applied this page meanwhile: read on from its cursor
                return len(page.items), True
            await session.execute(delete(SnapshotInstitution).where(SnapshotInstitution.id.in_(removed)))
            if rows:
                await session.execute(insert(SnapshotInstitution), rows)
            cursor.cursor = page.next_cursor
            cursor.last_seq = page.items[-1].seq
        if not page.has_more:
            self._caught_up_at = started
        return len(page.items), page.has_more

    async def catch_up(self, database: Database) -> int:
        """Poll until the feed has no more; the entries received. After a large catch-up (the first one,
        or a bulk import upstream) PostgreSQL's statistics of the table are refreshed at once, so the
        coverage is not planned for the empty table it was (autovacuum may be off or late)."""
        received = 0
        for _ in range(MAX_PAGES_PER_CATCH_UP):
            count, more = await self.poll_once(database)
            received += count
            if not more:
                break
        if received >= ANALYZE_AFTER_ENTRIES and not database.is_sqlite:
            async with session_scope(database) as session:
                await session.execute(text(f"ANALYZE {SnapshotInstitution.__tablename__}"))
        return received

    async def follow(self, app: FastAPI, interval: float, stop: asyncio.Event) -> None:
        """Catch up every ``interval`` seconds until ``stop``; a failure is logged and retried next time
        (a poll under way when ``stop`` is set finishes first). Never raises."""
        while not stop.is_set():
            try:
                async with self._lock:
                    await self.catch_up(app.state.database)
            except (DomainError, SQLAlchemyError, OSError) as exc:
                log.warning("registry snapshot poll failed", extra={"error": type(exc).__name__})
            except Exception:  # a bug must not stop the loop (nor the app)
                log.exception("registry snapshot poll failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)


@contextlib.asynccontextmanager
async def registry_snapshot_task(app: FastAPI) -> AsyncIterator[None]:
    """The app's snapshot (after the registry client's extension) and, unless its interval is 0, the
    background loop that keeps it caught up."""
    settings = app.state.settings
    snapshot = RegistrySnapshot(
        app.state.registry, max_age_seconds=settings.registry_snapshot_max_age_seconds
    )
    app.state.registry_snapshot = snapshot
    interval = float(settings.registry_snapshot_interval_seconds)
    if interval <= 0:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(snapshot.follow(app, interval, stop), name="registry_snapshot")
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=30)  # cancelled if still polling then


async def get_snapshot(request: Request) -> RegistrySnapshot:
    snapshot: RegistrySnapshot = request.app.state.registry_snapshot
    return snapshot


SnapshotDep = Annotated[RegistrySnapshot, Depends(get_snapshot)]


#: the snapshot's position in the registry's feed: ``last_seq`` moves with every page applied (the only
#: write of ``registry_institution``), and the feed's numbers only grow
_POSITION = select(SnapshotCursor.last_seq).where(SnapshotCursor.feed == FEED).scalar_subquery()
_HEAD = select(func.coalesce(func.max(ChangeRecord.seq), 0)).scalar_subquery()
_VERSION = select(_HEAD, _POSITION)


async def data_version(session: AsyncSession) -> tuple[int, int | None]:
    """What the coverage's figures are made of, as one version: this service's feed head (agreements)
    and the snapshot's position in the registry's feed (institutions), in one statement."""
    head, position = (await session.execute(_VERSION)).one()
    return int(head), None if position is None else int(position)
