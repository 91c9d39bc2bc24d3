"""The orders' historical import asks the registry (the practitioners of the providers a batch names) BEFORE
the request's write transaction opens: with the registry held at that look-up, another homecare write
completes (on SQLite a write session holds ``BEGIN IMMEDIATE`` from its first statement)."""

from __future__ import annotations

import httpx

from tests.homecare.held_registry import HeldRegistry, other_write_while_registry_is_held
from tests.homecare.sync.test_history import URL, past_order
from tests.homecare.world import World, crew


async def test_the_import_asks_the_registry_before_taking_the_write_lock(
    live_world: World, held_registry: HeldRegistry
) -> None:
    c = await crew(live_world)
    record = past_order(c, f"RF-{c.provider.id}")

    async def import_() -> httpx.Response:
        return await live_world.client.post(
            URL, json={"source_system": "xm-legacy", "records": [record]}, headers=live_world.province()
        )

    response, completed = await other_write_while_registry_is_held(live_world, held_registry, import_)
    assert completed, "another homecare write waited for the registry: the write lock was held"
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["outcome"] == "created"
