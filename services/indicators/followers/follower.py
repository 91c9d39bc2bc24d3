"""A follower of one source's change feed: reads pages through the gateway, applies each to the read
model in ONE transaction with the cursor after it, and keeps going whatever happens upstream.

- **Resumes** from the cursor stored in the indicators database (a restart re-reads nothing applied).
- **One replica follows each feed**: the background loop polls only while it holds the feed's lease
  (``follower:<feed>``, libs/common/leases.py); the other replicas stand by and take over within one
  interval when the holder stops.
- **Idempotent**: a page applied twice changes nothing (``facts/apply.py``); should two pollers meet (a
  holder cut off from the database and its successor, or ``catch_up`` beside the loop) the page is
  applied only if the stored cursor is still the one it was read from (the cursor row is locked for the
  transaction), otherwise it is dropped and the next poll starts from the newer cursor.
- **No lock across HTTP**: the page is fetched before the write transaction opens.
- **Survives** a source, the gateway or the database being down: a failed poll is recorded (code,
  detail, time, failures in a row) and retried after a capped exponential backoff; the task never ends
  on an error, so the app keeps serving.
- **Analyses what it filled** (PostgreSQL): after a catch-up of thousands of entries it runs ANALYZE on
  its feed's fact tables, so the report is not planned on guesses until autovacuum gets there
  (``followers/statistics.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from libs.common.clock import now as wall_clock
from libs.common.database import Database, session_scope
from libs.common.errors import DomainError
from libs.common.leases import Leases
from services.indicators.clients.feeds import FeedClient, FeedPage
from services.indicators.facts.apply import FACTS, UnexpectedEntry, apply_entries
from services.indicators.followers import statistics
from services.indicators.followers.models import FeedCursor

log = logging.getLogger("services.indicators.followers")

Clock = Callable[[], datetime]


def backoff_delay(failures: int, *, initial: float, maximum: float) -> float:
    """Seconds to wait after ``failures`` failed polls in a row: initial·2^(failures−1), at most maximum."""
    if failures <= 0:
        return 0.0
    return float(min(maximum, initial * 2 ** min(failures - 1, 62)))


@dataclass(frozen=True)
class PollResult:
    received: int  # entries in the page
    changed: int  # rows written or removed
    has_more: bool
    applied: bool  # False when another replica moved the cursor first (the page was dropped)


class FollowError(Exception):
    """A poll that failed; ``code`` is what the status endpoint shows."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class Follower:
    """Follows ``feed`` (a source service's name) for the entity types of ``facts/apply.py``."""

    def __init__(
        self,
        feed: str,
        client: FeedClient,
        database: Database,
        *,
        batch_size: int,
        clock: Clock = wall_clock,
    ) -> None:
        self.feed = feed
        self.entity_types = tuple(fact.entity_type for fact in FACTS[feed])
        self.client = client
        self.database = database
        self.batch_size = batch_size
        self.clock = clock
        #: entries this follower applied since it last analysed its tables (``followers.statistics``)
        self.applied_since_analyze = 0

    @property
    def lease_name(self) -> str:
        return f"follower:{self.feed}"

    async def stored_cursor(self) -> str | None:
        async with session_scope(self.database, write=False) as session:
            row = await session.get(FeedCursor, self.feed)
            return row.cursor if row else None

    async def _fetch(self, after: str | None) -> FeedPage:
        try:
            return await self.client.page(after=after, limit=self.batch_size, entity_types=self.entity_types)
        except DomainError as exc:  # UpstreamError / UpstreamTimeout with the client's codes
            raise FollowError(exc.code, exc.detail) from exc

    async def poll_once(self) -> PollResult:
        """Read one page from the stored cursor and apply it with the new cursor; record a failure."""
        try:
            return await self._poll()
        except FollowError as exc:
            await self._record_failure(exc.code, exc.detail)
            raise
        except (SQLAlchemyError, OSError) as exc:
            await self._record_failure("database_error", type(exc).__name__)
            raise FollowError("database_error", type(exc).__name__) from exc

    async def _poll(self) -> PollResult:
        after = await self.stored_cursor()
        page = await self._fetch(after)
        async with session_scope(self.database) as session:
            row = await session.scalar(
                select(FeedCursor).where(FeedCursor.feed == self.feed).with_for_update()
            )
            if row is None:
                row = FeedCursor(feed=self.feed, cursor=None, entries_applied=0, consecutive_failures=0)
                session.add(row)
            if row.cursor != after:  # another replica applied this page meanwhile
                return PollResult(len(page.items), 0, has_more=True, applied=False)
            try:
                changed = await apply_entries(session, self.feed, page.items)
            except (UnexpectedEntry, ValidationError) as exc:
                raise FollowError("feed_bad_payload", str(exc)[:500]) from exc
            moment = self.clock()
            row.cursor = page.next_cursor
            if page.items:
                row.last_seq = page.items[-1].seq
                row.last_changed_at = page.items[-1].changed_at
            row.entries_applied = (row.entries_applied or 0) + len(page.items)
            row.caught_up = not page.has_more
            row.last_success_at = moment
            row.last_attempt_at = moment
            row.consecutive_failures = 0
            row.next_attempt_at = None
        self.applied_since_analyze += len(page.items)
        if statistics.due(self.applied_since_analyze, caught_up=not page.has_more):
            self.applied_since_analyze = 0
            await statistics.analyze(self.database, [fact.model for fact in FACTS[self.feed]])
        return PollResult(len(page.items), changed, has_more=page.has_more, applied=True)

    async def _record_failure(self, code: str, detail: str, retry_in: float | None = None) -> None:
        log.warning("feed poll failed", extra={"feed": self.feed, "code": code})
        moment = self.clock()
        try:
            async with session_scope(self.database) as session:
                row = await session.get(FeedCursor, self.feed, with_for_update=True)
                if row is None:
                    row = FeedCursor(feed=self.feed, cursor=None, entries_applied=0, consecutive_failures=0)
                    session.add(row)
                row.last_attempt_at = moment
                row.last_error_code = code
                row.last_error_detail = detail[:500]
                row.last_error_at = moment
                row.consecutive_failures = (row.consecutive_failures or 0) + 1
                row.caught_up = False
        except (SQLAlchemyError, OSError):  # the database itself is down: the log has it
            log.exception("could not record a feed failure", extra={"feed": self.feed})

    async def _schedule(self, delay: float) -> None:
        with contextlib.suppress(SQLAlchemyError, OSError):
            async with session_scope(self.database) as session:
                row = await session.get(FeedCursor, self.feed)
                if row is not None:
                    row.next_attempt_at = self.clock() + timedelta(seconds=delay)

    async def catch_up(self, *, max_pages: int = 10_000) -> int:
        """Poll until the feed has no more (or ``max_pages``); return the entries received. Raises
        :class:`FollowError` on the first failure (recorded)."""
        received = 0
        for _ in range(max_pages):
            result = await self.poll_once()
            received += result.received
            if not result.has_more:
                break
        return received

    async def run(
        self,
        *,
        interval: float,
        backoff_initial: float,
        backoff_max: float,
        stop: asyncio.Event | None = None,
        leases: Leases | None = None,
    ) -> None:
        """Follow until ``stop`` is set: at once while the feed has more, every ``interval`` once caught
        up, after a growing backoff while polls fail; with ``leases``, only while holding the feed's
        lease (else ask again every ``interval``). A poll under way when ``stop`` is set finishes
        first (a cancelled database call could leave its connection behind). Never raises."""
        stop = stop or asyncio.Event()
        failures = 0
        while not stop.is_set():
            if leases is not None and not await leases.hold(self.lease_name):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)
                continue
            try:
                result = await self.poll_once()
                failures = 0
                delay = 0.0 if result.has_more else interval
            except FollowError:
                failures += 1
                delay = backoff_delay(failures, initial=backoff_initial, maximum=backoff_max)
                await self._schedule(delay)
            except Exception:  # a bug must not stop the follower (nor the app): log, back off, retry
                log.exception("feed follower failed", extra={"feed": self.feed})
                failures += 1
                delay = backoff_delay(failures, initial=backoff_initial, maximum=backoff_max)
                await self._record_failure("internal_error", "内部错误（见日志）")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
        if leases is not None:  # another replica may follow at once
            await leases.release(self.lease_name)


