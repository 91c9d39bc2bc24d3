"""``POST /persons/batch``: several persons whole in one call, for homecare and contracts only (they keep
only the person's id and mask per viewer themselves); each person audited as a disclosure to the calling
service, with the acting user's subject; an unknown person is a 404 naming it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, select

from libs.common.clock import today_in_china
from libs.common.models import AuditRecord
from tests.residents.assessments.scores import scores_totalling
from tests.residents.world import PERSONS, RES, World

BATCH = f"{PERSONS}/batch"
ASSESSMENTS = f"{RES}/assessments"


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


@contextmanager
def counting_statements(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_each_person_carries_the_latest_assessment_and_the_never_assessed_none(world: World) -> None:
    inst = await world.primary_care()
    assessed = await world.person(inst)
    reassessed = await world.person(inst)
    never = await world.person(inst)
    year = today_in_china().year - 1

    async def assess(person: dict[str, Any], total: int, day: date) -> dict[str, Any]:
        response = await world.client.post(
            ASSESSMENTS,
            json={
                "person_id": person["id"],
                "assessed_date": day.isoformat(),
                "scores": scores_totalling(total),
            },
            headers=world.admin(inst),
        )
        assert response.status_code == 201, response.text
        read: dict[str, Any] = response.json()
        return read

    only = await assess(assessed, 40, date(year, 3, 1))  # 30–45: 重度失能
    await assess(reassessed, 90, date(year, 1, 10))
    latest = await assess(reassessed, 60, date(year, 6, 20))  # 46–65: 中度失能, the later one counts
    await assess(reassessed, 20, date(year, 2, 5))  # recorded later, assessed earlier: superseded
    response = await world.client.post(
        BATCH,
        json={"ids": [assessed["id"], reassessed["id"], never["id"]]},
        headers=world.service("homecare"),
    )
    assert response.status_code == 200, response.text
    by_id = {p["id"]: p["latest_assessment"] for p in response.json()["items"]}
    assert by_id[assessed["id"]] == {
        "id": only["id"],
        "assessed_date": date(year, 3, 1).isoformat(),
        "level": 3,
        "level_label": "重度失能",
        "scale_version": "gbt42195-likely-1",
    }
    assert by_id[reassessed["id"]] is not None
    assert (by_id[reassessed["id"]]["id"], by_id[reassessed["id"]]["level"]) == (latest["id"], 2)
    assert by_id[reassessed["id"]]["level_label"] == "中度失能"
    assert by_id[never["id"]] is None


async def test_the_assessments_cost_one_statement_whatever_the_page_size(
    world: World, residents_app: FastAPI
) -> None:
    inst = await world.primary_care()
    persons = [await world.person(inst) for _ in range(7)]
    for person in persons[::2]:
        response = await world.client.post(
            ASSESSMENTS,
            json={
                "person_id": person["id"],
                "assessed_date": date(today_in_china().year - 1, 4, 1).isoformat(),
                "scores": scores_totalling(70),
            },
            headers=world.admin(inst),
        )
        assert response.status_code == 201, response.text
    counts = []
    for page in (persons[:1], persons[1:]):  # one person, then six
        with counting_statements(residents_app) as statements:
            response = await world.client.post(
                BATCH, json={"ids": [p["id"] for p in page]}, headers=world.service("homecare")
            )
        assert response.status_code == 200, response.text
        assert [p["latest_assessment"] is not None for p in response.json()["items"]] == [
            persons.index(p) % 2 == 0 for p in page
        ]
        assert len([s for s in statements if "FROM assessment" in s]) == 1, statements
        counts.append(len(statements))
    assert counts[0] == counts[1], counts  # no statement per person
