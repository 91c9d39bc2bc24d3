"""A city platform's bulk sync (issue 19): persons, 65+ check-ups, assessments and contracts, each record
through the single write's rule, keyed by source_system + external_id; refused records answer their
rule's code and write nothing; a replay changes nothing.

Expected outcomes from the rules: a person is found or registered by ID number (a new one ``created``,
a known one ``unchanged`` — find-or-create never overwrites); a platform registers persons of its own city
only (``out_of_scope``); a check-up is recorded as the named primary-care institution of the platform's
city would record it (``institution_not_in_scope`` otherwise, ``person_not_found`` for an ID number the
city has not registered), the year's record opened (``created``) then merged into (``updated``), standard
when every required part is done.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from libs.common.clock import today_in_china
from services.residents.checkups.rules import RULES
from tests.residents.assessments.scores import scores_totalling
from tests.residents.signings.flows import practice
from tests.residents.world import FUZHOU, GULOU_FZ, HULI, RES, World, id_number

PERSONS_BULK = f"{RES}/persons/bulk"
CHECKUPS_BULK = f"{RES}/checkups/bulk"
ASSESSMENTS_BULK = f"{RES}/assessments/bulk"
SIGNINGS_BULK = f"{RES}/signings/bulk"
PARTS = [part.code for part in RULES["nbphs3-likely-1"].parts]
YEAR = today_in_china().year - 1


def person(external_id: str, number: str, region: str = HULI, **extra: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "name": "陈阿婆",
        "id_number": number,
        "region_code": region,
        "address": "福建省厦门市湖里区江头街道台湾街 88 号",
        **extra,
    }


def parts(codes: list[str], day: date = date(YEAR, 4, 8)) -> list[dict[str, str]]:
    return [{"code": code, "done_date": day.isoformat()} for code in codes]


def outcomes(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(r["outcome"], r["code"]) for r in body["results"]]


async def test_persons_are_found_or_registered_by_id_number_within_the_city(world: World) -> None:
    born_1950 = id_number(HULI, birth=date(1950, 5, 1))
    fuzhou = id_number(GULOU_FZ, birth=date(1950, 5, 1))
    batch = {
        "source_system": "xm-ijiankang",
        "records": [
            person("JM-1", born_1950),
            person("JM-2", "350206195005019999"),  # bad check character
            person("JM-3", fuzhou, GULOU_FZ),  # 福州: not the 厦门 platform's city
            person("JM-1", born_1950),  # same key twice in a batch
            {"name": "缺编号"},
        ],
    }
    response = await world.client.post(PERSONS_BULK, json=batch, headers=world.platform())
    assert response.status_code == 200, response.text
    body = response.json()
    assert outcomes(body) == [
        ("created", None),
        ("rejected", "validation_failed"),
        ("rejected", "out_of_scope"),
        ("rejected", "duplicate_in_batch"),
        ("rejected", "invalid_external_id"),
    ]
    assert body["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 4}
    assert body["results"][1]["errors"][0]["field"] == "records.1.id_number"
    person_id = body["results"][0]["id"]
    # the same person again (a replay, or another record of the platform's): found, nothing written
    again = await world.client.post(
        PERSONS_BULK,
        json={"source_system": "xm-ijiankang", "records": [person("JM-1", born_1950)]},
        headers=world.platform(),
    )
    assert outcomes(again.json()) == [("unchanged", None)]
    assert again.json()["results"][0]["id"] == person_id
    # the person is the index's: an institution registering the same ID number finds them
    inst = await world.primary_care()
    found = await world.client.post(
        f"{RES}/persons", json=world.person_body(HULI, id_number=born_1950), headers=world.admin(inst)
    )
    assert (found.status_code, found.json()["id"]) == (200, person_id)


async def test_check_ups_are_recorded_as_the_city_s_primary_care_institution_would(world: World) -> None:
    center = await world.primary_care()
    hospital = await world.institution()  # a hospital of 湖里: not primary care
    elsewhere = await world.primary_care(region_code=GULOU_FZ)
    number = id_number(HULI, birth=date(1950, 5, 1))
    young = id_number(HULI, birth=date(YEAR - 40, 1, 1))
    registered = await world.client.post(
        PERSONS_BULK,
        json={"source_system": "xm-ijiankang", "records": [person("P-1", number), person("P-2", young)]},
        headers=world.platform(),
    )
    assert outcomes(registered.json()) == [("created", None), ("created", None)]

    def record(external_id: str, institution: Any, who: str, codes: list[str]) -> dict[str, Any]:
        return {
            "external_id": external_id,
            "institution_id": str(institution.id),
            "id_number": who,
            "parts": parts(codes),
        }

    first = await world.client.post(
        CHECKUPS_BULK,
        json={
            "source_system": "xm-ijiankang",
            "records": [
                record("TJ-1", center, number, PARTS[:3]),
                record("TJ-2", hospital, number, PARTS[:3]),
                record("TJ-3", elsewhere, number, PARTS[:3]),
                record("TJ-4", center, id_number(HULI, birth=date(1950, 5, 2)), PARTS[:3]),
                record("TJ-5", center, young, PARTS[:3]),  # under 65: the single write's age rule
            ],
        },
        headers=world.platform(),
    )
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    assert outcomes(first.json())[:4] == [
        ("created", None),
        ("rejected", "institution_not_in_scope"),
        ("rejected", "institution_not_in_scope"),
        ("rejected", "person_not_found"),
    ]
    assert results[4]["outcome"] == "rejected"
    assert results[4]["code"] not in (None, "institution_not_in_scope", "person_not_found")
    checkup_id = results[0]["id"]
    opened = await world.client.get(f"{RES}/checkups/{checkup_id}", headers=world.admin(center))
    assert opened.status_code == 200, opened.text
    assert opened.json()["standard"] is False
    assert opened.json()["institution_id"] == str(center.id)

    rest = await world.client.post(
        CHECKUPS_BULK,
        json={"source_system": "xm-ijiankang", "records": [record("TJ-6", center, number, PARTS[3:])]},
        headers=world.platform(),
    )
    assert outcomes(rest.json()) == [("updated", None)]
    assert rest.json()["results"][0]["id"] == checkup_id  # one record per person and year
    done = await world.client.get(f"{RES}/checkups/{checkup_id}", headers=world.admin(center))
    assert done.json()["standard"] is True


async def test_only_a_city_platform_syncs_and_a_batch_has_a_limit(world: World) -> None:
    inst = await world.primary_care()
    body = {"source_system": "xm-ijiankang", "records": [person("X-1", id_number(HULI))]}
    for headers in (world.admin(inst), world.county(HULI), world.province()):
        response = await world.client.post(PERSONS_BULK, json=body, headers=headers)
        assert response.status_code == 403, response.text
    too_many = {
        "source_system": "xm-ijiankang",
        "records": [person(f"X-{n}", id_number(HULI)) for n in range(1001)],
    }
    response = await world.client.post(PERSONS_BULK, json=too_many, headers=world.platform())
    assert (response.status_code, response.json()["code"]) == (422, "batch_too_large")
    wrong_city = await world.client.post(
        PERSONS_BULK,
        json={"source_system": "fz-platform", "records": [person("F-1", id_number(GULOU_FZ), GULOU_FZ)]},
        headers=world.platform(FUZHOU),
    )
    assert outcomes(wrong_city.json()) == [("created", None)]


async def _registered(world: World, *numbers: str) -> None:
    records = [person(f"R-{n}", number) for n, number in enumerate(numbers)]
    response = await world.client.post(
        PERSONS_BULK, json={"source_system": "xm-ijiankang", "records": records}, headers=world.platform()
    )
    assert all(r["outcome"] == "created" for r in response.json()["results"]), response.text


async def test_assessments_are_scored_by_the_service_and_a_replay_writes_nothing(world: World) -> None:
    center = await world.primary_care()
    number = id_number(HULI, birth=date(1948, 3, 3))
    await _registered(world, number)
    day = date(YEAR, 6, 1).isoformat()
    good = {
        "external_id": "PG-1",
        "institution_id": str(center.id),
        "id_number": number,
        "assessed_date": day,
        "scores": scores_totalling(40),
    }
    missing_items = {**good, "external_id": "PG-2", "scores": {"consciousness": 5}}
    computed_sent = {**good, "external_id": "PG-3", "total_score": 90}
    batch = {"source_system": "xm-ijiankang", "records": [good, missing_items, computed_sent]}
    first = await world.client.post(ASSESSMENTS_BULK, json=batch, headers=world.platform())
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "rejected", "rejected"]
    assert results[1]["code"] == "assessment_item_missing"
    assert results[2]["code"] == "validation_failed"
    made = await world.client.get(f"{RES}/assessments/{results[0]['id']}", headers=world.admin(center))
    assert (made.json()["total_score"], made.json()["level"]) == (40, 3)  # 30–45: 能力重度受损
    again = await world.client.post(
        ASSESSMENTS_BULK, json={"source_system": "xm-ijiankang", "records": [good]}, headers=world.platform()
    )
    assert outcomes(again.json()) == [("unchanged", None)]
    assert again.json()["results"][0]["id"] == results[0]["id"]


async def test_contracts_follow_the_signing_rules_and_a_replay_writes_nothing(world: World) -> None:
    p = await practice(world)
    other = await practice(world)
    fuzhou = await practice(world, region_code=GULOU_FZ)
    number = id_number(HULI, birth=date(1949, 9, 9))
    await _registered(world, number)

    def contract(external_id: str, with_: Any, **extra: Any) -> dict[str, Any]:
        return {
            "external_id": external_id,
            "team_id": with_.team["id"],
            "id_number": number,
            "package_ids": [with_.basic["id"]],
            **extra,
        }

    batch = {
        "source_system": "xm-ijiankang",
        "records": [
            contract("QY-1", p),
            contract("QY-2", other),  # a second contract in force for the same person
            contract("QY-3", fuzhou),  # a team of 福州: not the platform's city
        ],
    }
    first = await world.client.post(SIGNINGS_BULK, json=batch, headers=world.platform())
    assert first.status_code == 200, first.text
    assert outcomes(first.json()) == [
        ("created", None),
        ("rejected", "active_signing_exists"),
        ("rejected", "team_not_in_scope"),
    ]
    signing = await world.client.get(
        f"{RES}/signings/{first.json()['results'][0]['id']}", headers=world.admin(p.inst)
    )
    assert signing.json()["team_id"] == p.team["id"]
    assert signing.json()["status"] == "active"
    again = await world.client.post(
        SIGNINGS_BULK,
        json={
            "source_system": "xm-ijiankang",
            "records": [contract("QY-1", p, start_date=signing.json()["start_date"])],
        },
        headers=world.platform(),
    )
    assert outcomes(again.json()) == [("unchanged", None)]


async def test_a_platform_key_names_one_person_for_good(world: World) -> None:
    # a source system's external id registered a person; the same key with another ID number is refused
    # record by record (the rest of the batch is written), in a new batch and after a replay alike
    first = id_number(HULI, birth=date(1950, 6, 2))
    other = id_number(HULI, birth=date(1951, 6, 2))
    third = id_number(HULI, birth=date(1952, 6, 2))
    created = await world.client.post(
        PERSONS_BULK,
        json={"source_system": "xm-keys", "records": [person("K-1", first)]},
        headers=world.platform(),
    )
    assert outcomes(created.json()) == [("created", None)]
    reused = await world.client.post(
        PERSONS_BULK,
        json={"source_system": "xm-keys", "records": [person("K-1", other), person("K-2", third)]},
        headers=world.platform(),
    )
    assert reused.status_code == 200, reused.text
    assert outcomes(reused.json()) == [("rejected", "external_id_in_use"), ("created", None)]
    # the refused ID number was not registered: a lookup by it finds no one
    again = await world.client.post(
        PERSONS_BULK,
        json={"source_system": "xm-keys", "records": [person("K-1", first)]},
        headers=world.platform(),
    )
    assert outcomes(again.json()) == [("unchanged", None)]
    assert again.json()["results"][0]["id"] == created.json()["results"][0]["id"]
    # another source system may use the same key for another person
    elsewhere = await world.client.post(
        PERSONS_BULK,
        json={"source_system": "xm-other", "records": [person("K-1", other)]},
        headers=world.platform(),
    )
    assert outcomes(elsewhere.json()) == [("created", None)]
