"""Walks every cell of the registry's role → permission table through the real routes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from services.registry.permissions import POLICY

ANY = uuid.uuid4()
INST = "/api/v1/registry/institutions"
# One route guarded by each permission, called with a body or id that cannot succeed (nothing is written).
ROUTES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "institutions:read": ("GET", INST, {}),
    "institutions:create": ("POST", INST, {"json": {}}),
    "institutions:update": ("PATCH", f"{INST}/{ANY}", {"json": {}}),
    "institutions:deactivate": ("POST", f"{INST}/{ANY}/deactivate", {}),
    "institutions:history": ("GET", f"{INST}/{ANY}/history", {}),
    "institutions:import": ("POST", f"{INST}/import", {}),
    "institutions:export": ("GET", f"{INST}/export", {"params": {"format": "pdf"}}),
    "institutions:bulk_upsert": ("POST", f"{INST}/bulk", {"json": {}}),
    "year_stats:read": ("GET", f"{INST}/{ANY}/year-stats", {}),
    "year_stats:write": ("PUT", f"{INST}/{ANY}/year-stats/2024", {"json": {}}),
    "filings:read": ("GET", "/api/v1/registry/filings", {}),
    "filings:submit": ("POST", "/api/v1/registry/filings", {"json": {}}),
    "filings:review": ("POST", f"/api/v1/registry/filings/{ANY}/revoke", {"json": {}}),
    "practitioners:read": ("GET", "/api/v1/registry/practitioners", {}),
    "practitioners:write": ("POST", "/api/v1/registry/practitioners", {"json": {}}),
    "stats:read": ("GET", "/api/v1/registry/stats", {}),
    "changes:read": ("GET", "/api/v1/registry/changes", {}),
}
REGION = {
    Role.province_admin: "350000",
    Role.city_admin: "350200",
    Role.county_admin: "350206",
    Role.institution_admin: "350206",
    Role.institution_staff: "350206",
    Role.city_platform: "350200",
    Role.service: "350000",
}


def test_every_route_permission_is_in_the_table() -> None:
    assert set(ROUTES) <= POLICY.permissions


@pytest.mark.parametrize("permission", sorted(ROUTES))
@pytest.mark.parametrize("role", list(Role))
async def test_permission_cell(
    client: httpx.AsyncClient, tokens: Tokens, role: Role, permission: str
) -> None:
    method, path, kwargs = ROUTES[permission]
    institution_id = uuid.uuid4() if role in (Role.institution_admin, Role.institution_staff) else None
    headers = tokens.headers(role, REGION[role], institution_id=institution_id)
    response = await client.request(method, path, headers=headers, **kwargs)
    denied = response.status_code == 403 and response.json().get("code") == "permission_denied"
    assert denied is not POLICY.allows(role, permission), (
        role,
        permission,
        response.status_code,
        response.text,
    )


async def test_no_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get(INST)
    assert response.status_code == 401
