"""The referrals' import links each record to its person of the residents' person index (issue 19), as
homecare's city sync does (tests/homecare/sync/test_bulk_persons.py): the batch's residents found or
registered in ONE ``POST /residents/persons/bulk`` call (in the agreement's county), the referral stores
``person_id`` only (no copy of the resident) and the resident's keyed fingerprint, which tells "same
record, changed?" without decrypting one; the index refusing a record (another name under the number,
also within the batch) rejects that record only; a record the rules refuse registers no one; the index
unreachable is a 503 ``residents_unavailable`` with nothing written; an unlinked copy sent again is
linked and cleared."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from libs.common.auth import Role
from libs.common.models import AuditRecord
from libs.common.testing import Tokens, live_client
from services.contracts.referrals.models import Referral
from tests.contracts.agreements.test_bulk import platform
from tests.contracts.flows import admin_of
from tests.contracts.referrals.test_bulk import REFERRALS_BULK, opened, referral
from tests.contracts.referrals.test_residents import (
    COPIES,
    _counting_index,
    _down_index,
    _id_number,
    _register,
    _stored,
)
from tests.contracts.referrals.test_router import REFERRALS
from tests.contracts.registry_data import RegistryData
from tests.contracts.visits.test_bulk import _agreements, _medical

PERSONS = "/api/v1/residents/persons"
BULK = f"{PERSONS}/bulk"


async def _push(client: httpx.AsyncClient, tokens: Tokens, records: list[dict[str, Any]]) -> httpx.Response:
    return await client.post(
        REFERRALS_BULK, json={"source_system": "xm-ijk", "records": records}, headers=platform(tokens)
    )


async def _person(residents_app: FastAPI, tokens: Tokens, number: str) -> dict[str, Any] | None:
    """The person the index holds of ``number`` (None: none), as contracts reads it (its batch call)."""
    async with live_client(residents_app, base_url="http://gateway") as residents:
        found = await residents.post(
            f"{PERSONS}/batch",
            json={"id_numbers": [number], "purpose": "test"},
            headers=tokens.headers(Role.service, "350000", sub="service:contracts"),
        )
    assert found.status_code == 200, found.text
    items = found.json()["items"]
    return dict(items[0]) if items else None


async def _count(contracts_app: FastAPI) -> int:
    async with contracts_app.state.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Referral)) or 0)


async def test_a_batch_links_its_referrals_to_their_persons_in_one_call(
    client: httpx.AsyncClient,
    registry: RegistryData,
    tokens: Tokens,
    contracts_app: FastAPI,
    residents_app: FastAPI,
) -> None:
    first_agreement, _ = await _agreements(client, registry, tokens)
    known = _id_number()
    person_id = await _register(residents_app, tokens, "张三丰", known)
    new = [_id_number(), _id_number()]
    records = [
        referral("B-1", resident={"name": "张三丰", "id_number": known, "phone": "13700001111"}),
        referral("B-2", resident={"name": "李四", "id_number": new[0]}),
        opened("B-3", resident={"name": "王五", "id_number": new[1], "phone": "13700003333"}),
        # the same resident again (an earlier referral of hers): one person
        referral(
            "B-4",
            resident={"name": "李四", "id_number": new[0]},
            requested_at="2025-03-01T08:00:00+08:00",
            accepted_at="2025-03-01T08:30:00+08:00",
            admitted_at="2025-03-01T10:00:00+08:00",
            returned_at="2025-03-09T10:00:00+08:00",
        ),
    ]
    held = contracts_app.state.person_index
    index, transport = _counting_index(residents_app, tokens)
    contracts_app.state.person_index = index
    try:
        first = await _push(client, tokens, records)
        replay = await _push(client, tokens, records)
    finally:
        contracts_app.state.person_index = held
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    assert [r["outcome"] for r in results] == ["created"] * 4, results
    # one call for the batch; the replay, all unchanged, asks nothing
    assert transport.calls == {BULK: 1}
    assert replay.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 4, "rejected": 0}

    persons = [await _person(residents_app, tokens, n) for n in (known, *new)]
    assert all(p is not None for p in persons)
    expected = [persons[0], persons[1], persons[2], persons[1]]
    assert str(expected[0] and expected[0]["id"]) == person_id  # the person the index held already
    for result, person, record in zip(results, expected, records, strict=True):
        assert person is not None
        row = await _stored(contracts_app, result["id"])
        assert row.person_id == uuid.UUID(person["id"])
        assert person["name"] == record["resident"]["name"]
        assert all(getattr(row, column) is None for column in COPIES)  # no copy of the resident
        assert row.resident_fingerprint is not None
        assert len(row.resident_fingerprint) == 64
        assert record["resident"]["id_number"] not in row.resident_fingerprint
        # a new person is registered in the county of the referral's agreement
        assert person["region_code"] == row.region_code == first_agreement["region_code"]
    assert persons[2] is not None
    assert persons[2]["phone"] == "13700003333"

    # a party reads the resident from the index, whole
    medical = _medical(first_agreement)
    detail = await client.get(f"{REFERRALS}/{results[2]['id']}", headers=admin_of(tokens, medical))
    assert detail.status_code == 200, detail.text
    assert (detail.json()["resident"]["name"], detail.json()["resident"]["id_number"]) == ("王五", new[1])


async def test_a_changed_resident_is_an_update_told_by_fingerprint_and_audited_masked(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, contracts_app: FastAPI
) -> None:
    await _agreements(client, registry, tokens)
    record = referral("C-1", resident={"name": "赵六", "id_number": _id_number(), "phone": "13700004444"})
    created = (await _push(client, tokens, [record])).json()["results"][0]
    assert created["outcome"] == "created", created
    before = (await _stored(contracts_app, created["id"])).resident_fingerprint
    assert (await _push(client, tokens, [record])).json()["results"][0]["outcome"] == "unchanged"
    record["resident"]["phone"] = "13700005555"
    changed = await _push(client, tokens, [record])
    (result,) = changed.json()["results"]
    assert result["outcome"] == "updated", changed.text
    after = await _stored(contracts_app, created["id"])
    assert after.resident_fingerprint != before
    assert after.version == 2
    assert all(getattr(after, column) is None for column in COPIES)
    async with contracts_app.state.database.session() as session:
        audited = (
            await session.scalars(
                select(AuditRecord.changes).where(
                    AuditRecord.entity_id == result["id"], AuditRecord.action.like("%update%")
                )
            )
        ).all()
    assert [
        {k: v for k, v in c.items() if k not in ("via", "source_system", "external_id")} for c in audited
    ] == [{"resident": "***"}], audited
    assert "13700005555" not in changed.text


async def test_the_index_refusing_a_record_rejects_that_record_only(
    client: httpx.AsyncClient,
    registry: RegistryData,
    tokens: Tokens,
    contracts_app: FastAPI,
    residents_app: FastAPI,
) -> None:
    await _agreements(client, registry, tokens)
    taken, twice, refused = _id_number(), _id_number(), _id_number()
    await _register(residents_app, tokens, "王阿婆", taken)
    records = [
        referral("M-1", resident={"name": "张三丰", "id_number": taken}),  # another name in the index
        referral("M-2", resident={"name": "林阿公", "id_number": _id_number()}),
        referral("M-3", resident={"name": "陈阿婆", "id_number": twice}),
        # the batch's own second name for the number
        referral(
            "M-4",
            resident={"name": "林阿婆", "id_number": twice},
            requested_at="2025-03-01T08:00:00+08:00",
            accepted_at="2025-03-01T08:30:00+08:00",
            admitted_at="2025-03-01T10:00:00+08:00",
            returned_at="2025-03-09T10:00:00+08:00",
        ),
        # refused by the rules (no such agreement): nobody registered for it
        referral("M-5", agreement="XY-NONE", resident={"name": "周七", "id_number": refused}),
    ]
    answer = await _push(client, tokens, records)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [(r["outcome"], r["code"]) for r in results] == [
        ("rejected", "person_name_mismatch"),
        ("created", None),
        ("created", None),
        ("rejected", "person_name_mismatch"),
        ("rejected", "agreement_not_found"),
    ]
    assert "王阿婆" not in answer.text
    assert answer.json()["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 3}
    assert await _person(residents_app, tokens, refused) is None


async def test_the_index_unreachable_is_a_503_and_nothing_is_written(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, contracts_app: FastAPI
) -> None:
    await _agreements(client, registry, tokens)
    before = await _count(contracts_app)
    held = contracts_app.state.person_index
    try:
        for broken in (_down_index(), _down_index(status=500), None):
            contracts_app.state.person_index = broken
            response = await _push(
                client,
                tokens,
                [
                    referral("D-1", resident={"name": "王五", "id_number": _id_number()}),
                    opened("D-2", resident={"name": "赵六", "id_number": _id_number()}),
                ],
            )
            assert response.status_code == 503, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == "residents_unavailable"
    finally:
        contracts_app.state.person_index = held
    assert await _count(contracts_app) == before


async def test_an_unlinked_copy_is_linked_and_cleared_when_sent_again(
    client: httpx.AsyncClient,
    registry: RegistryData,
    tokens: Tokens,
    contracts_app: FastAPI,
    residents_app: FastAPI,
) -> None:
    await _agreements(client, registry, tokens)
    resident = {"name": "孙八", "id_number": _id_number(), "phone": "13700006666"}
    record = referral("U-1", resident=resident)
    first = (await _push(client, tokens, [record])).json()["results"][0]
    # made a copy not linked, as the import wrote them before (contracts_0008 kept those)
    async with contracts_app.state.database.session() as session:
        row = await session.get(Referral, uuid.UUID(first["id"]))
        assert row is not None
        cipher = contracts_app.state.cipher
        row.person_id = None
        row.resident_name_enc = cipher.encrypt(resident["name"])
        row.resident_id_number_enc = cipher.encrypt(resident["id_number"])
        row.resident_id_hash = cipher.lookup_hash(resident["id_number"], "id_card")
        row.resident_phone_enc = cipher.encrypt(resident["phone"])
        await session.commit()
    again = (await _push(client, tokens, [record])).json()["results"][0]
    assert again["outcome"] == "updated", again
    row = await _stored(contracts_app, first["id"])
    person = await _person(residents_app, tokens, resident["id_number"])
    assert person is not None
    assert row.person_id == uuid.UUID(person["id"])
    assert all(getattr(row, column) is None for column in COPIES)
