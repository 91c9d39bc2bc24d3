"""Who sees a person, masked or whole (each disclosure audited), the ID-number lookup, contact updates
under If-Match, and a feed without personal data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.models import AuditRecord
from tests.residents.world import FUZHOU, HULI, PERSONS, RES, SIMING, World


def _whole_values(body: dict[str, Any]) -> list[str]:
    return [body["name"], body["id_number"], body["phone"], body["address"]]


async def _registered(world: World) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    inst = await world.primary_care()
    body = world.person_body(township_code="350206004")
    created = await world.client.post(PERSONS, json=body, headers=world.admin(inst))
    assert created.status_code == 201, created.text
    return inst, body, created.json()


@pytest.mark.parametrize("viewer", ["province", "city", "county", "platform", "homecare"])
async def test_officials_platforms_and_services_see_persons_of_their_region_masked(
    world: World, viewer: str
) -> None:
    _, body, person = await _registered(world)
    headers = {
        "province": world.province(),
        "city": world.city(),
        "county": world.county(HULI),
        "platform": world.platform(),
        "homecare": world.service("homecare"),
    }[viewer]
    responses = [
        await world.client.get(f"{PERSONS}/{person['id']}", headers=headers),
        await world.client.get(PERSONS, params={"region_code": HULI}, headers=headers),
        await world.client.post(f"{PERSONS}/lookup", json={"id_number": body["id_number"]}, headers=headers),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        for value in _whole_values(body):
            assert value not in response.text
    detail = responses[0].json()
    assert detail["disclosed"] is False
    assert detail["birth_date"] is None
    assert detail["id_number"].startswith("350206")
    assert detail["id_number"].endswith(body["id_number"][-4:])
    assert person["id"] in {p["id"] for p in responses[1].json()["items"]}
    assert [p["id"] for p in responses[2].json()] == [person["id"]]


@pytest.mark.parametrize("viewer", ["other_county", "other_city", "other_platform", "other_institution"])
async def test_a_person_outside_the_callers_scope_is_not_found(world: World, viewer: str) -> None:
    _, body, person = await _registered(world)
    headers = {
        "other_county": world.county(SIMING),
        "other_city": world.city(FUZHOU),
        "other_platform": world.platform(FUZHOU),
        "other_institution": world.admin(await world.primary_care()),
    }[viewer]
    detail = await world.client.get(f"{PERSONS}/{person['id']}", headers=headers)
    assert detail.status_code == 404
    assert detail.json()["code"] == "person_not_found"
    listed = await world.client.get(PERSONS, headers=headers)
    assert person["id"] not in {p["id"] for p in listed.json()["items"]}
    found = await world.client.post(
        f"{PERSONS}/lookup", json={"id_number": body["id_number"]}, headers=headers
    )
    assert found.json() == []


async def test_an_institution_lists_the_persons_it_serves(world: World) -> None:
    inst, _, person = await _registered(world)
    other = await world.primary_care()
    await world.person(other)
    listed = await world.client.get(PERSONS, headers=world.staff(inst))
    assert [p["id"] for p in listed.json()["items"]] == [person["id"]]
    assert listed.json()["items"][0]["disclosed"] is False  # lists are masked for everyone


async def test_lists_filter_by_county_and_township(world: World) -> None:
    _, _, person = await _registered(world)
    plain = await world.person(await world.primary_care())
    by_township = await world.client.get(
        PERSONS, params={"township_code": "350206004"}, headers=world.county()
    )
    ids = {p["id"] for p in by_township.json()["items"]}
    assert person["id"] in ids
    assert plain["id"] not in ids
    by_county = await world.client.get(PERSONS, params={"region_code": SIMING}, headers=world.city())
    assert {person["id"], plain["id"]}.isdisjoint(p["id"] for p in by_county.json()["items"])
    bad = await world.client.get(PERSONS, params={"township_code": "3502"}, headers=world.county())
    assert bad.status_code == 422
    assert bad.json()["code"] == "validation_failed"


async def test_the_serving_institutions_detail_read_is_whole_and_audited(
    live_world: World, residents_app: FastAPI
) -> None:
    inst, body, person = await _registered(live_world)
    for _ in range(2):
        detail = await live_world.client.get(f"{PERSONS}/{person['id']}", headers=live_world.staff(inst))
        assert detail.json()["disclosed"] is True
        assert detail.json()["id_number"] == body["id_number"]
    masked = await live_world.client.get(f"{PERSONS}/{person['id']}", headers=live_world.county())
    assert masked.json()["disclosed"] is False
    async with residents_app.state.database.session() as session:
        records = list(
            await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.entity_id == person["id"])
                .order_by(AuditRecord.occurred_at)
            )
        )
    actions = [(r.action, r.actor_role) for r in records]
    assert actions == [
        ("person.create", "institution_admin"),
        ("personal_data.disclose", "institution_staff"),
        ("personal_data.disclose", "institution_staff"),
    ]
    create = records[0].changes
    assert create is not None
    assert create["id_number"] == "***"
    for value in _whole_values(body):
        assert value not in json.dumps(create, ensure_ascii=False)
    assert records[1].changes is not None
    assert set(records[1].changes["fields"]) == {"name", "id_number", "birth_date", "phone", "address"}


async def test_the_serving_institution_updates_contact_data_under_if_match(world: World) -> None:
    inst, _, person = await _registered(world)
    url = f"{PERSONS}/{person['id']}"
    change = {"phone": "13955550000", "address": "福建省厦门市湖里区金山街道金湖路 8 号"}
    missing = await world.client.patch(url, json=change, headers=world.admin(inst))
    assert missing.status_code == 428
    assert missing.json()["code"] == "if_match_required"
    stale = await world.client.patch(url, json=change, headers={**world.admin(inst), "If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "version_mismatch"
    updated = await world.client.patch(url, json=change, headers={**world.admin(inst), "If-Match": '"1"'})
    assert updated.status_code == 200, updated.text
    assert updated.headers["etag"] == '"2"'
    assert updated.json()["phone"] == change["phone"]
    assert updated.json()["disclosed"] is True
    assert updated.json()["township_code"] == "350206004"


async def test_moving_to_another_county_clears_the_township_unless_one_is_given(world: World) -> None:
    inst, _, person = await _registered(world)
    url = f"{PERSONS}/{person['id']}"
    moved = await world.client.patch(
        url, json={"region_code": SIMING}, headers={**world.admin(inst), "If-Match": "*"}
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["region_code"], moved.json()["township_code"]) == (SIMING, None)
    wrong = await world.client.patch(
        url, json={"township_code": "350206004"}, headers={**world.admin(inst), "If-Match": "*"}
    )
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "township_not_in_county"
    # the institution still serves the person it moved; 湖里's officials no longer see it
    assert (await world.client.get(url, headers=world.admin(inst))).status_code == 200
    assert (await world.client.get(url, headers=world.county(HULI))).status_code == 404
    assert (await world.client.get(url, headers=world.county(SIMING))).status_code == 200


@pytest.mark.parametrize(
    ("viewer", "status", "code"),
    [
        ("county", 403, "permission_denied"),
        ("other_institution", 404, "person_not_found"),
        ("other_platform", 404, "person_not_found"),
    ],
)
async def test_who_may_not_update(world: World, viewer: str, status: int, code: str) -> None:
    _, _, person = await _registered(world)
    headers = {
        "county": world.county(),
        "other_institution": world.admin(await world.primary_care()),
        "other_platform": world.platform(FUZHOU),
    }[viewer]
    response = await world.client.patch(
        f"{PERSONS}/{person['id']}", json={"phone": "13955550001"}, headers={**headers, "If-Match": "*"}
    )
    assert response.status_code == status
    assert response.json()["code"] == code


async def test_a_city_platform_may_not_move_a_person_out_of_its_city(world: World) -> None:
    _, _, person = await _registered(world)
    response = await world.client.patch(
        f"{PERSONS}/{person['id']}",
        json={"region_code": "350102"},
        headers={**world.platform(), "If-Match": "*"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"


async def test_the_feed_carries_no_personal_data(world: World) -> None:
    _, body, person = await _registered(world)
    feed = await world.client.get(f"{RES}/changes", params={"entity_types": "person"}, headers=world.county())
    assert feed.status_code == 200, feed.text
    entries = [e for e in feed.json()["items"] if e["entity_id"] == person["id"]]
    assert len(entries) == 1
    assert entries[0]["data"] == {
        "region_code": HULI,
        "township_code": "350206004",
        "institution_id": person["institution_id"],
        "sex": person["sex"],
        "version": 1,
        "created_at": entries[0]["data"]["created_at"],
        "updated_at": entries[0]["data"]["updated_at"],
    }
    for value in (*_whole_values(body), body["id_number"][6:14]):
        assert value not in feed.text
    elsewhere = await world.client.get(f"{RES}/changes", headers=world.county(SIMING))
    assert person["id"] not in elsewhere.text


async def test_a_person_who_moves_leaves_the_old_countys_feed_with_a_tombstone(world: World) -> None:
    inst, _, person = await _registered(world)
    moved = await world.client.patch(
        f"{PERSONS}/{person['id']}",
        json={"region_code": SIMING},
        headers={**world.admin(inst), "If-Match": "*"},
    )
    assert moved.status_code == 200, moved.text

    async def entries(headers: dict[str, str]) -> list[tuple[str, str | None]]:
        feed = await world.client.get(f"{RES}/changes", params={"entity_types": "person"}, headers=headers)
        assert feed.status_code == 200, feed.text
        return [(e["op"], e["region_code"]) for e in feed.json()["items"] if e["entity_id"] == person["id"]]

    assert await entries(world.county(HULI)) == [("upsert", HULI), ("delete", HULI)]
    assert await entries(world.county(SIMING)) == [("upsert", SIMING)]
    assert await entries(world.city()) == [("upsert", HULI), ("delete", HULI), ("upsert", SIMING)]
