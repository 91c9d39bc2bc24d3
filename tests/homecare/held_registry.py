"""A registry that can be held at the practitioner look-up, to prove a step asks it BEFORE the request's
write transaction opens.

On SQLite a write session starts with ``BEGIN IMMEDIATE`` at its first statement: had the step loaded its
record first, the write lock would be held for as long as the registry takes to answer, and every other
homecare write would queue behind it (up to the busy timeout). The registry is held at the look-up while
another homecare write runs: it must complete without waiting for the registry.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.http_client import StaticTokenSource
from libs.common.testing import Tokens
from services.homecare.clients.registry import RegistryClient
from tests.homecare.world import World, crew

#: long enough for any write that does not wait on the registry, far below SQLite's 30 s busy timeout
OTHER_WRITE_SECONDS = 5.0


class _HeldTransport(httpx.AsyncBaseTransport):
    """The real registry app, except that once armed, practitioner look-ups wait until released."""

    def __init__(self, registry_app: FastAPI) -> None:
        self._inner = httpx.ASGITransport(app=registry_app)
        self.armed = False
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # by id (assign, assess, home-bed steps) or a provider's listing (the orders' historical import)
        if self.armed and request.method == "GET" and "/practitioners" in request.url.path:
            self.reached.set()
            await self.release.wait()
        return await self._inner.handle_async_request(request)


@dataclass
class HeldRegistry:
    transport: _HeldTransport


@asynccontextmanager
async def held_registry_for(
    homecare_app: FastAPI, registry_app: FastAPI, tokens: Tokens
) -> AsyncIterator[HeldRegistry]:
    """The body of the ``held_registry`` fixture (tests/homecare/conftest.py): the homecare app's registry
    client goes through a holdable transport for the test."""
    transport = _HeldTransport(registry_app)
    original = homecare_app.state.registry
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        homecare_app.state.registry = RegistryClient(
            http, StaticTokenSource(tokens.token(Role.service, ttl=timedelta(hours=1)))
        )
        try:
            yield HeldRegistry(transport)
        finally:
            transport.release.set()
            homecare_app.state.registry = original


async def other_write_while_registry_is_held(
    live_world: World, held: HeldRegistry, step: Callable[[], Coroutine[Any, Any, httpx.Response]]
) -> tuple[httpx.Response, bool]:
    """Run ``step`` with the registry held at its practitioner look-up, and meanwhile another homecare
    write that shares nothing with it; answer the step's response and whether the other write completed
    while the registry was held."""
    c_other = await crew(live_world)  # another provider: a write that shares nothing with the step
    held.transport.armed = True
    task = asyncio.create_task(step())
    other: asyncio.Task[Any] | None = None
    try:
        await asyncio.wait_for(held.transport.reached.wait(), OTHER_WRITE_SECONDS)
        # not wait_for: cancelling a write blocked on the lock would itself wait for the lock
        other = asyncio.create_task(live_world.recipient(c_other.provider))
        done, _ = await asyncio.wait({other}, timeout=OTHER_WRITE_SECONDS)
        completed = other in done
    finally:
        held.transport.release.set()
    if other is not None:
        await other
    response = await task
    return response, completed