class Followers:
    """The followers of one app, and their background tasks while it serves."""

    def __init__(self, followers: Sequence[Follower]) -> None:
        self.by_feed = {follower.feed: follower for follower in followers}
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    def __iter__(self) -> Iterator[Follower]:
        return iter(self.by_feed.values())

    def __getitem__(self, feed: str) -> Follower:
        return self.by_feed[feed]

    def start(
        self, *, interval: float, backoff_initial: float, backoff_max: float, leases: Leases | None = None
    ) -> None:
        """Start each follower's loop; with ``leases`` (the app's), each feed is followed by the one
        replica holding its lease."""
        self._stop = asyncio.Event()
        for follower in self.by_feed.values():
            self._tasks.append(
                asyncio.create_task(
                    follower.run(
                        interval=interval,
                        backoff_initial=backoff_initial,
                        backoff_max=backoff_max,
                        stop=self._stop,
                        leases=leases,
                    ),
                    name=f"follower:{follower.feed}",
                )
            )

    async def stop(self, *, grace_seconds: float = 30.0) -> None:
        """Let each follower finish its poll under way, then end; cancel one still running after
        ``grace_seconds``."""
        tasks, self._tasks = self._tasks, []
        self._stop.set()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace_seconds)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def catch_up(self) -> dict[str, int]:
        """Each follower until caught up, one after the other (tests, the rebuild command)."""
        return {feed: await follower.catch_up() for feed, follower in self.by_feed.items()}
