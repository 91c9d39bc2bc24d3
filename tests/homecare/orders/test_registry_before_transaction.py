"""Assign and assess ask the registry for the practitioner BEFORE the request's write transaction opens.

On SQLite a write session starts with ``BEGIN IMMEDIATE``: had the order been loaded first, the write
lock would be held for as long as the registry takes to answer, and every other homecare write would
queue behind it (up to the busy timeout). Here the registry is held at the practitioner look-up while
another homecare write runs: it must complete without waiting for the registry.
"""

from __future__ import annotations

import httpx

from tests.homecare.held_registry import HeldRegistry, other_write_while_registry_is_held
from tests.homecare.world import World, crew, to_status


async def test_assign_asks_the_registry_before_taking_the_write_lock(
    live_world: World, held_registry: HeldRegistry
) -> None:
    c = await crew(live_world)
    order = await live_world.order(c.provider, c.recipient["id"])
    await to_status(live_world, c, order, "accepted")

    async def assign() -> httpx.Response:
        body = {"nurse_practitioner_id": str(c.nurse)}
        return await live_world.act(order["id"], "assign", live_world.admin(c.provider), body)

    response, completed = await other_write_while_registry_is_held(live_world, held_registry, assign)
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

    response, completed = await other_write_while_registry_is_held(live_world, held_registry, assess)
    assert completed, "another homecare write waited for the registry: the write lock was held"
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "assessed"
