"""The role → permission table (ARCHITECTURE.md "Auth": a table in code, permissions as route
dependencies) and its per-caller narrowing of the ``service`` row, tested on :class:`Policy` itself."""

from __future__ import annotations

import pytest

from libs.common.access import Policy
from libs.common.auth import Principal, Role, service_principal
from libs.common.errors import Forbidden

POLICY = Policy(
    {
        Role.province_admin: {"beds:read", "beds:write"},
        Role.county_admin: {"beds:read"},
        Role.service: {"beds:read", "beds:write", "beds:sync"},
    },
    service_callers={"contracts": {"beds:read"}},
)


def _user(role: Role) -> Principal:
    return Principal(sub=f"user:{role}", role=role, region_code="350206")


def test_a_role_has_exactly_the_permissions_of_its_row() -> None:
    assert POLICY.allows(Role.province_admin, "beds:write")
    assert POLICY.allows(Role.county_admin, "beds:read")
    assert not POLICY.allows(Role.county_admin, "beds:write")
    assert not POLICY.allows(Role.city_admin, "beds:read")  # a role without a row has nothing
    assert POLICY.permissions == {"beds:read", "beds:write", "beds:sync"}


def test_a_named_service_caller_gets_only_its_own_set() -> None:
    contracts = service_principal("contracts")
    assert POLICY.permits(contracts, "beds:read")
    assert not POLICY.permits(contracts, "beds:write")
    assert not POLICY.permits(contracts, "beds:sync")


def test_a_service_caller_not_named_gets_the_service_row() -> None:
    homecare = service_principal("homecare")
    assert POLICY.permits(homecare, "beds:sync")
    assert POLICY.permits(homecare, "beds:write")


def test_a_user_whose_sub_looks_like_a_service_is_judged_by_its_role() -> None:
    impostor = Principal(sub="service:contracts", role=Role.province_admin, region_code="350000")
    assert POLICY.permits(impostor, "beds:write")
    county = Principal(sub="service:contracts", role=Role.county_admin, region_code="350206")
    assert not POLICY.permits(county, "beds:write")


def test_a_service_caller_may_not_be_granted_beyond_the_service_row() -> None:
    with pytest.raises(ValueError, match="beyond the service row"):
        Policy({Role.service: {"beds:read"}}, service_callers={"contracts": {"beds:read", "beds:write"}})
    Policy({Role.service: {"beds:read"}}, service_callers={"contracts": {"beds:read"}})
    with pytest.raises(ValueError, match="beyond the service row"):
        Policy({Role.province_admin: {"beds:read"}}, service_callers={"contracts": {"beds:read"}})


def test_requiring_a_permission_no_role_has_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="granted to no role"):
        POLICY.require("beds:delete")


async def test_the_dependency_passes_the_principal_or_answers_403_permission_denied() -> None:
    dependency = POLICY.require("beds:write")
    assert dependency.__name__ == "require_beds_write"
    province = _user(Role.province_admin)
    assert await dependency(province) is province
    with pytest.raises(Forbidden) as denied:
        await dependency(_user(Role.county_admin))
    assert (denied.value.status, denied.value.code) == (403, "permission_denied")
    assert denied.value.extra == {"permission": "beds:write"}
    assert Role.county_admin.label in denied.value.detail
    with pytest.raises(Forbidden):
        await dependency(service_principal("contracts"))
    assert Policy({Role.service: {"a-b:c-d"}}).require("a-b:c-d").__name__ == "require_a_b_c_d"
