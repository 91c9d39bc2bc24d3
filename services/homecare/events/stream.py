"""The order events as server-sent events (``text/event-stream``).

A stream starts after the client's cursor (``Last-Event-ID``, else ``?after=``; neither: after the
latest event, i.e. only what comes next), announces where it starts (``event: ready`` with that cursor
as its ``id``, so a client that reconnects resumes from there), then sends every event of the caller's
scope as ``id: <cursor>``, ``event: <type>``, ``data: <the feed's item as JSON>``. An idle stream sends
a comment (``: heartbeat``) every ``events_heartbeat_seconds``; it ends after ``events_stream_seconds``
or when the token expires, whichever comes first (the client reconnects with ``Last-Event-ID``).

New events reach an open stream within about a second: a commit in this process that wrote events rings
:data:`DOORBELL` and every stream of the process reads at once; events other workers (replicas) wrote
are found by each stream's own read every ``events_poll_seconds``. The database is the truth: the bell
only says "read now", so a stream never misses or repeats an event whatever wakes it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from libs.common.auth import Principal
from libs.common.change_feed import encode_seq_cursor
from libs.common.changes import on_committed
from libs.common.database import Database
from services.homecare.events import service
from services.homecare.events.models import OrderNotice
from services.homecare.settings import HomecareSettings

#: how long a browser's EventSource waits before it reconnects (milliseconds)
RETRY_MS = 2000


class _Waiter:
    def __init__(self, bell: Doorbell) -> None:
        self._bell = bell
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        bell.waiters.add(self)

    async def wait(self, seconds: float) -> None:
        """Until the bell rings or ``seconds`` pass."""
        await asyncio.wait({self.future}, timeout=max(seconds, 0))

    def close(self) -> None:
        self._bell.waiters.discard(self)
        if not self.future.done():
            self.future.cancel()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Doorbell:
    """Wakes this process's streams when a commit wrote events (a hint: they re-read the database).

    A stream takes a :meth:`waiter` *before* it reads, so an event committed between its read and its
    wait still wakes it. Safe across event loops (tests run several)."""

    def __init__(self) -> None:
        self.waiters: set[_Waiter] = set()

    def waiter(self) -> _Waiter:
        return _Waiter(self)

    def ring(self) -> None:
        for waiter in list(self.waiters):
            future = waiter.future
            if future.done():
                continue
            try:
                future.get_loop().call_soon_threadsafe(_wake, future)
            except RuntimeError:  # its loop is closed: nobody waits there any more
                self.waiters.discard(waiter)


DOORBELL = Doorbell()
on_committed(OrderNotice.__tablename__, DOORBELL.ring)


def frame(item: dict[str, Any]) -> bytes:
    data = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
    return f"id: {item['cursor']}\nevent: {item['type']}\ndata: {data}\n\n".encode()


def ready_frame(after: int) -> bytes:
    cursor = encode_seq_cursor(after)
    data = json.dumps({"cursor": cursor})
    return f"retry: {RETRY_MS}\nid: {cursor}\nevent: ready\ndata: {data}\n\n".encode()


HEARTBEAT = b": heartbeat\n\n"


async def events(
    database: Database, principal: Principal, settings: HomecareSettings, *, after: int
) -> AsyncIterator[bytes]:
    """The stream's frames, from position ``after`` (already validated and resolved by the route)."""
    loop = asyncio.get_running_loop()
    lifetime = settings.events_stream_seconds
    if principal.expires_at is not None:
        lifetime = min(lifetime, (principal.expires_at - datetime.now(UTC)).total_seconds())
    deadline = loop.time() + lifetime
    heartbeat = settings.events_heartbeat_seconds
    yield ready_frame(after)
    next_beat = loop.time() + heartbeat
    while True:
        waiter = DOORBELL.waiter()
        try:
            async with database.session(write=False) as session:
                items, after, more = await service.list_after(
                    session, principal, after=after, limit=settings.events_batch
                )
            for item in items:
                yield frame(item)
            now = loop.time()
            if now >= deadline:
                return
            if items:
                next_beat = now + heartbeat
                if more:
                    continue
            if now >= next_beat:
                yield HEARTBEAT
                next_beat = now + heartbeat
            await waiter.wait(min(settings.events_poll_seconds, next_beat - now, deadline - now))
        finally:
            waiter.close()
