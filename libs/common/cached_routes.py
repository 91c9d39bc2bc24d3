"""Cached pages answered before FastAPI solves the route's dependencies (issue 16, 16j).

A page of the response cache (:mod:`libs.common.response_cache`) answered through FastAPI still cost
its route's whole dependency chain — the token, the permission, the query models, the cipher, an ORM
session for the feed head — about ten times what the answer needs. A route whose endpoint is marked with
:func:`early_cache_hits` (and that answers with :func:`~libs.common.response_cache.cached_page`) first
tries the cache itself:

1. GET or HEAD, no ``Cache-Control: no-cache|no-store``, a bearer token read as ``HTTPBearer`` reads
   it, verified by the app's ``TokenVerifier`` as :func:`~libs.common.access.get_principal` verifies it
   (its cache of verified tokens included), and the route's permission granted by its ``Policy`` as
   ``POLICY.require`` grants it (found in the route's dependency tree: exactly one).
2. The *raw key*: the route, :func:`~libs.common.response_cache.caller_view` of the principal, and the
   query string exactly as sent (bytes, items in the order sent: ``?a=1&b=2`` and ``?b=2&a=1`` are two
   raw keys for one page — each answered once by the normal path first). Only a raw key the normal path
   has answered (200 or 304: its parameters valid, its permission granted) leads to a page: the normal
   path records raw key → page key after its answer. A query the normal path refuses (422) is never
   recorded, so it never skips validation.
3. The feed head, read from the database on every request as before, at the driver without a session
   (:meth:`Database.feed_head <libs.common.database.Database.feed_head>`); the page is answered only if
   it is still the one of that head.

Anything else — no token, a token the verifier refuses, a permission not granted, a raw key not yet
answered, a page gone or older than the head, an error reading the head, dependency overrides touching
the route (tests) — falls through to the normal path, which answers as it always did (401/403
problem+json, 422, a page made afresh). The fast path never answers an error.

The answer is the normal path's hit: :func:`~libs.common.response_cache.answer` (the same bytes, ETag,
Cache-Control, ``X-Response-Cache: hit``, 304 on a matching ``If-None-Match``), from the route's handler
inside the app: every middleware (request id, security headers, access log, metrics with the route's
label, CORS) applies as to any answer; ``request.state.principal`` is set as ``get_principal`` sets it.

**Contract of a marked endpoint**: its answer is ``cached_page``'s alone; besides the permission, its
dependencies refuse nothing that can change with time for one raw query (here: the filters and page
models, fixed bounds; cursors are plain keyset values, not expiring), and they have no side effect a
cached answer must repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant

from libs.common.access import Policy, bearer_token, requirement_of, verified_principal
from libs.common.errors import DomainError
from libs.common.query_models import READ_ONLY, QueryModelRoute
from libs.common.response_cache import answer, answered_key, bypass, cache_of, caller_view

_MARK = "__early_cache_hits__"
Handler = Callable[[Request], Coroutine[Any, Any, Response]]
F = TypeVar("F", bound=Callable[..., Any])


def early_cache_hits(endpoint: F) -> F:
    """Mark an endpoint answered by ``cached_page`` whose hits its route answers before solving its
    dependencies (module docstring; the contract there). Put it under ``@router.get(...)``."""
    setattr(endpoint, _MARK, True)
    return endpoint


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _requirement(dependant: Dependant, route: str) -> tuple[Policy, str]:
    found = {req for call in _calls(dependant) if (req := requirement_of(call)) is not None}
    if len(found) != 1:
        raise ValueError(f"{route}: early cache hits need exactly one Policy.require, found {len(found)}")
    return found.pop()


class EarlyCacheHits:
    """The early lookup of one route: its permission, its dependencies' calls (overrides) and name."""

    def __init__(self, name: str, dependant: Dependant, overrides_provider: Any) -> None:
        self.name = name
        self.policy, self.permission = _requirement(dependant, name)
        self.calls = frozenset(_calls(dependant))
        self.overrides_provider = overrides_provider

    def overridden(self) -> bool:
        overrides = getattr(self.overrides_provider, "dependency_overrides", None)
        return overrides is not None and bool(overrides) and any(call in overrides for call in self.calls)

    async def hit(self, request: Request) -> Response | None:
        """The cached page's answer, or ``None``: the normal path answers."""
        if bypass(request) or self.overridden():
            return None
        token = bearer_token(request)
        if token is None:
            return None
        cache = cache_of(request)
        if not cache.enabled:
            return None
        try:
            principal = await verified_principal(request, token)
        except DomainError:
            return None  # the normal path answers the 401
        if not self.policy.permits(principal, self.permission):
            return None  # the normal path answers the 403
        raw_key = (self.name, caller_view(principal), request.scope["query_string"])
        if not cache.knows(raw_key):
            return None  # not answered by the normal path yet: no statement
        try:
            version = await request.app.state.database.feed_head()
        except Exception:
            return None  # the normal path meets the database's failure and answers it
        page = cache.answered(raw_key, version)
        if page is None:
            return None
        request.state.principal = principal
        return answer(request, page.body, page.etag, "hit")

    def remember(self, request: Request, response: Response) -> None:
        """After the normal path: its raw key → the page it answered with (a 200 or 304 of
        ``cached_page``, with a principal from ``get_principal``)."""
        if response.status_code not in (200, 304) or self.overridden():
            return
        key = answered_key(request)
        principal = getattr(request.state, "principal", None)
        if key is None or principal is None:
            return
        raw_key = (self.name, caller_view(principal), request.scope["query_string"])
        cache_of(request).remember(raw_key, key)


class EarlyCacheHitsRoute(QueryModelRoute):
    """A route whose endpoint's cached pages are answered before its dependencies when marked with
    :func:`early_cache_hits`; any other route as :class:`QueryModelRoute`."""

    def get_route_handler(self) -> Handler:
        normal = super().get_route_handler()
        if not getattr(self.endpoint, _MARK, False) or not self.methods or not self.methods <= READ_ONLY:
            return normal
        from fastapi import routing  # the inclusion's dependant, as query_models.py reads it

        context = routing._effective_route_context_var.get()
        if context is not None and context.original_route is self:
            dependant, overrides = context.dependant, context.dependency_overrides_provider
        else:
            dependant, overrides = self.dependant, self.dependency_overrides_provider
        early = EarlyCacheHits(self.unique_id, dependant, overrides)

        async def handler(request: Request) -> Response:
            response = await early.hit(request)
            if response is not None:
                return response
            response = await normal(request)
            early.remember(request, response)
            return response

        return handler
