"""Assign and assess ask the registry for the practitioner BEFORE the request's write transaction opens.

On SQLite a write session starts with ``BEGIN IMMEDIATE``: had the order been loaded first, the write
lock would be held for as long as the registry takes to answer, and every other homecare write would
queue behind it (up to the busy timeout). Here the registry is held at the practitioner look-up while
another homecare write runs: it must complete without waiting for the registry.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.http_client import StaticTokenSource
from libs.common.testing import Tokens
from services.homecare.clients.registry import RegistryClient
from tests.homecare.world import World, crew, to_status

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
        if self.armed and "/practitioners/" in request.url.path:
            self.reached.set()
            await self.release.wait()
        return await self._inner.handle_async_request(request)


@dataclass
class HeldRegistry:
    transport: _HeldTransport


@pytest.fixture
async def held_registry(
    homecare_app: FastAPI, registry_app: FastAPI, tokens: Tokens
) -> AsyncIterator[HeldRegistry]:
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


async def _other_write_while_registry_is_held(
    live_world: World, held: HeldRegistry, step: Any
) -> tuple[httpx.Response, bool]:
    c_other = await crew(live_world)  # another provider: a write that shares nothing with the order
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
    response: httpx.Response = await task
    return response, completed


async def test_assign_asks_the_registry_before_taking_the_write_lock(
    live_world: World, held_registry: HeldRegistry
) -> None:
    c = await crew(live_world)
    order = await live_world.order(c.provider, c.recipient["id"])
    await to_status(live_world, c, order, "accepted")

    async def assign() -> httpx.Response:
        body = {"nurse_practitioner_id": str(c.nurse)}
        return await live_world.act(order["id"], "assign", live_world.admin(c.provider), body)

    response, completed = await _other_write_while_registry_is_held(live_world, held_registry, assign)
    assert completed, "another homecare write waited for the registry: the write lock was held"
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "assigned"


async def test_a_doctors_assessment_asks_the_registry_before_taking_the_write_lock(
    live_world: World, held_registry: HeldRegistry
) -> None:
    c = await crew(live_world)
    order = await live_world.order(c.provider, c.recipient["id"], items=["HC20"])  # high risk: a doctor
    assert order["requires_doctor"] is True

    async def assess() -> httpx.Response:
        headers = live_world.staff(c.provider, c.doctor)
        return await live_world.act(order["id"], "assess", headers, {"service_group": "chronic"})

    response, completed = await _other_write_while_registry_is_held(live_world, held_registry, assess)
    assert completed, "another homecare write waited for the registry: the write lock was held"
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "assessed"
