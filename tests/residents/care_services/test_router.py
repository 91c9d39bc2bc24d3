"""Twice-yearly 医养结合 services: owed in each half-year to persons whose latest assessment by the window's
end is 失能 (level ≥ 1, setting), recorded once (client_record_id), done / pending / overdue by county."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from libs.common.clock import today_in_china
from services.residents.care_services.windows import window_of
from tests.residents.assessments.scores import scores_totalling
from tests.residents.world import HULI, RES, SIMING, Inst, World

CARE = f"{RES}/care-services"
ASSESSMENTS = f"{RES}/assessments"
#: a whole past year: both its windows have ended, whenever the suite runs
YEAR = today_in_china().year - 1


async def assessed(world: World, inst: Inst, total: int, on: date) -> dict[str, Any]:
    person = await world.person(inst)
    response = await world.client.post(
        ASSESSMENTS,
        json={"person_id": person["id"], "assessed_date": on.isoformat(), "scores": scores_totalling(total)},
        headers=world.admin(inst),
    )
    assert response.status_code == 201, response.text
    return person


def service_body(person: dict[str, Any], on: date, **extra: Any) -> dict[str, Any]:
    return {
        "person_id": person["id"],
        "client_record_id": str(uuid.uuid4()),
        "service_date": on.isoformat(),
        "kinds": ["health_assessment", "medication_guidance"],
        **extra,
    }


async def owed(world: World, headers: dict[str, str], window: int, **params: Any) -> list[dict[str, Any]]:
    response = await world.client.get(
        f"{CARE}/owed", params={"year": YEAR, "window": window, **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_a_disabled_elder_served_in_the_first_half_only_is_overdue_in_the_second(world: World) -> None:
    inst = await world.primary_care()
    person = await assessed(world, inst, 50, date(YEAR, 2, 1))  # level 2 中度失能
    done = await world.client.post(
        CARE, json=service_body(person, date(YEAR, 4, 15)), headers=world.staff(inst)
    )
    assert done.status_code == 201, done.text
    assert (done.json()["year"], done.json()["window_number"]) == (YEAR, 1)

    first = await owed(world, world.county(HULI), 1)
    second = await owed(world, world.county(HULI), 2)
    assert [(o["person_id"], o["status"], o["level"]) for o in first] == [(person["id"], "done", 2)]
    assert [(o["person_id"], o["status"], o["status_label"]) for o in second] == [
        (person["id"], "overdue", "逾期未服务")
    ]
    assert [o["person_id"] for o in await owed(world, world.county(HULI), 2, status="overdue")] == [
        person["id"]
    ]
    assert await owed(world, world.county(HULI), 2, status="done") == []
    assert await owed(world, world.county(HULI), 2, status="pending") == []

    summary = await world.client.get(f"{CARE}/summary", params={"year": YEAR}, headers=world.county(HULI))
    rows = [
        (r["window_number"], r["owed"], r["done"], r["pending"], r["overdue"]) for r in summary.json()["rows"]
    ]
    assert rows == [(1, 1, 1, 0, 0), (2, 1, 0, 0, 1)]
    assert summary.json()["min_level"] == 1


async def test_an_elder_assessed_only_in_the_second_half_is_owed_only_there(world: World) -> None:
    inst = await world.primary_care()
    person = await assessed(world, inst, 20, date(YEAR, 8, 1))
    assert await owed(world, world.admin(inst), 1) == []
    assert [o["person_id"] for o in await owed(world, world.admin(inst), 2)] == [person["id"]]


async def test_an_elder_whose_latest_assessment_is_intact_is_not_owed(world: World) -> None:
    inst = await world.primary_care()
    person = await assessed(world, inst, 50, date(YEAR, 2, 1))
    await world.client.post(
        ASSESSMENTS,
        json={
            "person_id": person["id"],
            "assessed_date": date(YEAR, 3, 1).isoformat(),
            "scores": scores_totalling(90),
        },
        headers=world.admin(inst),
    )
    assert await owed(world, world.admin(inst), 1) == []
    refused = await world.client.post(
        CARE, json=service_body(person, date(YEAR, 4, 1)), headers=world.admin(inst)
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "care_service_not_owed"
    assert refused.json()["extra"] == {"min_level": 1, "level": 0}


async def test_a_service_before_any_assessment_is_refused(world: World) -> None:
    inst = await world.primary_care()
    person = await assessed(world, inst, 50, date(YEAR, 6, 1))
    refused = await world.client.post(
        CARE, json=service_body(person, date(YEAR, 5, 1)), headers=world.admin(inst)
    )
    assert (refused.status_code, refused.json()["code"]) == (422, "care_service_not_owed")
    assert refused.json()["extra"]["level"] is None


async def test_a_retried_request_records_the_service_once(world: World) -> None:
    inst = await world.primary_care()
    person = await assessed(world, inst, 30, date(YEAR, 1, 10))
    sent = service_body(person, date(YEAR, 2, 1), note="上门测血压")
    first = await world.client.post(CARE, json=sent, headers=world.admin(inst))
    again = await world.client.post(CARE, json=sent, headers=world.admin(inst))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    other = await assessed(world, inst, 30, date(YEAR, 1, 10))
    reused = await world.client.post(CARE, json={**sent, "person_id": other["id"]}, headers=world.admin(inst))
    assert (reused.status_code, reused.json()["code"]) == (409, "client_record_id_reused")
    listed = await world.client.get(CARE, params={"person_id": person["id"]}, headers=world.admin(inst))
    assert len(listed.json()["items"]) == 1
    assert listed.json()["items"][0]["note"] == "上门测血压"
    county = await world.client.get(f"{CARE}/{first.json()['id']}", headers=world.county(HULI))
    assert county.status_code == 200
    assert county.json()["note"] is None
    assert (
        await world.client.get(f"{CARE}/{first.json()['id']}", headers=world.county(SIMING))
    ).status_code == 404


async def test_bad_input_answers_problems(world: World) -> None:
    inst = await world.primary_care()
    person = await assessed(world, inst, 30, date(YEAR, 1, 10))
    future = service_body(person, date(today_in_china().year + 1, 1, 1))
    response = await world.client.post(CARE, json=future, headers=world.admin(inst))
    assert (response.status_code, response.json()["code"]) == (422, "date_in_future")
    no_kinds = service_body(person, date(YEAR, 2, 1), kinds=[])
    response = await world.client.post(CARE, json=no_kinds, headers=world.admin(inst))
    assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
    window = await world.client.get(
        f"{CARE}/owed", params={"year": YEAR, "window": 3}, headers=world.admin(inst)
    )
    assert (window.status_code, window.json()["code"]) == (422, "care_window_unknown")
    refused = await world.client.post(
        CARE, json=service_body(person, date(YEAR, 2, 1)), headers=world.county(HULI)
    )
    assert refused.status_code == 403


async def test_the_current_window_s_unserved_are_pending(world: World) -> None:
    inst = await world.primary_care()
    today = today_in_china()
    person = await assessed(world, inst, 40, today)
    current = window_of(today, [1, 7])
    response = await world.client.get(
        f"{CARE}/owed", params={"year": current.year, "window": current.number}, headers=world.admin(inst)
    )
    assert [(o["person_id"], o["status"]) for o in response.json()["items"]] == [(person["id"], "pending")]
    summary = await world.client.get(
        f"{CARE}/summary", params={"year": current.year}, headers=world.admin(inst)
    )
    row = next(r for r in summary.json()["rows"] if r["window_number"] == current.number)
    assert (row["owed"], row["pending"], row["overdue"]) == (1, 1, 0)
