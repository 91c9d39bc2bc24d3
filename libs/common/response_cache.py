"""A version-keyed response cache for list pages (issue 16): the bytes of a page, served again while
nothing they depend on has changed.

**The version** is the head of the service's change feed (``max(change_record.seq)``, one indexed
statement). Every write of a change-tracked entity commits its feed entry in the same transaction
(``libs/common/changes.py``: ORM flushes, bulk writers' ``track``), and on PostgreSQL the entries are
numbered in commit order under an advisory lock; the table is append-only (nothing prunes it). So a page
computed from data that the head ``h`` describes stays right exactly as long as the head is ``h`` — in
every replica, since the head is read from the database on every request. An endpoint may use this cache
only for a page made of change-tracked tables alone (plus constants: labels, divisions); its tests write
through every write path and read the page again (``tests/registry/institutions/test_list_cache.py``).

**The key** is everything else the bytes depend on, given by the endpoint: its name, the caller's view
(:func:`caller_view`: role, region, institution, practitioner — what scope and masking read; not who the
caller is nor which token they hold, so a token whose scope changed gets another key) and the request's
parsed parameters (normalised by :func:`key_of`: ``?active=1`` and ``?active=true`` are one page).

**A request** reads the head; a cached page of that key and head is answered as it is (the list query,
the rows and the JSON are skipped). Otherwise the page is made, and kept only if the head is still the
same after it was made (on PostgreSQL each statement reads the latest commits: a page made while a write
committed is answered but not kept). The answer carries a strong ``ETag`` (a hash of the bytes: the same
in every replica, and after a deploy that changes the bytes) and ``Cache-Control: private, no-cache``; a
matching ``If-None-Match`` is answered 304. ``Cache-Control: no-cache`` (or ``no-store``) in the request
skips the lookup and makes the page afresh (the benchmark's uncached figure).

**Early hits**: a route marked with ``cached_routes.early_cache_hits`` answers a hit before FastAPI
solves its dependencies, for a request the normal path has answered before (the same route, caller view
and query string): :meth:`ResponseCache.remember` / :meth:`ResponseCache.answered`, the head read at the
driver (``Database.feed_head``). See ``libs/common/cached_routes.py``.

**The head in the page's statement** (:func:`cached_page_at`, for a page of one statement): the
statement selects :data:`HEAD_COLUMN` beside its rows, so the page and its version come from one snapshot
(one statement on PostgreSQL, one read transaction on SQLite) and the page is kept under that version
without reading the head again afterwards. A page made afresh on request (``no-cache``) is then one
statement instead of three (head, page, head), a miss two. A page of no rows has no head beside it: it is
kept as :func:`cached_page` keeps a page (only if the head read after equals the one read before).

**Bounds**: at most ``max_entries`` pages and ``max_bytes`` bytes per process, least recently used first
out; a key keeps one entry (its latest head), so older versions never accumulate. ``enabled=False``
(``<PREFIX>RESPONSE_CACHE_ENABLED=false``) makes every page afresh, with its ETag.

**A composite version** (``cached_page(..., version=...)``): a page that also reads something the feed
does not track — a mirror of another service kept by a sync cursor, "today" — is keyed by a version that
includes it too (e.g. ``(feed head, mirror cursor, today in Asia/Shanghai)``); the same rules hold: read
before the page is made, read again after, kept only if unchanged. Early hits read the feed head alone:
a route with a composite version is not marked for them (its pages, kept under a composite version, never
equal a head, so they would only fall through).
"""

from __future__ import annotations

import dataclasses
import enum
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from libs.common.auth import Principal
from libs.common.concurrency import content_etag, none_match
from libs.common.models import ChangeRecord
from libs.common.settings import ServiceSettings

#: ``max(seq)`` reads the primary key's last entry (SQLite: the rowid B-tree; PostgreSQL: a backward
#: index-only scan); 0 for an empty feed
_HEAD = select(func.coalesce(func.max(ChangeRecord.seq), 0))
#: the feed head as a column of a page's own statement (:func:`cached_page_at`): an uncorrelated scalar
#: subquery, evaluated once per statement (PostgreSQL an InitPlan, SQLite a constant subquery), in the
#: statement's snapshot — the version of exactly the rows it returns beside it
HEAD_COLUMN = _HEAD.scalar_subquery().label("response_cache_feed_head")
_STATE_NAME = "response_cache"
CACHE_CONTROL = "private, no-cache"
#: the response header saying how the page was answered (hit, miss, bypass, off): for tests and benches
OUTCOME_HEADER = "X-Response-Cache"
#: the OpenAPI ``responses`` entry of an endpoint answered through :func:`cached_page` (its 304)
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {"description": "未变化（If-None-Match 命中）"}}


