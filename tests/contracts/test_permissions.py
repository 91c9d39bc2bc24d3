"""Walks every cell of the role → permission table (services/contracts/permissions.py)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from services.contracts.permissions import POLICY

BASE = "/api/v1/contracts"
MISSING = uuid.uuid4()
REGIONS = {
    Role.province_admin: "350000",
    Role.city_admin: "350200",
    Role.county_admin: "350206",
    Role.institution_admin: "350206",
    Role.institution_staff: "350206",
    Role.city_platform: "350200",
    Role.service: "350000",
}
Probe = Callable[[httpx.AsyncClient, dict[str, str]], Awaitable[httpx.Response]]
IF_MATCH = {"If-Match": '"1"'}
PERIOD = {"period_start": "2026-01-01", "period_end": "2026-01-31"}

# permission → a request that needs exactly that permission (answers something other than 403 when held)
PROBES: dict[str, Probe] = {
    "agreements:read": lambda c, h: c.get(f"{BASE}/agreements", headers=h),
    "agreements:write": lambda c, h: c.post(f"{BASE}/agreements", json={}, headers=h),
    "agreements:file": lambda c, h: c.post(
        f"{BASE}/agreements/{MISSING}/file", json={}, headers={**h, **IF_MATCH}
    ),
    "agreements:bulk": lambda c, h: c.post(f"{BASE}/agreements/bulk", json={}, headers=h),
    "visits:read": lambda c, h: c.get(f"{BASE}/agreements/{MISSING}/visits", headers=h),
    "visits:write": lambda c, h: c.post(f"{BASE}/agreements/{MISSING}/visits", json={}, headers=h),
    "referrals:read": lambda c, h: c.get(f"{BASE}/referrals", headers=h),
    "referrals:write": lambda c, h: c.post(f"{BASE}/referrals", json={}, headers=h),
    "reports:read": lambda c, h: c.get(f"{BASE}/visits/shortfall", params=PERIOD, headers=h),
    "coverage:read": lambda c, h: c.get(f"{BASE}/coverage", headers=h),
    "changes:read": lambda c, h: c.get(f"{BASE}/changes", headers=h),
}


def test_every_permission_has_a_probe() -> None:
    assert set(PROBES) == set(POLICY.permissions)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", sorted(PROBES))
async def test_permission_table_cell(
    client: httpx.AsyncClient, tokens: Tokens, role: Role, permission: str
) -> None:
    institution = uuid.uuid4() if role in (Role.institution_admin, Role.institution_staff) else None
    headers = tokens.headers(role, REGIONS[role], institution_id=institution)
    response = await PROBES[permission](client, headers)
    if POLICY.allows(role, permission):
        assert response.status_code != 403, response.text
        assert response.status_code < 500, response.text
    else:
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
