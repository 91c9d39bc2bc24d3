"""``POST /persons/{id}/identity-check`` (issue 18): homecare asks, at a nurse's check-in, whether the last
characters of the ID number the person shows match the number held here — yes or no, never the number;
attempts counted per person per day."""

from __future__ import annotations

import uuid

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.models import AuditRecord
from services.residents.persons.models import IdentityCheck
from tests.residents.world import PERSONS, World


def _url(person_id: str) -> str:
    return f"{PERSONS}/{person_id}/identity-check"


async def _person(world: World) -> tuple[str, str]:
    body = world.person_body()
    created = await world.client.post(PERSONS, json=body, headers=world.admin(await world.primary_care()))
    assert created.status_code == 201, created.text
    return str(created.json()["id"]), str(body["id_number"])


async def test_the_right_suffix_matches_and_another_does_not(world: World) -> None:
    person_id, number = await _person(world)
    homecare = world.service("homecare")
    right = await world.client.post(
        _url(person_id), json={"id_suffix": number[-4:].lower()}, headers=homecare
    )
    assert right.status_code == 200, right.text
    assert right.json() == {"matches": True, "attempts_left": 9}
    wrong_suffix = "0000" if number[-4:] != "0000" else "1111"
    wrong = await world.client.post(_url(person_id), json={"id_suffix": wrong_suffix}, headers=homecare)
    assert wrong.json() == {"matches": False, "attempts_left": 8}
    assert number not in right.text + wrong.text


@pytest.mark.parametrize("suffix", ["123", "12345", "123456"])
async def test_another_length_is_422(world: World, suffix: str) -> None:
    person_id, _ = await _person(world)
    response = await world.client.post(
        _url(person_id), json={"id_suffix": suffix}, headers=world.service("homecare")
    )
    assert response.status_code == 422
    assert response.json()["code"] == "identity_suffix_invalid"
    assert response.json()["extra"] == {"length": 4}


@pytest.mark.parametrize("suffix", ["35020619450101123X", "1234567", "12a4", ""])
async def test_the_whole_number_or_a_malformed_suffix_is_refused_by_the_schema(
    world: World, suffix: str
) -> None:
    person_id, _ = await _person(world)
    response = await world.client.post(
        _url(person_id), json={"id_suffix": suffix}, headers=world.service("homecare")
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


async def test_attempts_beyond_the_days_bound_are_429_and_not_compared(world: World) -> None:
    person_id, number = await _person(world)
    homecare = world.service("homecare")
    for _ in range(10):
        response = await world.client.post(_url(person_id), json={"id_suffix": "0000"}, headers=homecare)
        assert response.status_code == 200
    over = await world.client.post(_url(person_id), json={"id_suffix": number[-4:]}, headers=homecare)
    assert over.status_code == 429
    assert over.json()["code"] == "identity_check_limit"
    assert "matches" not in over.json()
    # another person is counted on its own
    other_id, other_number = await _person(world)
    fine = await world.client.post(_url(other_id), json={"id_suffix": other_number[-4:]}, headers=homecare)
    assert fine.json()["matches"] is True


@pytest.mark.parametrize("caller", ["contracts", "indicators", "province", "institution", "platform"])
async def test_only_homecare_may_ask(world: World, caller: str) -> None:
    inst = await world.primary_care()
    person_id, number = await _person(world)
    headers = {
        "contracts": world.service("contracts"),
        "indicators": world.service("indicators"),
        "province": world.province(),
        "institution": world.admin(inst),
        "platform": world.platform(),
    }[caller]
    response = await world.client.post(_url(person_id), json={"id_suffix": number[-4:]}, headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


async def test_an_unknown_person_is_404(world: World) -> None:
    response = await world.client.post(
        _url(str(uuid.uuid4())), json={"id_suffix": "1234"}, headers=world.service("homecare")
    )
    assert response.status_code == 404
    assert response.json()["code"] == "person_not_found"


async def test_each_check_is_kept_and_audited_with_its_answer_never_the_value(
    live_world: World, residents_app: FastAPI
) -> None:
    person_id, number = await _person(live_world)
    response = await live_world.client.post(
        _url(person_id), json={"id_suffix": number[-4:]}, headers=live_world.service("homecare")
    )
    assert response.status_code == 200, response.text
    async with residents_app.state.database.session() as session:
        checks = list(
            await session.scalars(
                select(IdentityCheck).where(IdentityCheck.person_id == uuid.UUID(person_id))
            )
        )
        records = list(
            await session.scalars(
                select(AuditRecord).where(
                    AuditRecord.entity_id == person_id, AuditRecord.action == "person.identity_check"
                )
            )
        )
    assert [(c.caller_sub, c.matches) for c in checks] == [("service:homecare", True)]
    assert [r.changes for r in records] == [{"matches": True}]
    assert number[-4:] not in str(records[0].changes)
