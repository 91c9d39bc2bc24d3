"""Ability assessments through the API: scores validated against the item table, the total and the level
computed by the service (each cut-off at and around its boundary), client totals refused, the latest
served to others (homecare), scope."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from libs.common.clock import today_in_china
from tests.residents.assessments.scores import scores_totalling
from tests.residents.world import HULI, PERSONS, RES, SIMING, Inst, World

ASSESSMENTS = f"{RES}/assessments"
YEAR = today_in_china().year - 1


def body(
    person: dict[str, Any], total: int = 64, assessed: date | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "person_id": person["id"],
        "assessed_date": (assessed or date(YEAR, 5, 12)).isoformat(),
        "scores": scores_totalling(total),
        **extra,
    }


async def setup(world: World) -> tuple[Inst, dict[str, Any]]:
    inst = await world.primary_care()
    return inst, await world.person(inst)


@pytest.mark.parametrize(
    ("total", "level", "label"),
    [
        (90, 0, "能力完好"),
        (89, 1, "轻度失能"),
        (66, 1, "轻度失能"),
        (65, 2, "中度失能"),
        (46, 2, "中度失能"),
        (45, 3, "重度失能"),
        (30, 3, "重度失能"),
        (29, 4, "完全失能"),
        (0, 4, "完全失能"),
    ],
)
async def test_the_service_computes_total_and_level_at_each_cut_off(
    world: World, total: int, level: int, label: str
) -> None:
    inst, person = await setup(world)
    response = await world.client.post(ASSESSMENTS, json=body(person, total), headers=world.admin(inst))
    assert response.status_code == 201, response.text
    read = response.json()
    assert (read["total_score"], read["level"], read["level_label"]) == (total, level, label)
    assert read["scale_version"] == "gbt42195-likely-1"
    assert sum(d["score"] for d in read["domain_scores"]) == total


async def test_dementia_raises_the_level_by_one(world: World) -> None:
    inst, person = await setup(world)
    response = await world.client.post(
        ASSESSMENTS, json=body(person, 66, dementia=True), headers=world.admin(inst)
    )
    read = response.json()
    assert (read["total_level"], read["level"], read["adjustments"]) == (1, 2, ["dementia"])


@pytest.mark.parametrize("field", ["total_score", "level"])
async def test_a_client_sent_total_or_level_is_refused(world: World, field: str) -> None:
    inst, person = await setup(world)
    sent = {**body(person, 64), field: 90}
    response = await world.client.post(ASSESSMENTS, json=sent, headers=world.admin(inst))
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"
    assert [e["code"] for e in response.json()["errors"]] == ["computed_by_service"]


async def test_scores_are_validated_against_the_item_table(world: World) -> None:
    inst, person = await setup(world)
    missing = body(person)
    del missing["scores"]["eating"]
    unknown = body(person)
    unknown["scores"]["flying"] = 1
    out_of_range = body(person)
    out_of_range["scores"]["vision"] = 3
    negative = body(person)
    negative["scores"]["eating"] = -1
    for sent, code, field in [
        (missing, "assessment_item_missing", "body.scores.eating"),
        (unknown, "assessment_item_unknown", "body.scores.flying"),
        (out_of_range, "assessment_score_out_of_range", "body.scores.vision"),
        (negative, "assessment_score_out_of_range", "body.scores.eating"),
    ]:
        response = await world.client.post(ASSESSMENTS, json=sent, headers=world.admin(inst))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code
        assert [e["field"] for e in response.json()["errors"]] == [field]
    future = body(person, assessed=date(today_in_china().year + 1, 1, 1))
    response = await world.client.post(ASSESSMENTS, json=future, headers=world.admin(inst))
    assert (response.status_code, response.json()["code"]) == (422, "date_in_future")
    not_a_number = body(person)
    not_a_number["scores"]["eating"] = "four"
    response = await world.client.post(ASSESSMENTS, json=not_a_number, headers=world.admin(inst))
    assert (response.status_code, response.json()["code"]) == (422, "validation_failed")


async def test_the_latest_assessment_is_served_to_homecare(world: World) -> None:
    inst, person = await setup(world)
    latest_url = f"{PERSONS}/{person['id']}/assessments/latest"
    none_yet = await world.client.get(latest_url, headers=world.service("homecare"))
    assert (none_yet.status_code, none_yet.json()["code"]) == (404, "assessment_not_found")
    for assessed, total in [(date(YEAR, 9, 1), 40), (date(YEAR, 3, 1), 80)]:
        created = await world.client.post(
            ASSESSMENTS, json=body(person, total, assessed), headers=world.admin(inst)
        )
        assert created.status_code == 201
    latest = await world.client.get(latest_url, headers=world.service("homecare"))
    assert latest.status_code == 200, latest.text
    assert (latest.json()["assessed_date"], latest.json()["level"]) == (date(YEAR, 9, 1).isoformat(), 3)
    assert (await world.client.get(latest_url, headers=world.county(HULI))).json()["level"] == 3
    assert (await world.client.get(latest_url, headers=world.county(SIMING))).status_code == 404
    assert (await world.client.get(latest_url, headers=world.service("contracts"))).status_code == 403


async def test_officials_read_and_count_in_their_region_and_cannot_assess(world: World) -> None:
    inst, person = await setup(world)
    await world.client.post(ASSESSMENTS, json=body(person, 50), headers=world.admin(inst))
    await world.client.post(
        ASSESSMENTS, json=body(person, 95 - 5, date(YEAR, 6, 1)), headers=world.admin(inst)
    )
    other = await world.person(inst)
    await world.client.post(ASSESSMENTS, json=body(other, 20), headers=world.admin(inst))
    summary = await world.client.get(
        f"{ASSESSMENTS}/summary", params={"year": YEAR}, headers=world.county(HULI)
    )
    assert summary.status_code == 200
    # the first person's last assessment of the year is 能力完好 (90): only the other counts as 失能
    assert summary.json()["rows"] == [
        {
            "region_code": HULI,
            "region_name": "湖里区",
            "assessments": 3,
            "persons_assessed": 2,
            "persons_disabled": 1,
        }
    ]
    listed = await world.client.get(ASSESSMENTS, params={"level": 4}, headers=world.county(HULI))
    assert [a["person_id"] for a in listed.json()["items"]] == [other["id"]]
    assert "scores" not in listed.json()["items"][0] or listed.json()["items"][0]["scores"] is None
    assert (await world.client.get(ASSESSMENTS, headers=world.county(SIMING))).json()["items"] == []
    refused = await world.client.post(ASSESSMENTS, json=body(person), headers=world.county(HULI))
    assert refused.status_code == 403


async def test_the_scale_is_served_with_its_items_and_bands(world: World) -> None:
    inst = await world.primary_care()
    response = await world.client.get(f"{ASSESSMENTS}/scale", headers=world.staff(inst))
    (scale,) = response.json()
    assert (scale["version"], scale["in_force"], scale["total_max"], len(scale["items"])) == (
        "gbt42195-likely-1",
        True,
        90,
        26,
    )
    assert [(b["level"], b["min_total"], b["max_total"]) for b in scale["levels"]] == [
        (0, 90, 90),
        (1, 66, 89),
        (2, 46, 65),
        (3, 30, 45),
        (4, 0, 29),
    ]


async def test_the_note_is_shown_to_the_assessing_institution_only(world: World) -> None:
    inst, person = await setup(world)
    created = await world.client.post(
        ASSESSMENTS, json=body(person, 64, note="家属在场"), headers=world.admin(inst)
    )
    assert created.json()["note"] == "家属在场"
    county = await world.client.get(f"{ASSESSMENTS}/{created.json()['id']}", headers=world.county(HULI))
    assert (county.status_code, county.json()["note"]) == (200, None)
    assert county.json()["scores"] == scores_totalling(64)
