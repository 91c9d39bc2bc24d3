"""Walks every cell of the gateway's role → permission table: allowed, or 403 ``permission_denied``."""

from __future__ import annotations

import uuid

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from services.gateway.permissions import POLICY

# One request per permission; allowed callers get past the permission check (the body is empty, so
# writes then fail validation with 422 — anything but the permission's 403).
REQUESTS = {
    "users:read": ("GET", "/api/v1/auth/users"),
    "users:write": ("POST", "/api/v1/auth/users"),
    "clients:read": ("GET", "/api/v1/auth/clients"),
    "clients:write": ("POST", "/api/v1/auth/clients"),
}

REGIONS = {
    Role.city_admin: "350200",
    Role.county_admin: "350206",
    Role.institution_admin: "350206",
    Role.institution_staff: "350206",
    Role.city_platform: "350200",
}
INSTITUTIONS = {
    Role.institution_admin: {"institution_id": uuid.uuid4()},
    Role.institution_staff: {"institution_id": uuid.uuid4()},
}


def test_every_permission_has_a_request() -> None:
    assert set(REQUESTS) == POLICY.permissions


@pytest.mark.parametrize("permission", sorted(REQUESTS))
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
async def test_permission_cell(
    role: Role, permission: str, client: httpx.AsyncClient, tokens: Tokens
) -> None:
    method, path = REQUESTS[permission]
    hdrs = tokens.headers(role, REGIONS.get(role, "350000"), **INSTITUTIONS.get(role, {}))
    response = await client.request(method, path, headers=hdrs, json={} if method == "POST" else None)
    if POLICY.allows(role, permission):
        assert response.status_code in (200, 422), response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "permission_denied"
