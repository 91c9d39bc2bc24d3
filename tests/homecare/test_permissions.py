"""Walks every cell of the role → permission table: each role either passes the permission check or
gets 403 permission_denied, exactly as the table says."""

from __future__ import annotations

import uuid

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from services.homecare.permissions import POLICY

X = uuid.uuid4()
HC = "/api/v1/homecare"

# permission → a request guarded by it (bodies empty: an allowed role fails later, never with 403 here)
PROBES: dict[str, tuple[str, str]] = {
    "catalog:read": ("GET", f"{HC}/catalog/versions"),
    "catalog:write": ("POST", f"{HC}/catalog/versions"),
    "providers:read": ("GET", f"{HC}/providers"),
    "providers:write": ("PUT", f"{HC}/providers/{X}"),
    "recipients:read": ("GET", f"{HC}/recipients"),
    "recipients:write": ("POST", f"{HC}/recipients"),
    "recipients:bulk": ("POST", f"{HC}/recipients/bulk"),
    "orders:read": ("GET", f"{HC}/orders"),
    "orders:place": ("POST", f"{HC}/orders"),
    "orders:bulk": ("POST", f"{HC}/orders/bulk"),
    "orders:assess": ("POST", f"{HC}/orders/{X}/assess"),
    "orders:decide": ("POST", f"{HC}/orders/{X}/accept"),
    "orders:visit": ("POST", f"{HC}/orders/{X}/depart"),
    "orders:complete": ("POST", f"{HC}/orders/{X}/complete"),
    "orders:cancel": ("POST", f"{HC}/orders/{X}/cancel"),
    "orders:rate": ("POST", f"{HC}/orders/{X}/rate"),
    "orders:incident": ("POST", f"{HC}/orders/{X}/incident"),
    "sos:raise": ("POST", f"{HC}/orders/{X}/sos"),
    "sos:read": ("GET", f"{HC}/sos"),
    "sos:resolve": ("POST", f"{HC}/sos/{X}/resolve"),
    "complaints:read": ("GET", f"{HC}/complaints"),
    "complaints:write": ("POST", f"{HC}/orders/{X}/complaints"),
    "complaints:resolve": ("POST", f"{HC}/complaints/{X}/resolve"),
    "home_beds:read": ("GET", f"{HC}/home-beds"),
    "home_beds:write": ("POST", f"{HC}/home-beds"),
    "reports:read": ("GET", f"{HC}/reports/orders"),
    "assignments:read": ("GET", f"{HC}/my/assignments"),
    "changes:read": ("GET", f"{HC}/changes"),
}


def test_every_permission_has_a_probe() -> None:
    assert set(PROBES) == set(POLICY.permissions)


@pytest.mark.parametrize("role", list(Role))
async def test_role_permission_cells(client: httpx.AsyncClient, tokens: Tokens, role: Role) -> None:
    region = {Role.city_admin: "350200", Role.city_platform: "350200", Role.county_admin: "350206"}.get(
        role, "350000"
    )
    institution = uuid.uuid4() if role in (Role.institution_admin, Role.institution_staff) else None
    headers = tokens.headers(role, region, institution_id=institution, practitioner_id=uuid.uuid4())
    for permission, (method, path) in PROBES.items():
        body: dict[str, object] | None = None if method == "GET" else {}
        response = await client.request(method, path, json=body, headers=headers)
        denied = response.status_code == 403 and response.json().get("code") == "permission_denied"
        assert denied is not POLICY.allows(role, permission), (
            role,
            permission,
            response.status_code,
            response.text,
        )


async def test_no_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{HC}/orders")
    assert response.status_code == 401
