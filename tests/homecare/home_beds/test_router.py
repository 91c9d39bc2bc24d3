from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.homecare.home_beds.models import HomeBedStatus
from services.homecare.home_beds.service import TRANSITIONS, allowed_actions
from tests.homecare.world import HC, Crew, World, crew

BEDS = f"{HC}/home-beds"


def application(recipient_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "recipient_id": recipient_id,
        "diagnosis": "脑梗死后遗症",
        "condition_stable": True,
        "mobility": "bedridden",
        "conditions": ["stroke_or_post_surgery_rehab", "tubes"],
        "has_family_doctor_contract": True,
    }
    body.update(overrides)
    return body


async def _post(
    world: World,
    bed_id: str,
    action: str,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
    if_match: str | None = None,
) -> Any:
    if if_match is None:
        current = await world.client.get(f"{BEDS}/{bed_id}", headers=world.county())
        if_match = current.headers.get("etag", "*")
    return await world.client.post(
        f"{BEDS}/{bed_id}/{action}", json=body, headers={**headers, "If-Match": if_match}
    )


async def _bed(world: World, c: Crew, status: str = "applied", **overrides: Any) -> dict[str, Any]:
    created = await world.client.post(
        BEDS, json=application(c.recipient["id"], **overrides), headers=world.admin(c.provider)
    )
    assert created.status_code == 201, created.text
    bed = dict(created.json())
    doctor = world.staff(c.provider, c.doctor)
    if status in ("assessed", "opened", "closed"):
        assert (await _post(world, bed["id"], "assess", doctor, {})).status_code == 200
    if status in ("opened", "closed"):
        opened = await _post(
            world,
            bed["id"],
            "open",
            doctor,
            {"care_plan": "每周查床，鼻饲护理", "consent_at": datetime.now(UTC).isoformat()},
        )
        assert opened.status_code == 200, opened.text
    if status == "closed":
        closed = await _post(
            world, bed["id"], "close", doctor, {"reason": "recovered_or_stable", "summary": "病情稳定，撤床"}
        )
        assert closed.status_code == 200
    return dict((await world.client.get(f"{BEDS}/{bed['id']}", headers=world.admin(c.provider))).json())


async def test_a_home_bed_goes_from_application_to_closing(world: World) -> None:
    c = await crew(world)
    bed = await _bed(world, c, "opened")
    assert bed["status"] == "opened"
    assert bed["round_interval_days"] == 7
    assert bed["period_end_date"] == (date.fromisoformat(bed["opened_date"]) + timedelta(days=90)).isoformat()
    assert bed["care_plan"] == "每周查床，鼻饲护理"
    doctor = world.staff(c.provider, c.doctor)
    round_body = {
        "client_record_id": str(uuid.uuid4()),
        "round_date": bed["opened_date"],
        "findings": "生命体征平稳",
    }
    first = await world.client.post(f"{BEDS}/{bed['id']}/rounds", json=round_body, headers=doctor)
    assert first.status_code == 201, first.text
    replay = await world.client.post(f"{BEDS}/{bed['id']}/rounds", json=round_body, headers=doctor)
    assert replay.status_code == 200
    assert replay.json()["id"] == first.json()["id"]
    rounds = await world.client.get(f"{BEDS}/{bed['id']}/rounds", headers=world.county())
    assert len(rounds.json()) == 1
    order = await world.order(c.provider, c.recipient["id"], home_bed_id=bed["id"])
    assert order["home_bed_id"] == bed["id"]
    linked = await world.client.get(f"{HC}/orders?home_bed_id={bed['id']}", headers=world.admin(c.provider))
    assert [o["id"] for o in linked.json()["items"]] == [order["id"]]
    closed = await _post(world, bed["id"], "close", doctor, {"reason": "died", "summary": "患者在家中去世"})
    assert closed.status_code == 200
    assert closed.json()["close_reason_label"] == "死亡"


@pytest.mark.parametrize(
    ("overrides", "gap"),
    [
        ({"mobility": "ambulant"}, "须长期卧床或体弱行动不便"),
        ({"conditions": []}, "须符合至少一项建床病种或情形"),
        ({"condition_stable": False}, "病情须稳定"),
        ({"has_family_doctor_contract": False}, "须已签约家庭医生"),
    ],
)
async def test_an_applicant_who_does_not_qualify_is_assessed_not_qualified(
    world: World, overrides: dict[str, Any], gap: str
) -> None:
    c = await crew(world)
    bed = await _bed(world, c, **overrides)
    response = await _post(world, bed["id"], "assess", world.staff(c.provider, c.doctor), {})
    assert response.status_code == 200
    assert response.json()["status"] == "not_qualified"
    assert gap in response.json()["assessment"]["gaps"]


