"""The feed entries of check-ups, assessments and care services: typed payloads the indicators count
(persons checked, standard records, assessments by level, services by window), no personal data."""

from __future__ import annotations

import uuid
from datetime import date

from libs.common.clock import today_in_china
from services.residents.checkups.rules import RULES
from services.residents.feed import AssessmentFeedPayload, CareServiceFeedPayload, CheckupFeedPayload
from tests.feed_readers import read_feed
from tests.residents.assessments.scores import scores_totalling
from tests.residents.world import HULI, RES, SIMING, World

CHANGES = f"{RES}/changes"
YEAR = today_in_china().year - 1
PERSONAL = {"name", "id_number", "phone", "address", "birth_date", "age_years", "scores", "note", "findings"}


async def test_entries_carry_the_declared_payloads_and_no_personal_data(world: World) -> None:
    inst = await world.primary_care()
    person = await world.person(inst)
    parts = [
        {"code": p.code, "done_date": date(YEAR, 4, 8).isoformat()} for p in RULES["nbphs3-likely-1"].parts
    ]
    checkup = await world.client.post(
        f"{RES}/checkups", json={"person_id": person["id"], "parts": parts}, headers=world.admin(inst)
    )
    assessment = await world.client.post(
        f"{RES}/assessments",
        json={
            "person_id": person["id"],
            "assessed_date": date(YEAR, 5, 1).isoformat(),
            "scores": scores_totalling(40),
            "note": "家属在场",
        },
        headers=world.admin(inst),
    )
    care = await world.client.post(
        f"{RES}/care-services",
        json={
            "person_id": person["id"],
            "client_record_id": str(uuid.uuid4()),
            "service_date": date(YEAR, 5, 2).isoformat(),
            "kinds": ["rehabilitation"],
            "note": "指导家属",
        },
        headers=world.admin(inst),
    )
    assert (checkup.status_code, assessment.status_code, care.status_code) == (201, 201, 201)

    status, entries = await read_feed(world.client, CHANGES, world.county(HULI))
    assert status == 200
    by_type = {
        e["entity_type"]: e
        for e in entries
        if e["entity_id"] in {checkup.json()["id"], assessment.json()["id"], care.json()["id"]}
    }
    assert set(by_type) == {"checkup", "assessment", "care_service"}
    for entity_type, payload in [
        ("checkup", CheckupFeedPayload),
        ("assessment", AssessmentFeedPayload),
        ("care_service", CareServiceFeedPayload),
    ]:
        data = by_type[entity_type]["data"]
        assert set(data) == set(payload.model_fields)
        assert not PERSONAL & set(data)
    assert (by_type["checkup"]["data"]["year"], by_type["checkup"]["data"]["standard"]) == (YEAR, True)
    assert (by_type["assessment"]["data"]["total_score"], by_type["assessment"]["data"]["level"]) == (40, 3)
    assert by_type["care_service"]["data"]["window_number"] == 1

    _, elsewhere = await read_feed(world.client, CHANGES, world.county(SIMING))
    assert not {e["entity_id"] for e in elsewhere} & {checkup.json()["id"], assessment.json()["id"]}
