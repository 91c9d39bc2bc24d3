"""The city bulk sync of recipients links each record to its person of the residents' person index
(issue 19): the batch's persons found or registered in ONE ``POST /residents/persons/bulk`` call, the
recipient stores ``person_id`` only (no identity copy) and a keyed fingerprint of the identity sent, which
tells "same record, changed?" without decrypting one; the index refusing a record (another name
under the number, an identity it refuses) rejects that record only; the index unreachable is a 503
``residents_unavailable`` with nothing written."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from libs.common.auth import Role
from libs.common.testing import live_client
from services.homecare.recipients.models import IDENTITY_COLUMNS, Recipient
from tests.homecare.recipients.test_person_index import _counting_index, _down_index
from tests.homecare.sync.test_bulk import _bulk, _recipient
from tests.homecare.world import HC, HULI, World, id_number, phone

PERSONS = "/api/v1/residents/persons"


async def _stored(app: FastAPI, ids: list[str]) -> dict[str, Recipient]:
    async with app.state.database.session() as session:
        rows = await session.scalars(
            select(Recipient)
            .where(Recipient.id.in_([uuid.UUID(i) for i in ids]))
            .execution_options(populate_existing=True)
        )
        return {str(r.id): r for r in rows}


async def _person(residents_app: FastAPI, world: World, number: str) -> dict[str, Any]:
    """The person the index holds of ``number``, as homecare reads it (its batch call)."""
    async with live_client(residents_app, base_url="http://gateway") as residents:
        found = await residents.post(
            f"{PERSONS}/batch",
            json={"id_numbers": [number], "purpose": "test"},
            headers=world.tokens.headers(Role.service, "350000", sub="service:homecare"),
        )
    assert found.status_code == 200, found.text
    (person,) = found.json()["items"]
    return dict(person)


async def test_a_batch_links_its_records_to_their_persons_in_one_call(
    world: World, homecare_app: FastAPI, residents_app: FastAPI
) -> None:
    provider = await world.provider()
    records = [_recipient(f"L{i}", institution_id=str(provider.id)) for i in range(3)]
    records.append({**records[0], "external_id": "L3", "institution_id": None})  # the same person again
    held = homecare_app.state.person_index
    index, transport = _counting_index(residents_app, world.tokens)
    homecare_app.state.person_index = index
    try:
        first = await _bulk(world, "recipients", records)
        replay = await _bulk(world, "recipients", records)
    finally:
        homecare_app.state.person_index = held
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    assert [r["outcome"] for r in results] == ["created"] * 4, results
    # one call for the batch; the replay, all unchanged, asks nothing
    assert transport.calls == {f"{PERSONS}/bulk": 1}
    assert replay.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 4, "rejected": 0}

    stored = await _stored(homecare_app, [r["id"] for r in results])
    persons = [await _person(residents_app, world, r["id_number"]) for r in records[:3]]
    for result, person, record in zip(results, [*persons, persons[0]], records, strict=True):
        row = stored[result["id"]]
        assert row.person_id == uuid.UUID(person["id"])
        assert (person["name"], person["phone"]) == (record["name"], record["phone"])
        for column in IDENTITY_COLUMNS:
            assert getattr(row, column) is None, column  # no copy of the identity
        assert row.identity_fingerprint is not None
        assert len(row.identity_fingerprint) == 64
        assert record["id_number"] not in row.identity_fingerprint
    assert stored[results[3]["id"]].identity_fingerprint == stored[results[0]["id"]].identity_fingerprint

    # the serving institution reads the person's identity from the index
    detail = await world.client.get(f"{HC}/recipients/{results[0]['id']}", headers=world.admin(provider))
    assert detail.status_code == 200, detail.text
    assert (detail.json()["name"], detail.json()["phone"]) == (records[0]["name"], records[0]["phone"])


async def test_a_changed_identity_or_contact_is_an_update_and_an_unchanged_one_is_not(
    world: World, homecare_app: FastAPI
) -> None:
    record = _recipient("F1", emergency_contact={"name": "林小明", "relation": "儿子", "phone": phone()})
    created = (await _bulk(world, "recipients", [record])).json()["results"][0]
    assert created["outcome"] == "created", created
    before = (await _stored(homecare_app, [created["id"]]))[created["id"]].identity_fingerprint
    # whitespace and full-width digits are the same record
    same = {**record, "address": f"  {record['address']} ", "name": " 林阿公"}
    assert (await _bulk(world, "recipients", [same])).json()["results"][0]["outcome"] == "unchanged"
    changes: list[dict[str, Any]] = [
        {"phone": phone()},
        {"emergency_contact": {"name": "林小红", "relation": "女儿", "phone": phone()}},
        {"disability_level": 3},
    ]
    for change in changes:
        record = {**record, **change}
        answer = (await _bulk(world, "recipients", [record])).json()["results"][0]
        assert answer["outcome"] == "updated", (change, answer)
    after = (await _stored(homecare_app, [created["id"]]))[created["id"]]
    assert after.identity_fingerprint != before
    assert after.version == 4


async def test_the_index_refusing_a_record_rejects_that_record_only(
    world: World, homecare_app: FastAPI, residents_app: FastAPI
) -> None:
    taken = id_number()
    async with live_client(residents_app, base_url="http://gateway") as residents:
        registered = await residents.post(
            PERSONS,
            json={"name": "王阿婆", "id_number": taken, "region_code": HULI},
            headers=world.tokens.headers(Role.service, "350000", sub="service:homecare"),
        )
    assert registered.status_code == 201, registered.text
    twice = id_number()
    records = [
        _recipient("M1", id_number=taken),  # the index holds the number under another name
        _recipient("M2"),
        _recipient("M3", id_number=twice),
        _recipient("M4", id_number=twice, name="林阿婆", institution_id=None),  # the batch's own second name
    ]
    answer = await _bulk(world, "recipients", records)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [(r["outcome"], r["code"]) for r in results] == [
        ("rejected", "person_name_mismatch"),
        ("created", None),
        ("created", None),
        ("rejected", "person_name_mismatch"),
    ]
    assert "王阿婆" not in answer.text
    assert answer.json()["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 2}


async def test_the_index_unreachable_is_a_503_and_nothing_is_written(
    world: World, homecare_app: FastAPI
) -> None:
    async def count() -> int:
        async with homecare_app.state.database.session() as session:
            return int(await session.scalar(select(func.count()).select_from(Recipient)) or 0)

    before = await count()
    held = homecare_app.state.person_index
    try:
        for broken in (_down_index(), _down_index(status=500), None):
            homecare_app.state.person_index = broken
            response = await _bulk(world, "recipients", [_recipient("D1"), _recipient("D2")])
            assert response.status_code == 503, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == "residents_unavailable"
    finally:
        homecare_app.state.person_index = held
    assert await count() == before


async def test_an_unlinked_copy_is_linked_and_cleared_when_sent_again(
    world: World, homecare_app: FastAPI, residents_app: FastAPI
) -> None:
    record = _recipient("U1")
    first = (await _bulk(world, "recipients", [record])).json()["results"][0]
    # made a copy not linked, as the bulk sync wrote them before (homecare_0010 kept those)
    async with homecare_app.state.database.session() as session:
        row = await session.get(Recipient, uuid.UUID(first["id"]))
        assert row is not None
        cipher = homecare_app.state.cipher
        row.person_id = None
        row.name_enc = cipher.encrypt(record["name"])
        row.id_number_enc = cipher.encrypt(record["id_number"])
        row.id_number_hash = cipher.lookup_hash(record["id_number"], "id_card")
        await session.commit()
    again = (await _bulk(world, "recipients", [record])).json()["results"][0]
    assert again["outcome"] == "updated", again
    row = (await _stored(homecare_app, [first["id"]]))[first["id"]]
    person = await _person(residents_app, world, record["id_number"])
    assert row.person_id == uuid.UUID(person["id"])
    assert (row.name_enc, row.id_number_enc, row.id_number_hash) == (None, None, None)
