"""``POST /persons/batch``: several persons whole in one call, for homecare and contracts only (they keep
only the person's id and mask per viewer themselves); each person audited as a disclosure to the calling
service, with the acting user's subject; an unknown person is a 404 naming it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.models import AuditRecord
from tests.residents.world import PERSONS, World

BATCH = f"{PERSONS}/batch"


@pytest.mark.parametrize("caller", ["homecare", "contracts"])
async def test_homecare_and_contracts_read_several_persons_whole_in_one_call(
    world: World, caller: str
) -> None:
    inst = await world.primary_care()
    bodies = [world.person_body() for _ in range(3)]
    ids = []
    for body in bodies:
        created = await world.client.post(PERSONS, json=body, headers=world.admin(inst))
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    asked = [ids[2], ids[0], ids[2], ids[1]]
    response = await world.client.post(
        BATCH, json={"ids": asked, "on_behalf_of": "user:nurse"}, headers=world.service(caller)
    )
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [p["id"] for p in items] == [ids[2], ids[0], ids[1]]  # in the order asked, each once
    by_id = {p["id"]: p for p in items}
    for person_id, body in zip(ids, bodies, strict=True):
        whole = by_id[person_id]
        assert whole["disclosed"] is True
        assert (whole["name"], whole["id_number"], whole["phone"], whole["address"]) == (
            body["name"],
            body["id_number"],
            body["phone"],
            body["address"],
        )
        assert whole["birth_date"] is not None


@pytest.mark.parametrize("caller", ["province", "county", "institution", "platform", "indicators"])
async def test_other_callers_are_refused(world: World, caller: str) -> None:
    inst = await world.primary_care()
    person = await world.person(inst)
    headers = {
        "province": world.province(),
        "county": world.county(),
        "institution": world.admin(inst),
        "platform": world.platform(),
        "indicators": world.service("indicators"),
    }[caller]
    response = await world.client.post(BATCH, json={"ids": [person["id"]]}, headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert person["name"] not in response.text


async def test_a_person_the_caller_does_not_know_is_404_and_nothing_is_shown(world: World) -> None:
    person = await world.person(await world.primary_care())
    unknown = str(uuid.uuid4())
    response = await world.client.post(
        BATCH, json={"ids": [person["id"], unknown]}, headers=world.service("homecare")
    )
    assert response.status_code == 404
    problem: dict[str, Any] = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "person_not_found"
    assert problem["extra"]["person_ids"] == [unknown]
    assert "items" not in problem


async def test_a_batch_over_the_limit_or_empty_is_422(world: World) -> None:
    too_many = [str(uuid.uuid4()) for _ in range(201)]
    response = await world.client.post(BATCH, json={"ids": too_many}, headers=world.service("homecare"))
    assert response.status_code == 422
    assert response.json()["code"] == "batch_too_large"
    empty = await world.client.post(BATCH, json={"ids": []}, headers=world.service("homecare"))
    assert empty.status_code == 422
    assert empty.json()["code"] == "validation_failed"


async def test_each_person_read_is_audited_as_a_disclosure_to_the_service_for_the_acting_user(
    live_world: World, residents_app: FastAPI
) -> None:
    first = await live_world.person(await live_world.primary_care())
    second = await live_world.person(await live_world.primary_care())
    response = await live_world.client.post(
        BATCH,
        json={"ids": [first["id"], second["id"]], "on_behalf_of": "user:lin", "purpose": "GET recipients"},
        headers=live_world.service("homecare"),
    )
    assert response.status_code == 200, response.text
    async with residents_app.state.database.session() as session:
        records = list(
            await session.scalars(
                select(AuditRecord).where(
                    AuditRecord.entity_id.in_([first["id"], second["id"]]),
                    AuditRecord.action == "personal_data.disclose",
                )
            )
        )
    assert sorted(r.entity_id for r in records) == sorted([first["id"], second["id"]])
    for record in records:
        assert (record.actor_sub, record.actor_role) == ("service:homecare", "service")
        assert record.changes is not None
        assert record.changes["on_behalf_of"] == "user:lin"
        assert record.changes["purpose"] == "GET recipients"


async def test_persons_are_found_by_id_number_and_an_unknown_number_is_simply_absent(world: World) -> None:
    body = world.person_body()
    created = await world.client.post(PERSONS, json=body, headers=world.admin(await world.primary_care()))
    assert created.status_code == 201, created.text
    unknown = world.person_body()["id_number"]
    response = await world.client.post(
        BATCH, json={"id_numbers": [body["id_number"], unknown]}, headers=world.service("homecare")
    )
    assert response.status_code == 200, response.text
    assert [(p["id"], p["id_number"]) for p in response.json()["items"]] == [
        (created.json()["id"], body["id_number"])
    ]
