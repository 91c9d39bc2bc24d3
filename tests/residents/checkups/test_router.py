"""65+ health check-ups through the API: parts merged into one record per person and year, standard when
every required part of the rule (data/checkup_parts.csv) is done, counted once; the age rule; scope."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from libs.common.clock import today_in_china
from services.residents.checkups.rules import RULES
from tests.residents.world import HULI, RES, SIMING, Inst, World, id_number

CHECKUPS = f"{RES}/checkups"
RULE = RULES["nbphs3-likely-1"]
ALL_PARTS = [part.code for part in RULE.parts]
#: a whole past year: every date of it is before today, whenever the suite runs
YEAR = today_in_china().year - 1


def day(month: int, dom: int, year: int = YEAR) -> str:
    return date(year, month, dom).isoformat()


def parts(codes: list[str], done: str | None = None) -> list[dict[str, Any]]:
    return [{"code": code, "done_date": done or day(4, 8)} for code in codes]


async def setup(world: World) -> tuple[Inst, dict[str, Any]]:
    inst = await world.primary_care()
    person = await world.person(inst)
    return inst, person


async def summary(world: World, headers: dict[str, str], year: int = YEAR) -> dict[str, Any]:
    response = await world.client.get(f"{CHECKUPS}/summary", params={"year": year}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_parts_recorded_on_several_days_merge_into_one_record_that_becomes_standard(
    world: World,
) -> None:
    inst, person = await setup(world)
    first = await world.client.post(
        CHECKUPS,
        json={"person_id": person["id"], "parts": parts(ALL_PARTS[:3], day(3, 2))},
        headers=world.admin(inst),
    )
    assert first.status_code == 201, first.text
    opened = first.json()
    assert (opened["year"], opened["standard"], opened["standard_date"]) == (YEAR, False, None)
    assert opened["parts_missing"] == ALL_PARTS[3:]
    assert opened["region_code"] == HULI

    rest = await world.client.post(
        CHECKUPS,
        json={"person_id": person["id"], "parts": parts(ALL_PARTS[3:], day(3, 9))},
        headers=world.admin(inst),
    )
    assert rest.status_code == 200, rest.text
    merged = rest.json()
    assert merged["id"] == opened["id"]
    assert (merged["standard"], merged["standard_date"], merged["parts_missing"]) == (True, day(3, 9), [])
    assert (merged["first_date"], merged["last_date"]) == (day(3, 2), day(3, 9))
    assert merged["parts_done"] == ALL_PARTS
    assert [p["code"] for p in merged["parts"]] == ALL_PARTS

    county = await summary(world, world.county(HULI))
    assert (county["persons_checked"], county["persons_standard"]) == (1, 1)


async def test_a_second_record_of_the_same_year_counts_once(world: World) -> None:
    inst, person = await setup(world)
    for done in (day(5, 1), day(9, 1)):
        response = await world.client.post(
            CHECKUPS,
            json={"person_id": person["id"], "parts": parts(ALL_PARTS, done)},
            headers=world.admin(inst),
        )
        assert response.status_code in (200, 201), response.text
    listed = await world.client.get(CHECKUPS, params={"person_id": person["id"]}, headers=world.admin(inst))
    assert len(listed.json()["items"]) == 1
    assert (await summary(world, world.admin(inst)))["rows"] == [
        {"region_code": HULI, "region_name": "湖里区", "persons_checked": 1, "persons_standard": 1}
    ]


async def test_a_part_missing_leaves_the_record_not_standard(world: World) -> None:
    inst, person = await setup(world)
    response = await world.client.post(
        CHECKUPS,
        json={
            "person_id": person["id"],
            "parts": parts([c for c in ALL_PARTS if c != "abdominal_ultrasound"]),
        },
        headers=world.admin(inst),
    )
    assert response.status_code == 201
    assert (response.json()["standard"], response.json()["parts_missing"]) == (
        False,
        ["abdominal_ultrasound"],
    )
    county = await summary(world, world.county(HULI))
    assert (county["persons_checked"], county["persons_standard"]) == (1, 0)


async def test_another_year_is_another_record(world: World) -> None:
    inst, person = await setup(world)
    for year in (YEAR - 1, YEAR):
        response = await world.client.post(
            CHECKUPS,
            json={"person_id": person["id"], "parts": parts(ALL_PARTS, day(6, 1, year))},
            headers=world.admin(inst),
        )
        assert response.status_code == 201, response.text
    assert (await summary(world, world.admin(inst), YEAR - 1))["persons_checked"] == 1
    assert (await summary(world, world.admin(inst), YEAR))["persons_checked"] == 1


async def test_age_is_taken_on_the_check_up_date_65_and_over(world: World) -> None:
    inst = await world.primary_care()
    # turns 65 on 1 June of YEAR
    person = await world.person(inst, id_number=id_number(HULI, birth=date(YEAR - 65, 6, 1)))
    young = await world.client.post(
        CHECKUPS,
        json={"person_id": person["id"], "parts": parts(ALL_PARTS[:1], day(5, 31))},
        headers=world.admin(inst),
    )
    assert young.status_code == 422
    assert young.json()["code"] == "person_below_checkup_age"
    assert young.json()["extra"] == {"min_age": 65, "age": 64}
    birthday = await world.client.post(
        CHECKUPS,
        json={"person_id": person["id"], "parts": parts(ALL_PARTS[:1], day(6, 1))},
        headers=world.admin(inst),
    )
    assert birthday.status_code == 201, birthday.text


async def test_bad_parts_are_refused_with_stable_codes(world: World) -> None:
    inst, person = await setup(world)
    cases: list[tuple[list[dict[str, Any]], str]] = [
        ([{"code": "mri", "done_date": day(4, 1)}], "checkup_part_unknown"),
        (
            [
                {"code": "ecg", "done_date": day(12, 31)},
                {"code": "blood_routine", "done_date": day(1, 1, YEAR + 1)},
            ],
            "checkup_parts_span_years",
        ),
        ([{"code": "ecg", "done_date": date(today_in_china().year + 1, 1, 1).isoformat()}], "date_in_future"),
        (
            [{"code": "ecg", "done_date": day(4, 1)}, {"code": "ecg", "done_date": day(4, 2)}],
            "validation_failed",
        ),
        ([], "validation_failed"),
    ]
    for body_parts, code in cases:
        response = await world.client.post(
            CHECKUPS, json={"person_id": person["id"], "parts": body_parts}, headers=world.admin(inst)
        )
        assert response.status_code == 422, (code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code
    unknown = await world.client.post(
        CHECKUPS, json={"person_id": person["id"], "parts": parts(["ecg", "mri"])}, headers=world.admin(inst)
    )
    assert [e["field"] for e in unknown.json()["errors"]] == ["body.parts.1.code"]


async def test_a_person_the_institution_does_not_serve_is_not_found(world: World) -> None:
    inst, person = await setup(world)
    other = await world.primary_care()
    response = await world.client.post(
        CHECKUPS, json={"person_id": person["id"], "parts": parts(ALL_PARTS)}, headers=world.admin(other)
    )
    assert response.status_code == 404


async def test_the_year_s_record_is_completed_by_the_institution_that_holds_it(world: World) -> None:
    inst = await world.primary_care()
    number = id_number(HULI)
    person = await world.person(inst, id_number=number)
    await world.client.post(
        CHECKUPS, json={"person_id": person["id"], "parts": parts(ALL_PARTS[:2])}, headers=world.admin(inst)
    )
    other = await world.primary_care()
    # the other institution registers the same person too (find-or-create links it to the person)
    linked = await world.client.post(
        f"{RES}/persons", json=world.person_body(HULI, id_number=number), headers=world.admin(other)
    )
    assert linked.status_code == 200, linked.text
    response = await world.client.post(
        CHECKUPS, json={"person_id": person["id"], "parts": parts(ALL_PARTS[2:])}, headers=world.admin(other)
    )
    assert response.status_code == 409
    assert response.json()["code"] == "checkup_held_by_other_institution"


async def test_officials_read_in_their_region_without_findings_and_cannot_record(world: World) -> None:
    inst, person = await setup(world)
    body = {
        "person_id": person["id"],
        "parts": [
            {"code": "physical_exam", "done_date": day(4, 8), "abnormal": True, "findings": "血压 152/90"}
        ],
    }
    created = (await world.client.post(CHECKUPS, json=body, headers=world.admin(inst))).json()
    own = await world.client.get(f"{CHECKUPS}/{created['id']}", headers=world.admin(inst))
    assert own.json()["parts"][0]["findings"] == "血压 152/90"
    county = await world.client.get(f"{CHECKUPS}/{created['id']}", headers=world.county(HULI))
    assert county.status_code == 200
    assert county.json()["parts"][0]["findings"] is None
    assert county.json()["parts"][0]["abnormal"] is True
    elsewhere = await world.client.get(f"{CHECKUPS}/{created['id']}", headers=world.county(SIMING))
    assert elsewhere.status_code == 404
    assert (await summary(world, world.county(SIMING)))["rows"] == []
    refused = await world.client.post(CHECKUPS, json=body, headers=world.county(HULI))
    assert refused.status_code == 403
    for region, expected in [(HULI, [created["id"]]), (SIMING, [])]:
        listed = await world.client.get(CHECKUPS, params={"region_code": region}, headers=world.city())
        assert [c["id"] for c in listed.json()["items"]] == expected
    bad = await world.client.get(CHECKUPS, params={"region_code": "湖里"}, headers=world.city())
    assert (bad.status_code, bad.json()["code"]) == (422, "validation_failed")


async def test_the_rule_is_served_with_its_version(world: World) -> None:
    inst = await world.primary_care()
    response = await world.client.get(f"{CHECKUPS}/rules", headers=world.admin(inst))
    assert response.status_code == 200
    (rule,) = response.json()
    assert (rule["version"], rule["in_force"]) == ("nbphs3-likely-1", True)
    assert [p["name"] for p in rule["parts"]] == [
        "生活方式和健康状况评估",
        "体格检查",
        "血常规",
        "尿常规",
        "肝功能",
        "肾功能",
        "空腹血糖",
        "血脂",
        "心电图",
        "腹部B超",
        "健康指导",
    ]


async def test_two_first_records_of_a_year_at_once_make_one_record(live_world: World) -> None:
    """Two requests open the same person's year together: the database holds one record per person and
    year, the loser merges into the winner's (PostgreSQL: it waits at the unique constraint)."""
    world = live_world
    inst = await world.primary_care()
    person = await world.person(inst)
    first, second = await asyncio.gather(
        world.client.post(
            CHECKUPS,
            json={"person_id": person["id"], "parts": parts(ALL_PARTS[:5])},
            headers=world.admin(inst),
        ),
        world.client.post(
            CHECKUPS,
            json={"person_id": person["id"], "parts": parts(ALL_PARTS[5:])},
            headers=world.admin(inst),
        ),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 201], (first.text, second.text)
    assert first.json()["id"] == second.json()["id"]
    listed = await world.client.get(CHECKUPS, params={"person_id": person["id"]}, headers=world.admin(inst))
    (record,) = listed.json()["items"]
    assert (record["parts_done"], record["standard"]) == (ALL_PARTS, True)


