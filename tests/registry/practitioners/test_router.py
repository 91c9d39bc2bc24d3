from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.auth import Role
from libs.common.models import AuditRecord
from libs.common.testing import Tokens
from tests.registry.factories import (
    PRACTITIONERS,
    create_institution,
    hospital_body,
    practitioner_body,
)

HULI, SIMING = "350206", "350203"


async def add(
    client: httpx.AsyncClient, tokens: Tokens, institution_id: str, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        PRACTITIONERS,
        json=practitioner_body(institution_id, **overrides),
        headers=tokens.headers(Role.county_admin, HULI),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
async def hospital(client: httpx.AsyncClient, tokens: Tokens) -> dict[str, Any]:
    return await create_institution(client, tokens, hospital_body())


@pytest.mark.parametrize(
    ("overrides", "eligible"),
    [
        ({}, True),
        ({"title": "senior_nurse", "clinical_years": 5}, True),
        ({"title": "chief_nurse", "clinical_years": 20}, True),
        ({"title": "nurse", "clinical_years": 10}, False),
        ({"title": "senior_nurse", "clinical_years": 4}, False),
        ({"misconduct_recorded": True}, False),
        ({"practice_certificate_no": None}, False),
        ({"kind": "doctor", "title": "attending_physician"}, False),
        ({"kind": "carer", "title": None}, False),
    ],
)
async def test_homecare_eligibility_follows_the_national_rule(
    client: httpx.AsyncClient,
    tokens: Tokens,
    hospital: dict[str, Any],
    overrides: dict[str, Any],
    eligible: bool,
) -> None:
    practitioner = await add(client, tokens, hospital["id"], **overrides)
    assert practitioner["homecare_eligible"] is eligible


async def test_eligible_filter_is_computed_in_sql(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any]
) -> None:
    yes = await add(client, tokens, hospital["id"], name="林晓燕")
    no = await add(client, tokens, hospital["id"], name="王丽", title="nurse", clinical_years=2)
    headers = tokens.headers(Role.county_admin, HULI)
    eligible = await client.get(
        PRACTITIONERS, params={"institution_id": hospital["id"], "homecare_eligible": "true"}, headers=headers
    )
    assert [p["id"] for p in eligible.json()["items"]] == [yes["id"]]
    not_eligible = await client.get(
        PRACTITIONERS,
        params={"institution_id": hospital["id"], "homecare_eligible": "false"},
        headers=headers,
    )
    assert [p["id"] for p in not_eligible.json()["items"]] == [no["id"]]


async def test_read_shape_for_other_services(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any]
) -> None:
    practitioner = await add(client, tokens, hospital["id"])
    for key in ("id", "institution_id", "kind", "title", "homecare_eligible", "trainings", "active"):
        assert key in practitioner
    assert practitioner["trainings"][0]["item_codes"] == ["HC16"]
    assert practitioner["title_label"] == "主管护师"
    assert practitioner["kind_label"] == "护士"


async def test_title_must_fit_kind(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any]
) -> None:
    response = await client.post(
        PRACTITIONERS,
        json=practitioner_body(hospital["id"], kind="doctor", title="senior_nurse"),
        headers=tokens.headers(Role.county_admin, HULI),
    )
    assert response.status_code == 422
    assert "不适用" in response.text


async def test_bad_id_card_is_422_naming_the_field(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any]
) -> None:
    response = await client.post(
        PRACTITIONERS,
        json=practitioner_body(hospital["id"], id_card="110105194912310021"),
        headers=tokens.headers(Role.county_admin, HULI),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.id_card"
    assert "110105194912310021" not in response.text


async def test_personal_data_is_masked_for_the_county(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any]
) -> None:
    practitioner = await add(client, tokens, hospital["id"])
    assert practitioner["id_card"] == "110105********002X"
    assert practitioner["phone"] == "139****5678"
    county = await client.get(
        f"{PRACTITIONERS}/{practitioner['id']}", headers=tokens.headers(Role.county_admin, HULI)
    )
    assert county.json()["id_card"] == "110105********002X"


async def test_own_institution_admin_sees_whole_values_and_each_disclosure_is_audited(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any], registry_app: FastAPI
) -> None:
    practitioner = await add(client, tokens, hospital["id"])
    own = tokens.headers(
        Role.institution_admin, HULI, institution_id=uuid.UUID(hospital["id"]), sub="xinkaiyuan_admin"
    )
    single = await client.get(f"{PRACTITIONERS}/{practitioner['id']}", headers=own)
    assert single.json()["id_card"] == "11010519491231002X"
    assert single.json()["phone"] == "13912345678"
    listed = await client.get(PRACTITIONERS, headers=own)
    assert listed.json()["items"][0]["id_card"] == "11010519491231002X"
    async with registry_app.state.database.session(write=False) as session:
        rows = (
            await session.scalars(
                select(AuditRecord).where(
                    AuditRecord.action == "personal_data.disclose",
                    AuditRecord.entity_id == practitioner["id"],
                )
            )
        ).all()
    assert len(rows) == 2
    assert {row.actor_sub for row in rows} == {"xinkaiyuan_admin"}
    assert rows[0].changes == {"fields": ["id_number", "phone"]}


