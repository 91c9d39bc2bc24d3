"""A find-or-create of an existing person fills the contact data the person LACKS, never what it holds.

The rule (services/residents/persons/service.py): homecare and contracts link their records to the
person and drop their own copy of the identity, so a phone or an address only the record carried would
be lost if the index did not take it (a person registered from a referral, which carries no address,
then a homecare recipient with one: the order for that elder had no address). A value the person holds
is kept whatever the record says (PATCH changes it), and the identity rules still refuse another name.
The single write and the bulk sync follow the same rule; a filling is audited, its values masked.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from libs.common.models import AuditRecord, ChangeRecord
from tests.residents.world import HULI, PERSONS, RES, World, id_number

PERSONS_BULK = f"{RES}/persons/bulk"
HOME = "福建省厦门市湖里区江头街道台湾街 88 号"
OTHER_HOME = "福建省厦门市湖里区金山街道金湖路 101 号"


async def _whole(world: World, inst: Any, person_id: str) -> dict[str, Any]:
    detail = await world.client.get(f"{PERSONS}/{person_id}", headers=world.admin(inst))
    assert detail.status_code == 200, detail.text
    return dict(detail.json())


async def test_a_find_fills_the_phone_and_address_the_person_lacks_and_audits_it_masked(
    live_world: World, residents_app: FastAPI
) -> None:
    inst = await live_world.primary_care()
    number = id_number(HULI)
    bare = {"name": "黄国平", "id_number": number, "region_code": HULI}
    created = await live_world.client.post(PERSONS, json=bare, headers=live_world.admin(inst))
    assert created.status_code == 201, created.text
    person_id = created.json()["id"]

    # homecare links a recipient that carries both
    found = await live_world.client.post(
        PERSONS,
        json={**bare, "phone": "13906001015", "address": HOME},
        headers=live_world.service("homecare"),
    )
    assert (found.status_code, found.json()["id"]) == (200, person_id)
    assert found.headers["etag"] == '"2"'  # the person changed: a new version
    whole = await _whole(live_world, inst, person_id)
    assert (whole["phone"], whole["address"]) == ("13906001015", HOME)

    # a later record naming other contact data changes nothing: the person holds both now
    again = await live_world.client.post(
        PERSONS,
        json={**bare, "phone": "13906009999", "address": OTHER_HOME},
        headers=live_world.service("contracts"),
    )
    assert (again.status_code, again.headers["etag"]) == (200, '"2"')
    whole = await _whole(live_world, inst, person_id)
    assert (whole["phone"], whole["address"], whole["version"]) == ("13906001015", HOME, 2)

    async with residents_app.state.database.session() as session:
        records = list(
            await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.entity_id == person_id, AuditRecord.action == "person.update")
                .order_by(AuditRecord.occurred_at)
            )
        )
        # the change feed has the new version (its payload carries no personal data)
        versions = list(
            await session.scalars(
                select(ChangeRecord.entity_version)
                .where(ChangeRecord.entity_id == uuid.UUID(person_id))
                .order_by(ChangeRecord.seq)
            )
        )
    assert versions == [1, 2]
    assert [(r.actor_sub, sorted((r.changes or {}).keys())) for r in records] == [
        ("service:homecare", ["address", "phone"])
    ]
    text = json.dumps(records[0].changes, ensure_ascii=False)
    assert HOME not in text
    assert "13906001015" not in text


async def test_a_find_under_another_name_fills_nothing(world: World) -> None:
    inst = await world.primary_care()
    bare = {"name": "黄国平", "id_number": id_number(HULI), "region_code": HULI}
    created = await world.client.post(PERSONS, json=bare, headers=world.admin(inst))
    clash = await world.client.post(
        PERSONS,
        json={**bare, "name": "林阿公", "address": HOME},
        headers=world.service("homecare"),
    )
    assert clash.status_code == 409
    whole = await _whole(world, inst, created.json()["id"])
    assert (whole["address"], whole["version"]) == (None, 1)


async def test_the_bulk_sync_fills_what_the_person_lacks_and_keeps_what_it_holds(world: World) -> None:
    inst = await world.primary_care()
    bare_number, held_number, new_number = id_number(HULI), id_number(HULI), id_number(HULI)
    bare = await world.client.post(
        PERSONS,
        json={"name": "黄国平", "id_number": bare_number, "region_code": HULI},
        headers=world.admin(inst),
    )
    held = await world.client.post(
        PERSONS,
        json={"name": "陈阿婆", "id_number": held_number, "region_code": HULI, "address": OTHER_HOME},
        headers=world.admin(inst),
    )
    batch = {
        "source_system": "homecare:xm-ijk",
        "records": [
            {
                "external_id": "K1",
                "name": "黄国平",
                "id_number": bare_number,
                "region_code": HULI,
                "address": HOME,
            },
            {
                "external_id": "K2",
                "name": "陈阿婆",
                "id_number": held_number,
                "region_code": HULI,
                "address": HOME,
            },
            # a new person whose first record has no address, the second (another key) one
            {"external_id": "K3", "name": "郑美华", "id_number": new_number, "region_code": HULI},
            {
                "external_id": "K4",
                "name": "郑美华",
                "id_number": new_number,
                "region_code": HULI,
                "address": HOME,
            },
        ],
    }
    response = await world.client.post(PERSONS_BULK, json=batch, headers=world.service("homecare"))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["outcome"], r["version"]) for r in results] == [
        ("updated", 2),
        ("unchanged", 1),
        ("created", 1),
        ("unchanged", 1),
    ]
    assert results[0]["id"] == bare.json()["id"]
    assert results[1]["id"] == held.json()["id"]
    assert results[2]["id"] == results[3]["id"]
    assert (await _whole(world, inst, bare.json()["id"]))["address"] == HOME
    assert (await _whole(world, inst, held.json()["id"]))["address"] == OTHER_HOME  # never overwritten
    new = await world.client.post(
        PERSONS,
        json={"name": "郑美华", "id_number": new_number, "region_code": HULI},
        headers=world.admin(inst),
    )
    assert (await _whole(world, inst, new.json()["id"]))["address"] == HOME

    # a replay: everything is held now, nothing written
    replay = await world.client.post(PERSONS_BULK, json=batch, headers=world.service("homecare"))
    assert [r["outcome"] for r in replay.json()["results"]] == ["unchanged"] * 4
