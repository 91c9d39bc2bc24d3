from __future__ import annotations

import io
import json
import logging
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.logs import JsonFormatter
from libs.common.models import AuditRecord
from libs.common.personal_data import mask_id_card
from services.homecare.recipients.models import IDENTITY_COLUMNS, Recipient
from tests.homecare.world import HC, SIMING, World, crew, id_number, phone, to_status


def _whole_values(body: dict[str, Any]) -> list[str]:
    return [
        body["name"],
        body["id_number"],
        body["phone"],
        body["address"],
        body["emergency_contact"]["phone"],
    ]


async def test_the_serving_institution_sees_whole_values_and_each_disclosure_is_audited(
    world: World, homecare_app: FastAPI
) -> None:
    c = await crew(world)
    body = world.recipient_body()
    created = await world.client.post(f"{HC}/recipients", json=body, headers=world.admin(c.provider))
    assert created.status_code == 201
    assert created.json()["disclosed"] is False  # a POST answer is stored for replays: never whole
    assert body["id_number"] not in created.text
    detail = await world.client.get(
        f"{HC}/recipients/{created.json()['id']}", headers=world.staff(c.provider, c.nurse)
    )
    assert detail.json()["phone"] == body["phone"]
    assert detail.json()["emergency_contact"]["phone"] == body["emergency_contact"]["phone"]
    async with homecare_app.state.database.session() as session:
        actions = list(
            await session.scalars(
                select(AuditRecord.action)
                .where(AuditRecord.entity_id == created.json()["id"])
                .order_by(AuditRecord.occurred_at)
            )
        )
        create_record = await session.scalar(
            select(AuditRecord).where(
                AuditRecord.entity_id == created.json()["id"], AuditRecord.action == "recipient.create"
            )
        )
    assert "recipient.create" in actions  # the read's own disclosure record commits apart: see the live test
    assert create_record is not None
    assert create_record.changes is not None
    assert create_record.changes["id_number"] == "***"
    assert body["id_number"] not in json.dumps(create_record.changes, ensure_ascii=False)


async def test_a_read_disclosure_is_audited_in_its_own_committed_unit_of_work(
    live_world: World, homecare_app: FastAPI
) -> None:
    c = await crew(live_world)
    created = await live_world.recipient(c.provider)
    for _ in range(2):
        detail = await live_world.client.get(
            f"{HC}/recipients/{created['id']}", headers=live_world.admin(c.provider)
        )
        assert detail.json()["disclosed"] is True
    masked = await live_world.client.get(f"{HC}/recipients/{created['id']}", headers=live_world.county())
    assert masked.json()["disclosed"] is False
    async with homecare_app.state.database.session() as session:
        actions = list(
            await session.scalars(
                select(AuditRecord.actor_role).where(
                    AuditRecord.entity_id == created["id"], AuditRecord.action == "personal_data.disclose"
                )
            )
        )
    assert actions == ["institution_admin"] * 2  # two reads; none for the county