async def test_staff_of_the_institution_see_colleagues_masked_but_themselves_whole(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any]
) -> None:
    me = await add(client, tokens, hospital["id"], name="林晓燕")
    colleague = await add(client, tokens, hospital["id"], name="王丽", id_card="360426199101010071")
    headers = tokens.headers(
        Role.institution_staff,
        HULI,
        institution_id=uuid.UUID(hospital["id"]),
        practitioner_id=uuid.UUID(me["id"]),
    )
    mine = await client.get(f"{PRACTITIONERS}/{me['id']}", headers=headers)
    theirs = await client.get(f"{PRACTITIONERS}/{colleague['id']}", headers=headers)
    assert mine.json()["id_card"] == "11010519491231002X"
    assert theirs.json()["id_card"] == "360426********0071"


async def test_lookup_by_id_card_uses_the_blind_index_within_scope(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any]
) -> None:
    practitioner = await add(client, tokens, hospital["id"])
    found = await client.post(
        f"{PRACTITIONERS}/lookup",
        json={"id_card": "11010519491231002x"},
        headers=tokens.headers(Role.county_admin, HULI),
    )
    assert [p["id"] for p in found.json()] == [practitioner["id"]]
    elsewhere = await client.post(
        f"{PRACTITIONERS}/lookup",
        json={"id_card": "11010519491231002X"},
        headers=tokens.headers(Role.county_admin, SIMING),
    )
    assert elsewhere.json() == []


async def test_update_and_deactivate_need_if_match(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any]
) -> None:
    practitioner = await add(client, tokens, hospital["id"], title="nurse", clinical_years=4)
    url, headers = f"{PRACTITIONERS}/{practitioner['id']}", tokens.headers(Role.county_admin, HULI)
    assert (await client.patch(url, json={"clinical_years": 5}, headers=headers)).status_code == 428
    promoted = await client.patch(
        url, json={"clinical_years": 5, "title": "senior_nurse"}, headers={**headers, "If-Match": '"1"'}
    )
    assert promoted.status_code == 200
    assert promoted.json()["homecare_eligible"] is True
    off = await client.post(f"{url}/deactivate", headers={**headers, "If-Match": '"2"'})
    assert off.json()["active"] is False
    assert off.json()["homecare_eligible"] is False
    stale = await client.post(f"{url}/reactivate", headers={**headers, "If-Match": '"2"'})
    assert stale.status_code == 412


@pytest.mark.parametrize(
    ("role", "region", "own", "status"),
    [
        (Role.county_admin, HULI, False, 201),
        (Role.county_admin, SIMING, False, 404),
        (Role.institution_admin, HULI, True, 201),
        (Role.institution_admin, HULI, False, 404),
        (Role.institution_staff, HULI, True, 403),
        (Role.city_admin, "350200", False, 403),
        (Role.province_admin, "350000", False, 403),
        (Role.city_platform, "350200", False, 403),
    ],
)
async def test_create_scope_matrix(
    client: httpx.AsyncClient,
    tokens: Tokens,
    hospital: dict[str, Any],
    role: Role,
    region: str,
    own: bool,
    status: int,
) -> None:
    institution_id = uuid.UUID(hospital["id"]) if own else uuid.uuid4()
    headers = tokens.headers(
        role, region, institution_id=institution_id if role.value.startswith("inst") else None
    )
    response = await client.post(PRACTITIONERS, json=practitioner_body(hospital["id"]), headers=headers)
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("role", "region", "own", "visible"),
    [
        (Role.province_admin, "350000", False, True),
        (Role.city_admin, "350200", False, True),
        (Role.city_admin, "350100", False, False),
        (Role.county_admin, HULI, False, True),
        (Role.county_admin, SIMING, False, False),
        (Role.institution_admin, HULI, True, True),
        (Role.institution_staff, HULI, False, False),
        (Role.service, "350000", False, True),
    ],
)
async def test_read_scope_matrix(
    client: httpx.AsyncClient,
    tokens: Tokens,
    hospital: dict[str, Any],
    role: Role,
    region: str,
    own: bool,
    visible: bool,
) -> None:
    practitioner = await add(client, tokens, hospital["id"])
    institution_id = uuid.UUID(hospital["id"]) if own else uuid.uuid4()
    headers = tokens.headers(
        role, region, institution_id=institution_id if role.value.startswith("inst") else None
    )
    response = await client.get(f"{PRACTITIONERS}/{practitioner['id']}", headers=headers)
    assert response.status_code == (200 if visible else 404)
    listed = await client.get(PRACTITIONERS, params={"institution_id": hospital["id"]}, headers=headers)
    assert (practitioner["id"] in [p["id"] for p in listed.json()["items"]]) is visible


async def test_practitioner_of_unknown_institution_is_404(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.post(
        PRACTITIONERS,
        json=practitioner_body(str(uuid.uuid4())),
        headers=tokens.headers(Role.county_admin, HULI),
    )
    assert response.status_code == 404
