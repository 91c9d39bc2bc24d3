"""The app router's first full match, remembered per method and path (issue 16, task B).

FastAPI's router tries its routes in order for every request and takes the first that matches fully;
each included router it tries matches its own routes (and first sums its routers' versions). A request
for the institution list tried eight routes before its own: a fifth of a cached answer's cost.

:class:`RouteLookup` stands in front of the app's router (``router.middleware_stack``) and remembers,
per ``(method, route path)``, which top-level route matched first. The next such request matches only
that route and is dispatched as the router dispatches its first full match (the same scope, the same
``route.handle``). What the router would decide is not changed:

- only a full match is remembered: 404, 405 and the trailing-slash redirect go through the router;
- the routes before the remembered one are known not to match fully while they are the same objects
  in the same places, each included router's routes at the version FastAPI keeps for them (its own
  cache of an included router's routes follows that version), and all of them match by method and path
  alone (``Route``, ``APIRoute``, included routers of those; any other kind — a ``Host`` reads headers —
  leaves the path to the router);
- anything else (websocket, lifespan) goes to the router.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import routing as fastapi_routing
from fastapi.routing import APIRoute, APIRouter
from fastapi.telemetry._api import _route_selected
from starlette import routing
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

_IncludedRouter: Any = fastapi_routing._IncludedRouter
_FASTAPI_SCOPE_KEY: str = fastapi_routing._FASTAPI_SCOPE_KEY
#: the route kinds whose ``matches`` reads the scope's type, method and path and nothing else
_PURE_MATCHES = (
    routing.Route.matches,
    APIRoute.matches,
    routing.WebSocketRoute.matches,
    routing.Mount.matches,
)


@dataclass(frozen=True, slots=True)
class _Entry:
    routes: list[BaseRoute]  # the router's list, with the remembered route at ``index``
    index: int
    route: BaseRoute
    before: tuple[BaseRoute, ...]  # the routes before it (held: their ids stay theirs)
    before_ids: tuple[int, ...]
    included: tuple[tuple[Any, int], ...]  # the included routers before it and their versions
    fastapi_scope: bool  # an included router before it made FastAPI's scope entry while matching

    def valid(self, routes: list[BaseRoute]) -> bool:
        return (
            routes is self.routes
            and len(routes) > self.index
            and routes[self.index] is self.route
            and tuple(map(id, routes[: self.index])) == self.before_ids
            and all(router._get_routes_version() == version for router, version in self.included)
        )


def _pure(route: BaseRoute, seen: set[int]) -> bool:
    """``route`` matches by the scope's type, method and path alone (its included routes too)."""
    if isinstance(route, _IncludedRouter):
        router = route.original_router
        if id(router) in seen:
            return True
        seen.add(id(router))
        return (
            type(route).matches is _IncludedRouter.matches
            and type(route)._match is _IncludedRouter._match
            and type(router).matches is APIRouter.matches
            and all(_pure(child, seen) for child in router.routes)
        )
    return type(route).matches in _PURE_MATCHES


class RouteLookup:
    """The router's dispatch, with its first full match per ``(method, route path)`` remembered (the
    module's docstring). At most ``max_entries`` paths are remembered (paths with ids in them are many:
    past the bound, new ones go through the router)."""

    def __init__(self, router: APIRouter, *, max_entries: int = 4096) -> None:
        self.router = router
        self.dispatch: ASGIApp = router.app
        self.max_entries = max_entries
        self._entries: dict[tuple[str, str], _Entry] = {}

    def first_full_match(self, scope: Scope) -> _Entry | None:
        """Where the router's first full match for ``scope`` is, if it can be remembered (the module's
        docstring; past ``max_entries`` new paths are not looked at), else None."""
        key = (scope["method"], get_route_path(scope))
        routes = self.router.routes
        entry = self._entries.get(key)
        if entry is not None and entry.valid(routes):
            return entry
        if entry is None and len(self._entries) >= self.max_entries:
            return None
        entry = self._learn(scope, routes)
        if entry is None:
            self._entries.pop(key, None)
        else:
            self._entries[key] = entry
        return entry

    def _learn(self, scope: Scope, routes: list[BaseRoute]) -> _Entry | None:
        probe = dict(scope)
        probe[_FASTAPI_SCOPE_KEY] = dict(scope.get(_FASTAPI_SCOPE_KEY, {}))
        seen: set[int] = set()
        included: list[tuple[Any, int]] = []
        for index, route in enumerate(routes):
            if not _pure(route, seen):
                return None
            if isinstance(route, _IncludedRouter):
                included.append((route.original_router, route.original_router._get_routes_version()))
            try:
                match, _ = route.matches(probe)
            except Exception:
                return None  # the router meets it again
            if match == Match.FULL:
                before = tuple(routes[:index])
                return _Entry(
                    routes=routes,
                    index=index,
                    route=route,
                    before=before,
                    before_ids=tuple(map(id, before)),
                    included=tuple(included[:-1] if isinstance(route, _IncludedRouter) else included),
                    fastapi_scope=any(isinstance(r, _IncludedRouter) for r in before),
                )
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.dispatch(scope, receive, send)
            return
        entry = self.first_full_match(scope)
        if entry is None:
            await self.dispatch(scope, receive, send)
            return
        route = entry.route
        # as APIRouter.app dispatches its first full match
        if "router" not in scope:
            scope["router"] = self.router
        if entry.fastapi_scope:
            scope.setdefault(_FASTAPI_SCOPE_KEY, {})
        match, child_scope = route.matches(scope)
        if match != Match.FULL:  # cannot happen while the entry is valid; the router decides
            await self.dispatch(scope, receive, send)
            return
        scope.update(child_scope)
        _route_selected(
            scope=scope,
            path=getattr(route, "path_format", None),
            mount=isinstance(route, routing.Mount),
        )
        await route.handle(scope, receive, send)


def install(router: APIRouter) -> RouteLookup:
    """Put a :class:`RouteLookup` in front of ``router`` (the app's router)."""
    lookup = RouteLookup(router)
    router.middleware_stack = lookup
    return lookup
