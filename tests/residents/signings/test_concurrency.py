"""One contract per person, under concurrency: requests that really commit race on the partial unique
index (PostgreSQL only; SQLite serialises writers). 集美 (350211): no other test signs there."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from libs.common.clock import ManualClock
from tests.residents.signings.flows import SIGNINGS, if_match, practice, resident, signed, signing_body
from tests.residents.world import World

JIMEI = "350211"


@pytest.mark.postgres_only
@pytest.mark.usefixtures("clock")
async def test_concurrent_signings_of_one_person_make_exactly_one_contract(live_world: World) -> None:
    p = await practice(live_world, region_code=JIMEI)
    person = await resident(live_world, p.inst)
    responses = await asyncio.gather(
        *(
            live_world.client.post(SIGNINGS, json=signing_body(p, person), headers=live_world.staff(p.inst))
            for _ in range(6)
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409, 409, 409, 409, 409], [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"active_signing_exists"}
    listed = await live_world.client.get(
        SIGNINGS, params={"person_id": person["id"]}, headers=live_world.staff(p.inst)
    )
    assert [s["status"] for s in listed.json()["items"]] == ["active"]


@pytest.mark.postgres_only
async def test_concurrent_renewals_of_one_contract_make_exactly_one_successor(
    live_world: World, clock: ManualClock
) -> None:
    p = await practice(live_world, region_code=JIMEI)
    person = await resident(live_world, p.inst)
    made = await signed(live_world, p, person)
    clock.set_today(date(2027, 3, 1))
    headers = {**live_world.staff(p.inst), **if_match(made)}
    responses = await asyncio.gather(
        *(live_world.client.post(f"{SIGNINGS}/{made['id']}/renew", headers=headers) for _ in range(4))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes[0] == 201, [r.text for r in responses]
    assert set(codes[1:]) <= {409, 412}, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code != 201} <= {
        "illegal_transition",
        "precondition_failed",
        "active_signing_exists",
    }
    listed = await live_world.client.get(
        SIGNINGS, params={"person_id": person["id"]}, headers=live_world.staff(p.inst)
    )
    assert sorted(s["status"] for s in listed.json()["items"]) == ["active", "renewed"]
