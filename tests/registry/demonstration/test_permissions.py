"""The 示范 cells of the registry's role → permission table, walked one by one over HTTP."""

from __future__ import annotations

import uuid

import pytest

from libs.common.auth import Role
from services.registry.permissions import POLICY
from tests.registry.demonstration.flow import APPLICATIONS, BATCHES, Flow

GRANTS = {
    Role.province_admin: {
        "demonstration:read",
        "demonstration:batches",
        "demonstration:review",
        "demonstration:province-review",
        "demonstration:summaries",
    },
    Role.city_admin: {
        "demonstration:read",
        "demonstration:review",
        "demonstration:city-review",
        "demonstration:summaries",
    },
    Role.county_admin: {
        "demonstration:read",
        "demonstration:apply",
        "demonstration:review",
        "demonstration:county-review",
    },
    Role.institution_admin: {"demonstration:read", "demonstration:apply"},
    Role.institution_staff: {"demonstration:read"},
    Role.city_platform: {"demonstration:read"},
    Role.service: {"demonstration:read"},
}
PERMISSIONS = sorted({p for perms in GRANTS.values() for p in perms})
SOMEONE = uuid.uuid4()
# one endpoint guarded by each permission: (method, path, json body)
ENDPOINTS: dict[str, tuple[str, str, dict[str, object] | None]] = {
    "demonstration:read": ("GET", BATCHES, None),
    "demonstration:batches": ("POST", BATCHES, {}),
    "demonstration:apply": ("POST", APPLICATIONS, {}),
    "demonstration:review": ("POST", f"{APPLICATIONS}/{SOMEONE}/return", {"reason": "退回理由"}),
    "demonstration:county-review": (
        "POST",
        f"{APPLICATIONS}/{SOMEONE}/county-recommend",
        {"opinion": "同意"},
    ),
    "demonstration:city-review": ("POST", f"{APPLICATIONS}/{SOMEONE}/city-recommend", {"opinion": "同意"}),
    "demonstration:province-review": (
        "POST",
        f"{APPLICATIONS}/{SOMEONE}/province-approve",
        {"reasons": "同意"},
    ),
    "demonstration:summaries": (
        "GET",
        f"{BATCHES}/{SOMEONE}/recommendation-summary?level=city&kind=county&city_code=350200",
        None,
    ),
}


def test_the_table_in_code_is_the_specified_one() -> None:
    for role in Role:
        granted = {p for p in POLICY.grants.get(role, frozenset()) if p.startswith("demonstration:")}
        assert granted == GRANTS[role], role


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", PERMISSIONS)
async def test_every_cell(flow: Flow, role: Role, permission: str) -> None:
    method, path, body = ENDPOINTS[permission]
    region = "350200" if role in (Role.city_admin, Role.city_platform) else "350206"
    if role in (Role.province_admin, Role.service):
        region = "350000"
    headers = flow.tokens.headers(
        role, region, institution_id=uuid.uuid4() if role.value.startswith("institution") else None
    )
    response = await flow.client.request(method, path, json=body, headers=headers)
    denied = response.status_code == 403 and response.json().get("code") == "permission_denied"
    assert denied is (permission not in GRANTS[role]), response.text


TRANSITION_PERMISSION = {
    "submit": "demonstration:apply",
    "county-recommend": "demonstration:county-review",
    "city-recommend": "demonstration:city-review",
    "province-approve": "demonstration:province-review",
    "send-to-nation": "demonstration:province-review",
    "national-result": "demonstration:province-review",
    "name": "demonstration:province-review",
    "reassess": "demonstration:province-review",
    "revoke": "demonstration:province-review",
    "return": "demonstration:review",
    "decline": "demonstration:review",
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(TRANSITION_PERMISSION))
async def test_every_transition_endpoint_refuses_roles_without_its_permission(
    flow: Flow, role: Role, action: str
) -> None:
    """Whatever the application and its state: the permission is checked before anything is loaded."""
    headers = flow.tokens.headers(role, "350000" if role in (Role.province_admin, Role.service) else "350206")
    response = await flow.client.post(
        f"{APPLICATIONS}/{uuid.uuid4()}/{action}", json={}, headers={**headers, "If-Match": '"1"'}
    )
    denied = response.status_code == 403 and response.json().get("code") == "permission_denied"
    assert denied is (TRANSITION_PERMISSION[action] not in GRANTS[role]), response.text