async def test_a_retried_request_with_its_idempotency_key_answers_the_first_response(world: World) -> None:
    inst, person = await setup(world)
    sent = {"person_id": person["id"], "parts": parts(ALL_PARTS[:1])}
    headers = {**world.staff(inst), "Idempotency-Key": f"checkup-{person['id']}"}
    first = await world.client.post(CHECKUPS, json=sent, headers=headers)
    again = await world.client.post(CHECKUPS, json=sent, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = await world.client.post(CHECKUPS, json={**sent, "parts": parts(ALL_PARTS[1:2])}, headers=headers)
    assert other.status_code == 422


async def test_malformed_bodies_answer_422_never_500(world: World) -> None:
    inst, person = await setup(world)
    for sent in [
        {"person_id": "not-a-uuid", "parts": parts(ALL_PARTS[:1])},
        {"person_id": person["id"], "parts": "ecg"},
        {"person_id": person["id"], "parts": [{"code": "ecg", "done_date": "2024-02-30"}]},
        {"person_id": person["id"], "parts": [{"code": "ecg", "done_date": "0001-01-01"}]},
        {"person_id": person["id"], "parts": [{"code": "x" * 41, "done_date": day(4, 1)}]},
        [],
    ]:
        response = await world.client.post(CHECKUPS, json=sent, headers=world.admin(inst))
        assert response.status_code == 422, (sent, response.text)
        assert response.json()["code"] == "validation_failed"
    for query in [{"year": "abc"}, {"year": "1999"}]:
        response = await world.client.get(f"{CHECKUPS}/summary", params=query, headers=world.county(HULI))
        assert (response.status_code, response.json()["code"]) == (422, "validation_failed")
    forged = await world.client.get(CHECKUPS, params={"cursor": "forged"}, headers=world.county(HULI))
    assert (forged.status_code, forged.json()["code"]) == (422, "invalid_cursor")
