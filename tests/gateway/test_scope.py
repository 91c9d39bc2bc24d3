"""The gateway's users kept to the caller's scope (README "User scope rules": users see and manage users in
their region, city ⊃ counties ⊃ institutions; institution admins their institution's): a user of a 湖里
(350206) institution is invisible to an official of another county (思明) or city (福州) and to another
institution's admin — GET, PATCH, deactivate and reactivate answer 404 (root README: a write to a record the
caller cannot see is not answered 403). Each list shows a viewer only the users of its region / institution
(one user in 湖里, one in 思明, one in 福州 仓山; viewers in ``tests/scope_matrix.py``).

API clients are the province's alone (its scope is all of Fujian): only the access table matters for them.
Table-driven: a by-id endpoint or a list without a row fails.
"""

from __future__ import annotations

import itertools
import uuid

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.access_matrix import allowed_roles
from tests.gateway.conftest import add_user
from tests.gateway.test_access_matrix import MATRIX
from tests.scope_matrix import (
    HULI,
    REGIONS,
    assert_lists_keep_to_scope,
    assert_outsiders_get_404,
    by_id_operations,
    example_body,
    paged_lists,
)

A = "/api/v1/auth"
USER = "/users/{user_id}"
RECORD_OF = {
    ("GET", USER): "user",
    ("PATCH", USER): "user",
    ("POST", f"{USER}/deactivate"): "user",
    ("POST", f"{USER}/reactivate"): "user",
}
#: by-id endpoints only the province may call: no caller is outside its scope
PROVINCE_ONLY = {
    ("GET", "/clients/{client_id}"),
    ("POST", "/clients/{client_id}/revoke"),
    ("POST", "/clients/{client_id}/rotate-secret"),
}
#: lists kept out of the list test, with the reason
ELSEWHERE = {"/clients": "only the province lists API clients (all of Fujian)"}
_serial = itertools.count(1)


def test_every_by_id_endpoint_has_a_row() -> None:
    assert by_id_operations(MATRIX, A) == set(RECORD_OF) | PROVINCE_ONLY
    for method, path in PROVINCE_ONLY:
        assert allowed_roles(MATRIX, (method, A + path)) == [Role.province_admin]


def test_every_list_has_a_row(gateway_app: FastAPI) -> None:
    assert paged_lists(gateway_app, A) == {"/users"} | set(ELSEWHERE)


async def _staff_of_an_institution(app: FastAPI, region: str) -> tuple[str, uuid.UUID]:
    """A staff user of a made-up institution in ``region``: (user id, institution id)."""
    institution = uuid.uuid4()
    user = await add_user(
        app.state.database,
        f"scope_staff_{next(_serial)}_{uuid.uuid4().hex[:6]}",
        Role.institution_staff,
        region,
        institution_id=institution,
    )
    return str(user.id), institution


@pytest.mark.parametrize(
    ("method", "path"), sorted(RECORD_OF), ids=[f"{m} {p}" for m, p in sorted(RECORD_OF)]
)
async def test_a_user_of_another_region_or_institution_is_out_of_reach(
    client: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens, method: str, path: str
) -> None:
    user_id, _ = await _staff_of_an_institution(gateway_app, HULI)
    url = A + path.format(user_id=user_id)
    body = example_body(gateway_app, method, A + path)
    tried = await assert_outsiders_get_404(client, tokens, MATRIX[(method, A + path)], method, url, json=body)
    assert tried, "no outsider may call this endpoint at all: drop the row"
    if method == "GET":
        seen = await client.get(url, headers=tokens.headers(Role.province_admin, "350000"))
        assert seen.status_code == 200, seen.text


async def test_the_user_list_shows_only_the_callers_scope(
    client: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    records: dict[str, str] = {}
    institution: dict[str, str] = {}
    for label, region in REGIONS.items():
        user_id, institution_id = await _staff_of_an_institution(gateway_app, region)
        records[label] = user_id
        if label == "huli":
            institution = {"id": str(institution_id), "region_code": region}
    row = MATRIX[("GET", f"{A}/users")]
    await assert_lists_keep_to_scope(client, tokens, row, f"{A}/users", records, institution)