@pytest.mark.parametrize("viewer", ["province", "city", "county", "platform"])
async def test_administrations_and_city_platforms_never_see_whole_values(world: World, viewer: str) -> None:
    c = await crew(world)
    body = world.recipient_body()
    created = (await world.client.post(f"{HC}/recipients", json=body, headers=world.admin(c.provider))).json()
    headers = {
        "province": world.province(),
        "city": world.city(),
        "county": world.county(),
        "platform": world.platform(),
    }[viewer]
    order = await world.order(c.provider, created["id"])
    responses = [
        await world.client.get(f"{HC}/recipients/{created['id']}", headers=headers),
        await world.client.get(f"{HC}/recipients", headers=headers),
        await world.client.post(
            f"{HC}/recipients/lookup", json={"id_number": body["id_number"]}, headers=headers
        ),
        await world.client.get(f"{HC}/orders/{order['id']}", headers=headers),
        await world.client.get(f"{HC}/orders", headers=headers),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        for secret in (
            body["name"],
            body["id_number"],
            body["phone"],
            body["address"],
            body["emergency_contact"]["phone"],
        ):
            assert secret not in response.text
    masked = responses[0].json()
    assert masked["disclosed"] is False
    assert masked["id_number"] == body["id_number"][:6] + "********" + body["id_number"][-4:]
    assert masked["phone"] == body["phone"][:3] + "****" + body["phone"][-4:]
    assert masked["latitude"] is None
    assert masked["birth_date"] is None
    assert responses[2].json()[0]["id"] == created["id"]


async def test_the_identity_is_held_by_the_person_index_and_the_contact_encrypted_here(
    world: World, homecare_app: FastAPI
) -> None:
    """Issue 19: a recipient names its person; name, ID number and its blind index, phone, address, birth
    date and sex are the residents' — none of them is stored here. The emergency contact (another
    person's data only homecare uses) is kept here, encrypted."""
    c = await crew(world)
    body = world.recipient_body()
    created = (await world.client.post(f"{HC}/recipients", json=body, headers=world.admin(c.provider))).json()
    async with homecare_app.state.database.session() as session:
        row = await session.get(Recipient, uuid.UUID(created["id"]))
    assert row is not None
    assert row.person_id is not None
    assert created["person_id"] == str(row.person_id)
    for column in IDENTITY_COLUMNS:
        assert getattr(row, column) is None, column
    assert row.emergency_contact_phone_enc is not None
    assert row.emergency_contact_name_enc is not None
    for secret in (*_whole_values(body), body["emergency_contact"]["name"]):
        assert secret.encode() not in row.emergency_contact_phone_enc
        assert secret.encode() not in row.emergency_contact_name_enc


async def test_lookup_takes_the_id_number_in_the_body_only(world: World) -> None:
    c = await crew(world)
    body = world.recipient_body()
    await world.client.post(f"{HC}/recipients", json=body, headers=world.admin(c.provider))
    lower = body["id_number"][:-1] + body["id_number"][-1].lower()
    found = await world.client.post(
        f"{HC}/recipients/lookup", json={"id_number": lower}, headers=world.admin(c.provider)
    )
    assert len(found.json()) == 1
    assert found.json()[0]["disclosed"] is False
    in_query = await world.client.post(
        f"{HC}/recipients/lookup?id_number={body['id_number']}", headers=world.admin(c.provider)
    )
    assert in_query.status_code == 422
    other = await world.provider()
    assert (
        await world.client.post(
            f"{HC}/recipients/lookup", json={"id_number": body["id_number"]}, headers=world.admin(other)
        )
    ).json() == []


async def test_an_invalid_id_number_or_mismatching_birth_date_is_refused(world: World) -> None:
    c = await crew(world)
    bad = await world.client.post(
        f"{HC}/recipients",
        json=world.recipient_body(id_number="350206194001010000"),
        headers=world.admin(c.provider),
    )
    assert bad.status_code == 422
    mismatch = await world.client.post(
        f"{HC}/recipients",
        json=world.recipient_body(birth_date="1950-01-01"),
        headers=world.admin(c.provider),
    )
    assert mismatch.status_code == 422
    assert mismatch.json()["code"] == "birth_date_mismatch"


async def test_the_same_person_twice_at_one_provider_conflicts(world: World) -> None:
    c = await crew(world)
    number = id_number()
    await world.recipient(c.provider, id_number=number)
    again = await world.client.post(
        f"{HC}/recipients", json=world.recipient_body(id_number=number), headers=world.admin(c.provider)
    )
    assert again.status_code == 409
    assert again.json()["code"] == "recipient_exists"


async def test_updates_need_if_match_and_identity_fields_go_to_the_residents(world: World) -> None:
    c = await crew(world)
    created = await world.recipient(c.provider)
    url = f"{HC}/recipients/{created['id']}"
    missing = await world.client.patch(url, json={"disability_level": 3}, headers=world.admin(c.provider))
    assert missing.status_code == 428
    # phone and address are the person's: changed in the residents, refused here naming the person
    for held in ({"phone": phone()}, {"address": "福建省厦门市湖里区金山街道 8 号"}):
        refused = await world.client.patch(
            url, json={**held, "disability_level": 3}, headers={**world.admin(c.provider), "If-Match": '"1"'}
        )
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["code"] == "identity_held_by_residents"
        assert problem["extra"]["person_id"] == created["person_id"]
        assert [e["field"] for e in problem["errors"]] == [f"body.{next(iter(held))}"]
    contact = {"name": "陈小红", "relation": "女儿", "phone": phone()}
    updated = await world.client.patch(
        url,
        json={"disability_level": 3, "emergency_contact": contact},
        headers={**world.admin(c.provider), "If-Match": '"1"'},
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["disability_label"] == "重度失能"
    assert updated.json()["emergency_contact"]["phone"] == contact["phone"]  # the serving institution
    assert updated.json()["name"] == "陈阿婆"  # the person's, read from the residents
    stale = await world.client.patch(
        url, json={"dementia": True}, headers={**world.admin(c.provider), "If-Match": '"1"'}
    )
    assert stale.status_code == 412


async def test_no_log_line_holds_a_whole_id_number_or_phone(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("homecare"))
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        c = await crew(world)
        body = world.recipient_body()
        created = (
            await world.client.post(f"{HC}/recipients", json=body, headers=world.admin(c.provider))
        ).json()
        await world.client.get(f"{HC}/recipients/{created['id']}", headers=world.admin(c.provider))
        await world.client.post(
            f"{HC}/recipients/lookup", json={"id_number": body["id_number"]}, headers=world.county()
        )
        await world.client.post(
            f"{HC}/recipients", json={**body, "phone": "12345"}, headers=world.admin(c.provider)
        )
        await world.client.post(f"{HC}/recipients", json=body, headers=world.admin(c.provider))  # 409
        order = await world.order(c.provider, created["id"])
        await to_status(world, c, order, "completed")
        logging.getLogger("test").warning("free text %s %s", body["id_number"], body["phone"])
    finally:
        root.removeHandler(handler)
    json_lines = stream.getvalue()
    service_records = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name != "test")
    assert '"path": "/api/v1/homecare/recipients"' in json_lines  # the access lines went through
    for secret in (body["id_number"], body["phone"], body["emergency_contact"]["phone"], body["address"]):
        assert secret not in json_lines
        assert secret not in service_records
    assert mask_id_card(body["id_number"]) in json_lines  # the free-text line was masked, not dropped


async def test_recipients_of_another_county_are_not_visible_to_a_county_admin(world: World) -> None:
    c = await crew(world)
    body = world.recipient_body(
        region_code=SIMING, address="福建省厦门市思明区鹭江道 100 号", institution_id=str(c.provider.id)
    )
    registered = await world.client.post(f"{HC}/recipients", json=body, headers=world.platform())
    assert registered.status_code == 201, registered.text  # a city platform records anywhere in its city
    siming = registered.json()
    assert (
        await world.client.get(f"{HC}/recipients/{siming['id']}", headers=world.county())
    ).status_code == 404
    assert (
        await world.client.get(f"{HC}/recipients/{siming['id']}", headers=world.county(SIMING))
    ).status_code == 200
