"""The home-bed steps a doctor of the provider takes (assess, open, rounds, reassess) ask the registry
whether the caller is such a doctor BEFORE the request's write transaction opens: with the registry held
at that look-up, another homecare write completes (see tests/homecare/held_registry.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from libs.common.clock import today_in_china
from tests.homecare.held_registry import HeldRegistry, other_write_while_registry_is_held
from tests.homecare.home_beds.test_router import application
from tests.homecare.world import HC, Crew, World, crew

BEDS = f"{HC}/home-beds"
OPEN_BODY = {"care_plan": "每周查床，鼻饲护理", "consent_at": datetime.now(UTC).isoformat()}


async def _doctor_post(world: World, c: Crew, bed_id: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return await world.client.post(
        f"{BEDS}/{bed_id}/{path}", json=body, headers={**world.staff(c.provider, c.doctor), "If-Match": "*"}
    )


async def _bed_in(world: World, c: Crew, status: str) -> str:
    created = await world.client.post(
        BEDS, json=application(c.recipient["id"]), headers=world.admin(c.provider)
    )
    assert created.status_code == 201, created.text
    bed_id = str(created.json()["id"])
    if status in ("assessed", "opened"):
        assert (await _doctor_post(world, c, bed_id, "assess", {})).status_code == 200
    if status == "opened":
        opened = await _doctor_post(world, c, bed_id, "open", OPEN_BODY)
        assert opened.status_code == 200, opened.text
    return bed_id


STEPS = {
    # step: (the bed's state before, body, expected status code, the bed's state after)
    "assess": ("applied", {}, 200, "assessed"),
    "open": ("assessed", OPEN_BODY, 200, "opened"),
    "reassess": ("opened", {"note": "仍需鼻饲"}, 200, "opened"),
    "rounds": ("opened", None, 201, None),
}


@pytest.mark.parametrize("step", sorted(STEPS))
async def test_a_doctors_home_bed_step_asks_the_registry_before_taking_the_write_lock(
    live_world: World, held_registry: HeldRegistry, step: str
) -> None:
    before, body, expected, after = STEPS[step]
    c = await crew(live_world)
    bed_id = await _bed_in(live_world, c, before)
    if body is None:  # a 查床 record
        body = {
            "client_record_id": str(uuid.uuid4()),
            "round_date": today_in_china().isoformat(),  # the rule's day (Asia/Shanghai)
            "findings": "平稳",
        }

    async def doctor_step() -> httpx.Response:
        return await _doctor_post(live_world, c, bed_id, step, body)

    response, completed = await other_write_while_registry_is_held(live_world, held_registry, doctor_step)
    assert completed, "another homecare write waited for the registry: the write lock was held"
    assert response.status_code == expected, response.text
    if after is not None:
        assert response.json()["status"] == after
