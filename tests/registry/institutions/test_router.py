from __future__ import annotations

import uuid

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.registry.factories import (
    INSTITUTIONS,
    create_institution,
    hospital_body,
    institution_body,
    unique_uscc,
)

HULI, SIMING, XIAMEN, FUZHOU = "350206", "350203", "350200", "350100"


async def test_county_admin_creates_and_reads_institution_in_its_county(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = tokens.headers(Role.county_admin, HULI)
    created = await client.post(INSTITUTIONS, json=institution_body(), headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["kind_label"] == "养老机构"
    assert body["category_label"] == "养老机构"
    assert body["elderly_care_ownership_label"] == "民办"
    assert body["has_medical_unit"] is False
    assert body["disabled_residents"] == 30
    assert created.headers["etag"] == '"1"'
    assert created.headers["location"].endswith(body["id"])
    fetched = await client.get(f"{INSTITUTIONS}/{body['id']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.json()["name"] == "湖里区测试护理院"


async def test_medical_and_integrated_institutions_have_a_medical_unit(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    hospital = await create_institution(client, tokens, hospital_body())
    integrated = await create_institution(
        client,
        tokens,
        institution_body(
            kind="integrated", integrated_model="elderly_care_runs_medical", ws218_kind_code="D400"
        ),
    )
    assert hospital["has_medical_unit"] is True
    assert hospital["hospital_grade_label"] == "二级"
    assert integrated["has_medical_unit"] is True
    assert integrated["integrated_model_label"] == "养办医"


async def test_other_county_reading_the_record_gets_404(client: httpx.AsyncClient, tokens: Tokens) -> None:
    created = await create_institution(client, tokens)
    other = await client.get(
        f"{INSTITUTIONS}/{created['id']}", headers=tokens.headers(Role.county_admin, SIMING)
    )
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "institution_not_found"


@pytest.mark.parametrize(
    ("role", "region", "own", "visible"),
    [
        (Role.province_admin, "350000", False, True),
        (Role.city_admin, XIAMEN, False, True),
        (Role.city_admin, FUZHOU, False, False),
        (Role.county_admin, HULI, False, True),
        (Role.county_admin, SIMING, False, False),
        (Role.institution_admin, HULI, True, True),
        (Role.institution_admin, HULI, False, False),
        (Role.institution_staff, HULI, True, True),
        (Role.city_platform, XIAMEN, False, True),
        (Role.city_platform, FUZHOU, False, False),
        (Role.service, "350000", False, True),
    ],
)
async def test_read_scope_matrix(
    client: httpx.AsyncClient, tokens: Tokens, role: Role, region: str, own: bool, visible: bool
) -> None:
    created = await create_institution(client, tokens)
    institution_id = uuid.UUID(created["id"]) if own else uuid.uuid4()
    headers = tokens.headers(
        role, region, institution_id=institution_id if role.value.startswith("inst") else None
    )
    single = await client.get(f"{INSTITUTIONS}/{created['id']}", headers=headers)
    assert single.status_code == (200 if visible else 404)
    listed = await client.get(INSTITUTIONS, params={"q": "湖里区测试护理院"}, headers=headers)
    assert listed.status_code == 200
    assert (created["id"] in [item["id"] for item in listed.json()["items"]]) is visible


@pytest.mark.parametrize(
    ("role", "region", "status"),
    [
        (Role.county_admin, HULI, 201),
        (Role.county_admin, SIMING, 403),
        (Role.city_admin, XIAMEN, 403),
        (Role.province_admin, "350000", 403),
        (Role.institution_admin, HULI, 403),
        (Role.city_platform, XIAMEN, 403),
    ],
)
async def test_create_scope_matrix(
    client: httpx.AsyncClient, tokens: Tokens, role: Role, region: str, status: int
) -> None:
    response = await client.post(INSTITUTIONS, json=institution_body(), headers=tokens.headers(role, region))
    assert response.status_code == status, response.text
    if status == 403:
        assert response.json()["code"] in {"permission_denied", "out_of_scope"}


async def test_bad_uscc_check_character_is_422_naming_the_field(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    good = unique_uscc()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    response = await client.post(
        INSTITUTIONS, json=institution_body(uscc=bad), headers=tokens.headers(Role.county_admin, HULI)
    )
    assert response.status_code == 422
    fields = [error["field"] for error in response.json()["errors"]]
    assert "body.uscc" in fields
    assert "校验位" in response.json()["errors"][0]["message"]


async def test_known_good_uscc_is_accepted(client: httpx.AsyncClient, tokens: Tokens) -> None:
    created = await create_institution(client, tokens, institution_body(uscc="12330000470051726F"))
    assert created["uscc"] == "12330000470051726F"
    # registered outside Fujian: a warning, not an error
    assert any("35" in warning for warning in created["warnings"])


async def test_duplicate_uscc_is_409(client: httpx.AsyncClient, tokens: Tokens) -> None:
    body = institution_body()
    await create_institution(client, tokens, body)
    again = await client.post(
        INSTITUTIONS, json={**body, "name": "另一家机构"}, headers=tokens.headers(Role.county_admin, HULI)
    )
    assert again.status_code == 409
    assert again.json()["code"] == "uscc_taken"


async def test_licence_matching_kind_code_has_no_licence_warning(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    created = await create_institution(client, tokens, hospital_body())
    assert not any("登记号" in warning for warning in created["warnings"])


async def test_licence_kind_code_mismatch_is_a_warning(client: httpx.AsyncClient, tokens: Tokens) -> None:
    created = await create_institution(client, tokens, hospital_body(ws218_kind_code="A210"))
    assert any("不一致" in warning for warning in created["warnings"])


async def test_legacy_short_licence_number_is_a_warning(client: httpx.AsyncClient, tokens: Tokens) -> None:
    created = await create_institution(client, tokens, hospital_body(licence_no="PDY12345X"))
    assert any("22 位" in warning for warning in created["warnings"])


async def test_filing_number_needs_no_licence_check(client: httpx.AsyncClient, tokens: Tokens) -> None:
    created = await create_institution(
        client,
        tokens,
        hospital_body(
            category="clinic",
            hospital_grade=None,
            hospital_type=None,
            ws218_kind_code="D211",
            licence_type="filing",
            licence_no="BA350206-2024-001",
        ),
    )
    assert created["licence_type_label"] == "诊所备案凭证"
    assert not any("登记号" in warning for warning in created["warnings"])


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"region_code": "350299"}, "region_code"),
        ({"region_code": "350200"}, "region_code"),
        ({"category": "hospital"}, "不属于"),
        ({"kind": "integrated"}, "integrated_model"),
        ({"residents": 5}, "入住人数"),
        ({"lat": 24.5, "lng": None}, "经纬度须同时填写"),
        ({"contact_phone": "12345"}, "联系电话"),
    ],
)
async def test_inconsistent_institution_is_422(
    client: httpx.AsyncClient, tokens: Tokens, overrides: dict[str, object], needle: str
) -> None:
    response = await client.post(
        INSTITUTIONS, json=institution_body(**overrides), headers=tokens.headers(Role.county_admin, HULI)
    )
    assert response.status_code == 422
    assert needle in response.text


async def test_update_needs_if_match_and_rejects_a_stale_one(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    created = await create_institution(client, tokens)
    url, headers = f"{INSTITUTIONS}/{created['id']}", tokens.headers(Role.county_admin, HULI)
    missing = await client.patch(url, json={"beds_elderly_care": 150}, headers=headers)
    assert missing.status_code == 428
    ok = await client.patch(url, json={"beds_elderly_care": 150}, headers={**headers, "If-Match": '"1"'})
    assert ok.status_code == 200, ok.text
    assert ok.headers["etag"] == '"2"'
    assert ok.json()["beds_elderly_care"] == 150
    stale = await client.patch(url, json={"beds_elderly_care": 160}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.json()["code"] == "version_mismatch"


async def test_update_revalidates_the_whole_record(client: httpx.AsyncClient, tokens: Tokens) -> None:
    created = await create_institution(client, tokens)
    response = await client.patch(
        f"{INSTITUTIONS}/{created['id']}",
        json={"residents": 1},
        headers={**tokens.headers(Role.county_admin, HULI), "If-Match": '"1"'},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_institution"


async def test_institution_admin_edits_its_own_profile(client: httpx.AsyncClient, tokens: Tokens) -> None:
    created = await create_institution(client, tokens)
    headers = tokens.headers(Role.institution_admin, HULI, institution_id=uuid.UUID(created["id"]))
    response = await client.patch(
        f"{INSTITUTIONS}/{created['id']}",
        json={"residents": 90, "tcm_hall": True},
        headers={**headers, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["tcm_hall"] is True


@pytest.mark.parametrize(
    "patch",
    [
        {"kind": "integrated", "integrated_model": "elderly_care_runs_medical"},
        {"category": "day_care_center"},
        {"uscc": "91110000600037341L"},
        {"region_code": "350203"},
    ],
)
async def test_institution_admin_cannot_change_kind_code_or_region(
    client: httpx.AsyncClient, tokens: Tokens, patch: dict[str, str]
) -> None:
    created = await create_institution(client, tokens)
    headers = tokens.headers(Role.institution_admin, HULI, institution_id=uuid.UUID(created["id"]))
    response = await client.patch(
        f"{INSTITUTIONS}/{created['id']}", json=patch, headers={**headers, "If-Match": '"1"'}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "field_not_editable"


async def test_institution_admin_cannot_edit_another_institution(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    created = await create_institution(client, tokens)
    headers = tokens.headers(Role.institution_admin, HULI, institution_id=uuid.uuid4())
    response = await client.patch(
        f"{INSTITUTIONS}/{created['id']}", json={"residents": 90}, headers={**headers, "If-Match": '"1"'}
    )
    assert response.status_code == 404


async def test_county_admin_cannot_move_an_institution_out_of_its_county(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    created = await create_institution(client, tokens)
    response = await client.patch(
        f"{INSTITUTIONS}/{created['id']}",
        json={"region_code": SIMING},
        headers={**tokens.headers(Role.county_admin, HULI), "If-Match": '"1"'},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"


async def test_deactivate_keeps_the_record_and_reactivate_restores_it(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    created = await create_institution(client, tokens)
    url, headers = f"{INSTITUTIONS}/{created['id']}", tokens.headers(Role.county_admin, HULI)
    no_match = await client.post(f"{url}/deactivate", headers=headers)
    assert no_match.status_code == 428
    off = await client.post(
        f"{url}/deactivate", json={"reason": "停业"}, headers={**headers, "If-Match": '"1"'}
    )
    assert off.status_code == 200
    assert off.json()["active"] is False
    again = await client.post(f"{url}/deactivate", headers={**headers, "If-Match": '"2"'})
    assert again.status_code == 409
    listed = await client.get(
        INSTITUTIONS, params={"q": "湖里区测试护理院", "active": "false"}, headers=headers
    )
    assert [item["id"] for item in listed.json()["items"]] == [created["id"]]
    on = await client.post(f"{url}/reactivate", headers={**headers, "If-Match": '"2"'})
    assert on.json()["active"] is True


async def test_city_admin_cannot_deactivate(client: httpx.AsyncClient, tokens: Tokens) -> None:
    created = await create_institution(client, tokens)
    response = await client.post(
        f"{INSTITUTIONS}/{created['id']}/deactivate",
        headers={**tokens.headers(Role.city_admin, XIAMEN), "If-Match": '"1"'},
    )
    assert response.status_code == 403


async def test_history_lists_who_changed_which_fields(client: httpx.AsyncClient, tokens: Tokens) -> None:
    created = await create_institution(client, tokens)
    url, headers = (
        f"{INSTITUTIONS}/{created['id']}",
        tokens.headers(Role.county_admin, HULI, sub="huli_admin"),
    )
    await client.patch(
        url,
        json={"beds_elderly_care": 150, "contact_phone": "13900001111"},
        headers={**headers, "If-Match": '"1"'},
    )
    history = await client.get(f"{url}/history", headers=headers)
    assert history.status_code == 200
    entries = history.json()["items"]
    assert [e["action"] for e in entries] == ["institution.create", "institution.update"]
    assert entries[1]["actor_sub"] == "huli_admin"
    assert entries[1]["fields"] == ["beds_elderly_care", "contact_phone"]
    assert entries[1]["changes"]["beds_elderly_care"] == [120, 150]
    assert entries[1]["changes"]["contact_phone"] == "***"
    hidden = await client.get(f"{url}/history", headers=tokens.headers(Role.county_admin, SIMING))
    assert hidden.status_code == 404


async def test_contact_phone_is_masked_except_to_the_institution_itself(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    created = await create_institution(client, tokens)
    assert created["contact_phone"] == "138****5678"
    county = await client.get(
        f"{INSTITUTIONS}/{created['id']}", headers=tokens.headers(Role.county_admin, HULI)
    )
    assert county.json()["contact_phone"] == "138****5678"
    own_headers = tokens.headers(
        Role.institution_admin, HULI, institution_id=uuid.UUID(created["id"]), sub="own"
    )
    own = await client.get(f"{INSTITUTIONS}/{created['id']}", headers=own_headers)
    assert own.json()["contact_phone"] == "13812345678"
    history = await client.get(f"{INSTITUTIONS}/{created['id']}/history", headers=own_headers)
    disclosures = [e for e in history.json()["items"] if e["action"] == "personal_data.disclose"]
    assert len(disclosures) == 1
    assert disclosures[0]["actor_sub"] == "own"


async def test_contact_phone_is_never_in_the_change_feed(client: httpx.AsyncClient, tokens: Tokens) -> None:
    created = await create_institution(client, tokens)
    feed = await client.get("/api/v1/registry/changes", headers=tokens.headers(Role.county_admin, HULI))
    entries = [e for e in feed.json()["items"] if e["entity_id"] == created["id"]]
    assert entries
    assert "13812345678" not in feed.text
    assert "contact_phone_enc" not in entries[0]["data"]


async def test_enums_carry_chinese_labels(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.get(f"{INSTITUTIONS}/enums", headers=tokens.headers(Role.county_admin, HULI))
    body = response.json()
    assert {"value": "village_clinic", "label": "村卫生室"} in body["categories"]
    assert {"value": "public_built_private_run", "label": "公建民营"} in body["elderly_care_ownerships"]
    assert {"value": "tcm_hall", "label": "中医馆"} in body["capabilities"]