async def feed_head(session: AsyncSession) -> int:
    """The head of the service's change feed: the version of every change-tracked table."""
    return int((await session.execute(_HEAD)).scalar_one())


def caller_view(principal: Principal) -> tuple[Hashable, ...]:
    """What of the caller can change a page's bytes: the role (permissions, masking) and the scope
    (region, institution, practitioner). Not the subject nor the token: two officials of one county
    share their pages."""
    return (
        principal.role.value,
        principal.region_code,
        principal.institution_id,
        principal.practitioner_id,
    )


def _normalised(value: Any) -> Hashable:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, enum.Enum):
        return (type(value).__name__, value.value)
    if isinstance(value, date | datetime):  # datetime is a date
        return value.isoformat()
    if isinstance(value, BaseModel):
        return (type(value).__name__, _normalised(value.model_dump()))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return (type(value).__name__, _normalised(fields))
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _normalised(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_normalised(v) for v in value)
    if isinstance(value, set | frozenset):
        return tuple(sorted((_normalised(v) for v in value), key=repr))
    if isinstance(value, Hashable):
        return value  # UUID, Decimal …
    raise TypeError(f"cannot key a response by a {type(value).__name__}")


def key_of(*parts: Any) -> Hashable:
    """A cache key of the parts (the endpoint's name, the caller's view, its parsed parameters): dicts by
    sorted key, dataclasses and models by their fields, enums by value — equal parameters, equal keys."""
    return _normalised(parts)


#: how an endpoint reads its page's version (default :func:`feed_head`)
Version = Callable[[AsyncSession], Awaitable[Hashable]]


@dataclass(frozen=True, slots=True)
class CachedPage:
    version: Hashable
    body: bytes
    etag: str


class ResponseCache:
    """Pages by key, each with the feed head it was made at; LRU within ``max_entries`` and ``max_bytes``.
    One per app (process); the event loop's single thread is its only user."""

    def __init__(self, *, max_entries: int, max_bytes: int, enabled: bool = True) -> None:
        self.enabled = enabled and max_entries > 0 and max_bytes > 0
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._pages: OrderedDict[Hashable, CachedPage] = OrderedDict()
        #: raw request keys (route, view, query string as sent) → the key of the page the normal path
        #: answered them with (libs/common/cached_routes.py); LRU within ``max_entries``
        self._answered: OrderedDict[Hashable, Hashable] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> ResponseCache:
        return cls(
            max_entries=settings.response_cache_max_entries,
            max_bytes=settings.response_cache_max_bytes,
            enabled=settings.response_cache_enabled,
        )

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: Hashable, version: Hashable) -> CachedPage | None:
        page = self._pages.get(key)
        if page is None or page.version != version:
            self.misses += 1
            return None
        self._pages.move_to_end(key)
        self.hits += 1
        return page

    def remember(self, raw_key: Hashable, key: Hashable) -> None:
        """The normal path answered the request of ``raw_key`` (parameters valid, permission granted)
        with the page of ``key``."""
        if not self.enabled:
            return
        self._answered[raw_key] = key
        self._answered.move_to_end(raw_key)
        while len(self._answered) > self.max_entries:
            self._answered.popitem(last=False)

    def knows(self, raw_key: Hashable) -> bool:
        """The normal path has answered ``raw_key`` (and it is still remembered)."""
        return raw_key in self._answered

    def answered(self, raw_key: Hashable, version: int) -> CachedPage | None:
        """The page of version ``version`` the normal path answered ``raw_key`` with, if still kept. A
        miss is not counted (the normal path that answers it counts it)."""
        key = self._answered.get(raw_key)
        if key is None:
            return None
        page = self._pages.get(key)
        if page is None or page.version != version:
            return None
        self._answered.move_to_end(raw_key)
        self._pages.move_to_end(key)
        self.hits += 1
        return page

    def put(self, key: Hashable, page: CachedPage) -> None:
        """Keep ``page`` under ``key`` (replacing the key's older version); a page larger than the whole
        budget is not kept."""
        if not self.enabled:
            return
        self._drop(key)
        if len(page.body) > self.max_bytes:
            return
        self._pages[key] = page
        self.bytes += len(page.body)
        while len(self._pages) > self.max_entries or self.bytes > self.max_bytes:
            oldest = next(iter(self._pages))
            self._drop(oldest)
            self.evictions += 1

    def _drop(self, key: Hashable) -> None:
        old = self._pages.pop(key, None)
        if old is not None:
            self.bytes -= len(old.body)


def cache_of(request: Request) -> ResponseCache:
    """The request's app's cache."""
    return cache_of_app(request.app)