async def test_only_a_doctor_of_the_provider_assesses_and_opens(world: World) -> None:
    c = await crew(world)
    bed = await _bed(world, c)
    for headers in (world.staff(c.provider, c.nurse), world.admin(c.provider)):
        response = await _post(world, bed["id"], "assess", headers, {})
        assert response.status_code == 403
        assert response.json()["code"] == "doctor_required"


@pytest.mark.parametrize("status", ["applied", "assessed", "opened", "closed"])
async def test_every_home_bed_action_not_allowed_from_a_state_answers_409(world: World, status: str) -> None:
    c = await crew(world)
    bed = await _bed(world, c, status)
    allowed = allowed_actions(HomeBedStatus(status))
    bodies: dict[str, dict[str, Any]] = {
        "open": {"care_plan": "计划", "consent_at": datetime.now(UTC).isoformat()},
        "close": {"reason": "family_request", "summary": "家属要求"},
        "rounds": {
            "client_record_id": str(uuid.uuid4()),
            "round_date": date.today().isoformat(),
            "findings": "x",
        },
    }
    for action in TRANSITIONS:
        if action in allowed:
            continue
        response = await _post(
            world, bed["id"], action, world.staff(c.provider, c.doctor), bodies.get(action, {})
        )
        assert response.status_code == 409, (status, action, response.text)
        assert response.json()["extra"]["allowed"] == allowed


async def test_an_overdue_bed_is_flagged_and_reassessment_extends_it(world: World) -> None:
    c = await crew(world)
    created = await world.client.post(
        BEDS, json=application(c.recipient["id"]), headers=world.admin(c.provider)
    )
    bed_id = created.json()["id"]
    doctor = world.staff(c.provider, c.doctor)
    await _post(world, bed_id, "assess", doctor, {})
    old = date.today() - timedelta(days=100)
    opened = await _post(
        world,
        bed_id,
        "open",
        doctor,
        {"care_plan": "计划", "consent_at": datetime.now(UTC).isoformat(), "opened_date": old.isoformat()},
    )
    assert opened.json()["period_overdue"] is True
    assert opened.json()["round_overdue"] is True
    overdue = await world.client.get(f"{BEDS}?overdue=true", headers=world.admin(c.provider))
    assert [b["id"] for b in overdue.json()["items"]] == [bed_id]
    again = await _post(world, bed_id, "reassess", doctor, {"note": "仍需鼻饲"})
    assert again.status_code == 200, again.text
    assert again.json()["period_overdue"] is False
    assert again.json()["reassessment_count"] == 1
    assert (await world.client.get(f"{BEDS}?overdue=true", headers=world.admin(c.provider))).json()[
        "items"
    ] == []


async def test_reassessment_that_no_longer_qualifies_asks_to_close(world: World) -> None:
    c = await crew(world)
    bed = await _bed(world, c, "opened")
    response = await _post(
        world, bed["id"], "reassess", world.staff(c.provider, c.doctor), {"mobility": "ambulant"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "no_longer_qualifies"


async def test_one_open_episode_per_recipient(world: World) -> None:
    c = await crew(world)
    await _bed(world, c)
    again = await world.client.post(
        BEDS, json=application(c.recipient["id"]), headers=world.admin(c.provider)
    )
    assert again.status_code == 409


async def test_other_counties_and_providers_do_not_see_the_bed_and_only_the_provider_sees_the_care_plan(
    world: World,
) -> None:
    c = await crew(world)
    bed = await _bed(world, c, "opened")
    assert (await world.client.get(f"{BEDS}/{bed['id']}", headers=world.county("350203"))).status_code == 404
    other = await world.provider()
    assert (await world.client.get(f"{BEDS}/{bed['id']}", headers=world.admin(other))).status_code == 404
    county_view = (await world.client.get(f"{BEDS}/{bed['id']}", headers=world.county())).json()
    assert county_view["care_plan"] is None
    assert county_view["diagnosis"] is None
