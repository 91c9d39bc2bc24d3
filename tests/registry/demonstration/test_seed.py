"""The 示范 demo seed: batch 2 with 湖里区 on the national candidate list; idempotent."""

from __future__ import annotations

from fastapi import FastAPI

from demo import demo_id
from demo.demonstration import BATCH_NAME, seed_session
from tests.registry.demonstration.flow import APPLICATIONS, Flow


async def test_the_seed_writes_batch_two_once(flow: Flow, registry_app: FastAPI) -> None:
    settings = registry_app.state.settings
    assert await seed_session(flow.db, settings) is True
    await flow.db.commit()
    assert await seed_session(flow.db, settings) is False

    batch_id = demo_id("demonstration_batch", BATCH_NAME)
    listed = await flow.client.get(
        APPLICATIONS, params={"batch_id": str(batch_id), "kind": "county"}, headers=flow.province()
    )
    (huli,) = listed.json()["items"]
    assert (huli["applicant_name"], huli["state"]) == ("湖里区", "national_candidate")
    trail = await flow.client.get(f"{APPLICATIONS}/{huli['id']}/trail", headers=flow.province())
    assert [e["action"] for e in trail.json()] == [
        "create",
        "submit",
        "city-recommend",
        "province-review",
        "province-approve",
        "send-to-nation",
        "national-result",
    ]