def cache_of_app(app: Any) -> ResponseCache:
    """The app's cache, made from its settings on first use."""
    state = app.state
    cache = getattr(state, _STATE_NAME, None)
    if cache is None:
        cache = ResponseCache.from_settings(cast(ServiceSettings, state.settings))
        setattr(state, _STATE_NAME, cache)
    return cast(ResponseCache, cache)


def forget(app: Any) -> None:
    """Drop the app's cache (tests: pages made inside a transaction that is then rolled back)."""
    if getattr(app.state, _STATE_NAME, None) is not None:
        setattr(app.state, _STATE_NAME, None)


def bypass(request: Request) -> bool:
    """The request asks for a page made afresh (``Cache-Control: no-cache`` or ``no-store``)."""
    directives = request.headers.get("cache-control", "").lower()
    return "no-cache" in directives or "no-store" in directives


def answer(request: Request, body: bytes, etag: str, outcome: str) -> Response:
    """A page's answer: its bytes, or 304 for a matching ``If-None-Match``; ETag and Cache-Control."""
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, OUTCOME_HEADER: outcome}
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@dataclass(frozen=True, slots=True)
class PageAt:
    """A page's bytes and the feed head its statement read beside its rows (:data:`HEAD_COLUMN`;
    ``None`` when the statement returned no row)."""

    body: bytes
    head: int | None


def head_of(rows: Sequence[Sequence[Any]]) -> int | None:
    """The :data:`HEAD_COLUMN` of a page's rows (their last column), ``None`` for no rows."""
    return int(rows[0][-1]) if rows else None


def _answered_by(request: Request, key: Hashable) -> None:
    # the key of the page this request is answered with, for the route's early lookup (cached_routes.py)
    request.state.response_cache_key = key


def answered_key(request: Request) -> Hashable | None:
    """The key of the page :func:`cached_page` answered this request with (``None``: not answered by
    it, or with a page made afresh on request)."""
    return cast(Hashable | None, getattr(request.state, "response_cache_key", None))


async def cached_page(
    request: Request,
    session: AsyncSession,
    key: Hashable,
    make: Callable[[], Awaitable[bytes]],
    version: Version | None = None,
) -> Response:
    """The JSON page of ``key``: from the cache while the version (the feed head unless ``version`` says
    otherwise) is the one it was made at, else ``make()``'s bytes (kept if the version did not move
    meanwhile). ETag and 304 either way."""
    cache = cache_of(request)
    if not cache.enabled:
        body = await make()
        return answer(request, body, content_etag(body), "off")
    skip = bypass(request)
    version = version or feed_head  # looked up at each call (tests replace the module's feed_head)
    before = await version(session)
    if not skip:
        page = cache.get(key, before)
        if page is not None:
            _answered_by(request, key)
            return answer(request, page.body, page.etag, "hit")
    body = await make()
    etag = content_etag(body)
    if skip and "no-store" in request.headers.get("cache-control", "").lower():
        return answer(request, body, etag, "bypass")
    if await version(session) == before:
        cache.put(key, CachedPage(before, body, etag))
    if not skip:
        _answered_by(request, key)
    return answer(request, body, etag, "bypass" if skip else "miss")


async def cached_page_at(
    request: Request,
    session: AsyncSession,
    key: Hashable,
    make: Callable[[], Awaitable[PageAt]],
) -> Response:
    """:func:`cached_page` for a page whose statement selects :data:`HEAD_COLUMN` beside its rows (the
    feed head is its version): a page made afresh on request reads no head apart, a miss reads it once
    (for the lookup), and a page is kept under the head it was made at — never a page and a head of two
    snapshots. ETag and 304 either way."""
    cache = cache_of(request)
    if not cache.enabled:
        body = (await make()).body
        return answer(request, body, content_etag(body), "off")
    skip = bypass(request)
    before: int | None = None
    if not skip:
        before = await feed_head(session)  # looked up at each call (tests replace the module's feed_head)
        page = cache.get(key, before)
        if page is not None:
            _answered_by(request, key)
            return answer(request, page.body, page.etag, "hit")
    made = await make()
    etag = content_etag(made.body)
    if skip and "no-store" in request.headers.get("cache-control", "").lower():
        return answer(request, made.body, etag, "bypass")
    if made.head is not None:
        cache.put(key, CachedPage(made.head, made.body, etag))
    elif before is not None and await feed_head(session) == before:  # no rows: no head beside them
        cache.put(key, CachedPage(before, made.body, etag))
    if not skip:
        _answered_by(request, key)
    return answer(request, made.body, etag, "bypass" if skip else "miss")
