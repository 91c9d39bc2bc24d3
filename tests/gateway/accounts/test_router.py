"""User management: the creation scope matrix, region levels (incl. 平潭), listing, PATCH, deactivation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.gateway.conftest import PASSWORD, add_user, login
from tests.registry.factories import create_institution

USERS = "/api/v1/auth/users"
NEW_PASSWORD = "Fresh@Pass2026"
INSTITUTION = uuid.UUID("00000000-0000-4000-8000-000000000001")
OTHER_INSTITUTION = uuid.UUID("00000000-0000-4000-8000-000000000002")

# Who calls: a role and the region/institution of its token.
ACTORS: dict[Role, dict[str, Any]] = {
    Role.province_admin: {"region_code": "350000"},
    Role.city_admin: {"region_code": "350200"},
    Role.county_admin: {"region_code": "350206"},
    Role.institution_admin: {"region_code": "350206", "institution_id": INSTITUTION},
    Role.institution_staff: {"region_code": "350206", "institution_id": INSTITUTION},
    Role.city_platform: {"region_code": "350200"},
    Role.service: {"region_code": "350000"},
}
NEXT_LEVEL = {
    Role.province_admin: Role.city_admin,
    Role.city_admin: Role.county_admin,
    Role.county_admin: Role.institution_admin,
    Role.institution_admin: Role.institution_staff,
}
TARGETS = [
    Role.province_admin,
    Role.city_admin,
    Role.county_admin,
    Role.institution_admin,
    Role.institution_staff,
]


def headers(tokens: Tokens, role: Role, region_code: str | None = None, **kwargs: Any) -> dict[str, str]:
    values = {**ACTORS[role], **kwargs}
    if region_code is not None:
        values["region_code"] = region_code
    return tokens.headers(role, values.pop("region_code"), **values)


def body(role: Role, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "username": f"u{uuid.uuid4().hex[:12]}",
        "display_name": "测试用户",
        "password": NEW_PASSWORD,
        "role": role.value,
    }
    values.update(overrides)
    return values


async def in_scope_body(role: Role, registry_client: httpx.AsyncClient, tokens: Tokens) -> dict[str, Any]:
    """A body that the role's creator (as in ACTORS) may submit."""
    if role is Role.province_admin:
        return body(role, region_code="350000")
    if role is Role.city_admin:
        return body(role, region_code="350200")
    if role is Role.county_admin:
        return body(role, region_code="350206")
    if role is Role.institution_admin:
        institution = await create_institution(registry_client, tokens, region_code="350206")
        return body(role, institution_id=institution["id"])
    return body(role)


@pytest.mark.parametrize("target", TARGETS, ids=[t.value for t in TARGETS])
@pytest.mark.parametrize("actor", list(ACTORS), ids=[a.value for a in ACTORS])
async def test_user_creation_matrix(
    actor: Role, target: Role, client: httpx.AsyncClient, registry_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await client.post(
        USERS, json=await in_scope_body(target, registry_client, tokens), headers=headers(tokens, actor)
    )
    if NEXT_LEVEL.get(actor) is target:
        assert response.status_code == 201, response.text
        assert response.json()["role"] == target.value
    elif actor in NEXT_LEVEL:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "role_not_grantable"
    else:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("actor_region", "region_code", "status", "code"),
    [
        ("350000", "350200", 201, None),  # 厦门市
        ("350000", "350100", 201, None),  # 福州市
        ("350000", "350128", 201, None),  # 平潭综合实验区, a city-level unit
        ("350000", "350206", 422, "invalid_region"),  # a county
        ("350000", "350000", 422, "invalid_region"),  # the province
        ("350000", "359900", 422, "invalid_region"),  # no such code
        ("350000", "110100", 422, "invalid_region"),  # not in Fujian
    ],
)
async def test_province_admin_creates_city_admins_of_city_level_units(
    actor_region: str,
    region_code: str,
    status: int,
    code: str | None,
    client: httpx.AsyncClient,
    tokens: Tokens,
) -> None:
    response = await client.post(
        USERS,
        json=body(Role.city_admin, region_code=region_code),
        headers=headers(tokens, Role.province_admin, actor_region),
    )
    assert response.status_code == status, response.text
    if code:
        assert response.json()["code"] == code
    else:
        assert response.json()["region_code"] == region_code


