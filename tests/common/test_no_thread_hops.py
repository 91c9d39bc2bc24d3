"""No route of any service sends work to the thread pool (issue 16).

FastAPI runs a dependency or endpoint written as a plain ``def`` in a worker thread: a hand-off to a
thread and back for every such function on every request. The list endpoints had three of them (page
parameters, filters, the cipher) — each a few attribute reads — and paid for three thread hops per
request. Dependencies and endpoints are ``async def``; one that must block is not a dependency.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from services.contracts.app import create_app as contracts_app
from services.gateway.app import create_app as gateway_app
from services.homecare.app import create_app as homecare_app
from services.indicators.app import create_app as indicators_app
from services.registry.app import create_app as registry_app
from services.residents.app import create_app as residents_app

APPS: dict[str, Callable[[], FastAPI]] = {
    "gateway": gateway_app,
    "registry": registry_app,
    "contracts": contracts_app,
    "homecare": homecare_app,
    "indicators": indicators_app,
    "residents": residents_app,
}


def _runs_in_a_thread(call: Any) -> bool:
    function = call if inspect.isroutine(call) else getattr(call, "__call__", call)  # noqa: B004
    return not (inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function))


def _dependencies(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _dependencies(sub)


def test_every_dependency_and_endpoint_is_async() -> None:
    threaded = set()
    for service, create_app in APPS.items():
        for route in iter_route_contexts(create_app().routes):
            dependant = getattr(route, "dependant", None)
            if dependant is None:  # not an API route (the docs' pages)
                continue
            for call in (route.endpoint, *_dependencies(dependant)):
                if call is not None and _runs_in_a_thread(call):
                    name = getattr(call, "__qualname__", type(call).__qualname__)
                    threaded.add(f"{service} {route.path}: {getattr(call, '__module__', '?')}.{name}")
    assert not threaded, sorted(threaded)
