"""Find-or-create by ID number: one person per 居民身份证号, birth date and sex from it, the registering
institution linked, the county rules of a new registration, and the race of two registrations."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest

from libs.common.personal_data import mask_id_card
from tests.residents.world import FUZHOU, GULOU_FZ, HULI, PERSONS, SIMING, World, id_number


async def test_a_new_person_is_created_with_birth_date_and_sex_from_the_id_number(world: World) -> None:
    inst = await world.primary_care()
    number = id_number(HULI, date(1948, 3, 12))  # 17th digit: see below
    body = world.person_body(id_number=number)
    created = await world.client.post(PERSONS, json=body, headers=world.admin(inst))
    assert created.status_code == 201, created.text
    person = created.json()
    assert created.headers["location"] == f"{PERSONS}/{person['id']}"
    assert created.headers["etag"] == '"1"'
    assert person["disclosed"] is False  # a POST answer is kept for replays: never whole
    assert person["id_number"] == mask_id_card(number)
    assert number not in created.text
    assert body["phone"] not in created.text
    assert person["birth_date"] is None
    expected_sex = "male" if int(number[16]) % 2 == 1 else "female"
    assert person["sex"] == expected_sex
    assert person["sex_label"] == {"male": "男", "female": "女"}[expected_sex]
    assert person["region_code"] == HULI
    assert person["region_name"] == "湖里区"
    assert person["institution_id"] == str(inst.id)
    whole = (await world.client.get(f"{PERSONS}/{person['id']}", headers=world.admin(inst))).json()
    assert whole["disclosed"] is True
    assert whole["id_number"] == number
    assert whole["birth_date"] == "1948-03-12"
    assert whole["phone"] == body["phone"]
    assert whole["address"] == body["address"]


async def test_the_same_id_number_finds_the_same_person_and_links_the_second_institution(
    world: World,
) -> None:
    first, second = await world.primary_care(), await world.primary_care(category="village_clinic")
    body = world.person_body()
    created = await world.client.post(PERSONS, json=body, headers=world.admin(first))
    # the second institution does not serve the person yet: it cannot see it
    assert (
        await world.client.get(f"{PERSONS}/{created.json()['id']}", headers=world.admin(second))
    ).status_code == 404
    again = await world.client.post(
        PERSONS,
        json={**body, "name": f" {body['name']} ", "phone": "13900000000"},
        headers=world.admin(second),
    )
    assert again.status_code == 200, again.text
    assert again.json()["id"] == created.json()["id"]
    whole = (await world.client.get(f"{PERSONS}/{created.json()['id']}", headers=world.staff(second))).json()
    assert whole["disclosed"] is True
    assert whole["phone"] == body["phone"]  # contact data of a find is not applied (PATCH changes it)
    assert whole["institution_id"] == str(first.id)  # the registering institution stays


async def test_an_existing_id_number_under_another_name_is_a_conflict(world: World) -> None:
    inst = await world.primary_care()
    body = world.person_body(name="陈阿婆")
    await world.client.post(PERSONS, json=body, headers=world.admin(inst))
    clash = await world.client.post(PERSONS, json={**body, "name": "林阿公"}, headers=world.admin(inst))
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    assert clash.json()["code"] == "person_identity_mismatch"
    assert "陈" not in clash.json()["detail"]  # the stored name is not revealed


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [("birth_date", "1950-01-01", "birth_date_mismatch"), ("sex", "other_sex", "sex_mismatch")],
)
async def test_a_birth_date_or_sex_that_disagrees_with_the_id_number_is_refused(
    world: World, field: str, value: str, code: str
) -> None:
    inst = await world.primary_care()
    number = id_number(HULI, date(1945, 7, 15))
    if value == "other_sex":
        value = "female" if int(number[16]) % 2 == 1 else "male"
    response = await world.client.post(
        PERSONS, json=world.person_body(id_number=number, **{field: value}), headers=world.admin(inst)
    )
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert response.json()["errors"][0]["field"] == f"body.{field}"


async def test_matching_birth_date_and_sex_are_accepted(world: World) -> None:
    inst = await world.primary_care()
    number = id_number(HULI, date(1945, 7, 15))
    sex = "male" if int(number[16]) % 2 == 1 else "female"
    response = await world.client.post(
        PERSONS,
        json=world.person_body(id_number=number, birth_date="1945-07-15", sex=sex),
        headers=world.admin(inst),
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"id_number": "350206194803120027"}, "body.id_number"),  # wrong check character
        ({"id_number": "35020619480312002"}, "body.id_number"),  # 17 characters
        ({"id_number": "350206194802300021"}, "body.id_number"),  # 30 February
        ({"region_code": "350200"}, "body.region_code"),  # a city, not a county
        ({"region_code": "110105"}, "body.region_code"),  # outside Fujian
        ({"township_code": "350203001"}, "body"),  # a township of 思明, not of 湖里
        ({"township_code": "35020600"}, "body.township_code"),
        ({"phone": "12345"}, "body.phone"),
        ({"name": "陈\x00阿婆"}, "body.name"),
        ({"name": ""}, "body.name"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    world: World, overrides: dict[str, str], field: str
) -> None:
    inst = await world.primary_care()
    response = await world.client.post(
        PERSONS, json=world.person_body(**overrides), headers=world.admin(inst)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_failed"
    assert {e["field"] for e in response.json()["errors"]} == {field}


async def test_an_institution_registers_new_persons_of_its_own_county_only(world: World) -> None:
    inst = await world.primary_care(region_code=HULI)
    elsewhere = await world.client.post(PERSONS, json=world.person_body(SIMING), headers=world.admin(inst))
    assert elsewhere.status_code == 403
    assert elsewhere.json()["code"] == "region_not_institution_county"


async def test_an_institution_finds_and_serves_an_existing_person_of_another_county(world: World) -> None:
    siming = await world.primary_care(region_code=SIMING)
    huli = await world.primary_care(region_code=HULI)
    body = world.person_body(SIMING)
    created = await world.client.post(PERSONS, json=body, headers=world.admin(siming))
    found = await world.client.post(PERSONS, json=body, headers=world.admin(huli))
    assert found.status_code == 200
    assert found.json()["id"] == created.json()["id"]
    assert found.json()["region_code"] == SIMING


async def test_a_city_platform_registers_within_its_city_only(world: World) -> None:
    inside = await world.client.post(PERSONS, json=world.person_body(SIMING), headers=world.platform())
    assert inside.status_code == 201
    assert inside.json()["institution_id"] is None
    outside = await world.client.post(PERSONS, json=world.person_body(GULOU_FZ), headers=world.platform())
    assert outside.status_code == 403
    assert outside.json()["code"] == "out_of_scope"
    body = world.person_body(GULOU_FZ)
    assert (await world.client.post(PERSONS, json=body, headers=world.platform(FUZHOU))).status_code == 201
    # an existing person of another city is not handed to the platform
    existing = await world.client.post(PERSONS, json=body, headers=world.platform())
    assert existing.status_code == 403
    assert existing.json()["code"] == "out_of_scope"


async def test_homecare_and_contracts_find_or_create_anywhere_but_the_indicators_may_not(
    world: World,
) -> None:
    body = world.person_body(GULOU_FZ)
    created = await world.client.post(PERSONS, json=body, headers=world.service("homecare"))
    assert created.status_code == 201
    found = await world.client.post(PERSONS, json=body, headers=world.service("contracts"))
    assert found.status_code == 200
    assert found.json()["id"] == created.json()["id"]
    assert found.json()["disclosed"] is False
    refused = await world.client.post(PERSONS, json=world.person_body(), headers=world.service("indicators"))
    assert refused.status_code == 403


@pytest.mark.parametrize("viewer", ["province", "city", "county"])
async def test_officials_may_not_register(world: World, viewer: str) -> None:
    headers = {"province": world.province(), "city": world.city(), "county": world.county()}[viewer]
    response = await world.client.post(PERSONS, json=world.person_body(), headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


async def test_an_idempotency_key_replays_the_first_answer(world: World) -> None:
    inst = await world.primary_care()
    body = world.person_body()
    headers = {**world.admin(inst), "Idempotency-Key": "person-1"}
    first = await world.client.post(PERSONS, json=body, headers=headers)
    replay = await world.client.post(PERSONS, json=body, headers=headers)
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]


async def test_two_concurrent_registrations_of_one_id_number_make_one_person(live_world: World) -> None:
    first, second = await live_world.primary_care(), await live_world.primary_care()
    body = live_world.person_body()
    answers = await asyncio.gather(
        *(
            live_world.client.post(PERSONS, json=body, headers=live_world.admin(inst))
            for inst in (first, second, first, second)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    for inst in (first, second):  # both serve the person
        whole = await live_world.client.get(
            f"{PERSONS}/{answers[0].json()['id']}", headers=live_world.admin(inst)
        )
        assert whole.status_code == 200
        assert whole.json()["disclosed"] is True