@pytest.mark.parametrize(
    ("actor_region", "region_code", "status", "code"),
    [
        ("350200", "350206", 201, None),  # 厦门 → 湖里区
        ("350200", "350203", 201, None),  # 厦门 → 思明区
        ("350200", "350102", 403, "out_of_scope"),  # 厦门 → 福州's 鼓楼区
        ("350200", "350200", 422, "invalid_region"),  # a city is not a county
        ("350200", "350299", 422, "invalid_region"),  # no such county
        ("350100", "350102", 201, None),  # 福州 → 鼓楼区
        ("350100", "350128", 403, "out_of_scope"),  # 福州's scope does not include 平潭
        ("350128", "350128", 201, None),  # 平潭's own city-level admin → its county admin
        ("350128", "350102", 403, "out_of_scope"),
    ],
)
async def test_city_admin_creates_county_admins_within_its_city(
    actor_region: str,
    region_code: str,
    status: int,
    code: str | None,
    client: httpx.AsyncClient,
    tokens: Tokens,
) -> None:
    response = await client.post(
        USERS,
        json=body(Role.county_admin, region_code=region_code),
        headers=headers(tokens, Role.city_admin, actor_region),
    )
    assert response.status_code == status, response.text
    if code:
        assert response.json()["code"] == code


async def test_county_admin_creates_an_institution_admin_for_an_institution_in_its_county(
    client: httpx.AsyncClient, registry_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    institution = await create_institution(
        registry_client, tokens, region_code="350206", name="湖里区网关测试院"
    )
    response = await client.post(
        USERS,
        json=body(Role.institution_admin, institution_id=institution["id"]),
        headers=headers(tokens, Role.county_admin),
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["institution_id"] == institution["id"]
    assert created["region_code"] == "350206"  # taken from the registry
    assert created["role_label"] == "机构管理员"
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"{USERS}/{created['id']}"


async def test_county_admin_cannot_create_an_admin_for_another_countys_institution(
    client: httpx.AsyncClient, registry_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    institution = await create_institution(
        registry_client,
        tokens,
        region_code="350203",
        name="思明区网关测试院",
        address="厦门市思明区测试路2号",
    )
    response = await client.post(
        USERS,
        json=body(Role.institution_admin, institution_id=institution["id"]),
        headers=headers(tokens, Role.county_admin),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"


async def test_institution_admin_for_an_unknown_institution_is_422(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await client.post(
        USERS,
        json=body(Role.institution_admin, institution_id=str(uuid.uuid4())),
        headers=headers(tokens, Role.county_admin),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "institution_not_found"


async def test_institution_admin_without_institution_is_422(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await client.post(
        USERS, json=body(Role.institution_admin), headers=headers(tokens, Role.county_admin)
    )
    assert response.status_code == 422
    assert response.json()["code"] == "institution_required"
    assert response.json()["errors"][0]["field"] == "body.institution_id"


async def test_institution_admin_with_a_region_other_than_the_institutions_is_422(
    client: httpx.AsyncClient, registry_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    institution = await create_institution(registry_client, tokens, region_code="350206")
    response = await client.post(
        USERS,
        json=body(Role.institution_admin, institution_id=institution["id"], region_code="350203"),
        headers=headers(tokens, Role.county_admin),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "region_mismatch"


async def test_institution_admin_creates_staff_of_its_institution(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await client.post(
        USERS, json=body(Role.institution_staff), headers=headers(tokens, Role.institution_admin)
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["institution_id"] == str(INSTITUTION)
    assert created["region_code"] == "350206"
    assert created["practitioner_id"] is None  # linking a practitioner: test_practitioner_link.py


async def test_institution_admin_cannot_create_staff_of_another_institution(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await client.post(
        USERS,
        json=body(Role.institution_staff, institution_id=str(OTHER_INSTITUTION)),
        headers=headers(tokens, Role.institution_admin),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "out_of_scope"


async def test_practitioner_id_only_for_staff(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.post(
        USERS,
        json=body(Role.county_admin, region_code="350206", practitioner_id=str(uuid.uuid4())),
        headers=headers(tokens, Role.city_admin),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "practitioner_not_allowed"


async def test_duplicate_username_is_409(client: httpx.AsyncClient, tokens: Tokens) -> None:
    data = body(Role.county_admin, region_code="350206", username="same_name")
    assert (await client.post(USERS, json=data, headers=headers(tokens, Role.city_admin))).status_code == 201
    again = await client.post(
        USERS, json={**data, "region_code": "350203"}, headers=headers(tokens, Role.city_admin)
    )
    assert again.status_code == 409
    assert again.json()["code"] == "username_taken"


@pytest.mark.parametrize("password", ["short1!", "alllowercaseletters", "Abcdefghij", "Xu_same_name_1"])
async def test_weak_password_is_422(password: str, client: httpx.AsyncClient, tokens: Tokens) -> None:
    data = body(Role.county_admin, region_code="350206", username="xu_same_name", password=password)
    response = await client.post(USERS, json=data, headers=headers(tokens, Role.city_admin))
    assert response.status_code == 422
    assert response.json()["code"] == "weak_password"


async def test_bad_username_is_a_validation_error(client: httpx.AsyncClient, tokens: Tokens) -> None:
    data = body(Role.county_admin, region_code="350206", username="Bad Name!")
    response = await client.post(USERS, json=data, headers=headers(tokens, Role.city_admin))
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


async def test_a_created_user_can_log_in(client: httpx.AsyncClient, tokens: Tokens) -> None:
    data = body(Role.county_admin, region_code="350206")
    await client.post(USERS, json=data, headers=headers(tokens, Role.city_admin))
    response = await login(client, data["username"], NEW_PASSWORD)
    assert response.status_code == 200


async def _population(app: FastAPI) -> dict[str, Any]:
    database = app.state.database
    return {
        "xm": await add_user(database, "l_xm_city", Role.city_admin, "350200"),
        "huli": await add_user(database, "l_huli", Role.county_admin, "350206"),
        "siming": await add_user(database, "l_siming", Role.county_admin, "350203"),
        "gulou": await add_user(database, "l_gulou", Role.county_admin, "350102"),
        "inst_admin": await add_user(
            database, "l_inst_admin", Role.institution_admin, "350206", institution_id=INSTITUTION
        ),
        "inst_staff": await add_user(
            database, "l_inst_staff", Role.institution_staff, "350206", institution_id=INSTITUTION
        ),
        "other_staff": await add_user(
            database, "l_other_staff", Role.institution_staff, "350206", institution_id=OTHER_INSTITUTION
        ),
    }


async def _usernames(client: httpx.AsyncClient, hdrs: dict[str, str], query: str = "") -> set[str]:
    response = await client.get(f"{USERS}?limit=200{query}", headers=hdrs)
    assert response.status_code == 200, response.text
    return {item["username"] for item in response.json()["items"] if item["username"].startswith("l_")}


async def test_lists_are_scoped_to_the_callers_region_or_institution(
    client: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    await _population(gateway_app)
    assert await _usernames(client, headers(tokens, Role.province_admin)) == {
        "l_xm_city", "l_huli", "l_siming", "l_gulou", "l_inst_admin", "l_inst_staff", "l_other_staff"
    }  # fmt: skip
    assert await _usernames(client, headers(tokens, Role.city_admin)) == {
        "l_xm_city", "l_huli", "l_siming", "l_inst_admin", "l_inst_staff", "l_other_staff"
    }  # fmt: skip
    assert await _usernames(client, headers(tokens, Role.county_admin)) == {
        "l_huli", "l_inst_admin", "l_inst_staff", "l_other_staff"
    }  # fmt: skip
    assert await _usernames(client, headers(tokens, Role.institution_admin)) == {
        "l_inst_admin",
        "l_inst_staff",
    }


async def test_lists_filter_and_paginate(
    client: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    await _population(gateway_app)
    hdrs = headers(tokens, Role.province_admin)
    assert await _usernames(client, hdrs, "&role=county_admin") == {"l_huli", "l_siming", "l_gulou"}
    assert await _usernames(client, hdrs, f"&institution_id={INSTITUTION}") == {
        "l_inst_admin",
        "l_inst_staff",
    }
    assert await _usernames(client, hdrs, "&region_code=350203") == {"l_siming"}
    seen: list[str] = []
    cursor: str | None = None
    while True:
        query = f"{USERS}?limit=2&role=county_admin" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(query, headers=hdrs)).json()
        seen += [item["username"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [name for name in seen if name.startswith("l_")] == ["l_gulou", "l_huli", "l_siming"]


async def test_reading_a_user_outside_ones_scope_is_404(
    client: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    people = await _population(gateway_app)
    response = await client.get(f"{USERS}/{people['gulou'].id}", headers=headers(tokens, Role.city_admin))
    assert response.status_code == 404
    assert response.json()["code"] == "user_not_found"
    mine = await client.get(f"{USERS}/{people['huli'].id}", headers=headers(tokens, Role.city_admin))
    assert mine.status_code == 200
    assert mine.headers["etag"] == '"1"'


async def test_patch_needs_if_match_and_rejects_a_stale_one(
    client: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    people = await _population(gateway_app)
    url = f"{USERS}/{people['huli'].id}"
    hdrs = headers(tokens, Role.city_admin)
    missing = await client.patch(url, json={"display_name": "新名字"}, headers=hdrs)
    assert missing.status_code == 428
    updated = await client.patch(url, json={"display_name": "新名字"}, headers={**hdrs, "If-Match": '"1"'})
    assert updated.status_code == 200, updated.text
    assert updated.json()["display_name"] == "新名字"
    assert updated.headers["etag"] == '"2"'
    stale = await client.patch(url, json={"display_name": "再改"}, headers={**hdrs, "If-Match": '"1"'})
    assert stale.status_code == 412


async def test_a_peer_cannot_be_changed(
    client: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    people = await _population(gateway_app)
    response = await client.patch(
        f"{USERS}/{people['huli'].id}",
        json={"display_name": "x"},
        headers={**headers(tokens, Role.county_admin), "If-Match": '"1"'},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "role_not_grantable"


async def test_institution_admin_cannot_change_another_institutions_staff(
    client: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    people = await _population(gateway_app)
    response = await client.patch(
        f"{USERS}/{people['other_staff'].id}",
        json={"display_name": "x"},
        headers={**headers(tokens, Role.institution_admin), "If-Match": '"1"'},
    )
    assert response.status_code == 404


async def test_password_reset_revokes_sessions_and_the_new_password_works(
    client: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    people = await _population(gateway_app)
    session = (await login(client, "l_huli", PASSWORD)).json()
    response = await client.patch(
        f"{USERS}/{people['huli'].id}",
        json={"password": NEW_PASSWORD},
        headers={**headers(tokens, Role.city_admin), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    refresh = await client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": session["refresh_token"]}
    )
    assert refresh.json()["code"] == "refresh_token_revoked"
    assert (await login(client, "l_huli", PASSWORD)).status_code == 401
    assert (await login(client, "l_huli", NEW_PASSWORD)).status_code == 200


async def test_deactivate_and_reactivate(
    client: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    people = await _population(gateway_app)
    url = f"{USERS}/{people['inst_staff'].id}"
    hdrs = headers(tokens, Role.institution_admin)
    session = (await login(client, "l_inst_staff", PASSWORD)).json()
    deactivated = await client.post(f"{url}/deactivate", headers={**hdrs, "If-Match": '"1"'})
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["active"] is False
    assert (await login(client, "l_inst_staff", PASSWORD)).json()["code"] == "account_disabled"
    refresh = await client.post(
        "/api/v1/auth/token", data={"grant_type": "refresh_token", "refresh_token": session["refresh_token"]}
    )
    assert refresh.status_code == 401
    again = await client.post(f"{url}/deactivate", headers={**hdrs, "If-Match": '"2"'})
    assert again.status_code == 409
    assert again.json()["code"] == "illegal_transition"
    assert again.json()["extra"]["allowed"] == ["reactivate"]
    reactivated = await client.post(f"{url}/reactivate", headers={**hdrs, "If-Match": '"2"'})
    assert reactivated.status_code == 200
    assert (await login(client, "l_inst_staff", PASSWORD)).status_code == 200


async def test_deactivate_needs_if_match(
    client: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    people = await _population(gateway_app)
    response = await client.post(
        f"{USERS}/{people['inst_staff'].id}/deactivate", headers=headers(tokens, Role.institution_admin)
    )
    assert response.status_code == 428


async def test_enums_list_roles_with_chinese_labels(client: httpx.AsyncClient) -> None:
    roles = {r["value"]: r["label"] for r in (await client.get("/api/v1/auth/enums")).json()["roles"]}
    assert roles["county_admin"] == "县（市、区）管理员"
    assert len(roles) == 7
