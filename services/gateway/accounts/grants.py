"""Who may create (and then manage) which users: each level creates the level below, in its own scope.

    province_admin    → city_admin         (region: a city-level unit: a city, or 平潭 350128)
    city_admin        → county_admin       (region: a county in the city; 福州 does not include 平潭)
    county_admin      → institution_admin  (an institution the registry places in the county)
    institution_admin → institution_staff  (of its own institution; optionally a practitioner)

Nobody creates a user at or above their own level, or outside their scope.
"""

from __future__ import annotations

from libs.common import divisions
from libs.common.auth import Principal, Role
from services.gateway.accounts.errors import InvalidUserField, OutOfScope, RoleNotGrantable
from services.gateway.accounts.models import User

GRANTABLE: dict[Role, frozenset[Role]] = {
    Role.province_admin: frozenset({Role.city_admin}),
    Role.city_admin: frozenset({Role.county_admin}),
    Role.county_admin: frozenset({Role.institution_admin}),
    Role.institution_admin: frozenset({Role.institution_staff}),
}
USER_ROLES = (
    Role.province_admin,
    Role.city_admin,
    Role.county_admin,
    Role.institution_admin,
    Role.institution_staff,
)


def ensure_grantable(actor: Principal, role: Role) -> None:
    grantable = GRANTABLE.get(actor.role, frozenset())
    if role not in grantable:
        raise RoleNotGrantable(actor.role, role, grantable)


def ensure_region_level(role: Role, region_code: str | None) -> str:
    """The region of a new city or county admin must be a real Fujian code of the right level."""
    if region_code is None:
        raise InvalidUserField("region_code", "该角色必须指定行政区划代码", code="region_required")
    division = divisions.get(region_code)
    if role is Role.city_admin and (division is None or not division.is_city_unit):
        raise InvalidUserField(
            "region_code",
            "设区市管理员的行政区划须为福建省的设区市（或平潭综合实验区 350128）",
            code="invalid_region",
        )
    if role is Role.county_admin and (
        division is None or division.level is not divisions.DivisionLevel.county
    ):
        raise InvalidUserField(
            "region_code", "县级管理员的行政区划须为福建省的县级行政区划", code="invalid_region"
        )
    return region_code


def ensure_region_in_scope(actor: Principal, region_code: str) -> None:
    if not actor.scope.contains(region_code):
        raise OutOfScope("该行政区划")


def ensure_manages(actor: Principal, user: User) -> None:
    """May ``actor`` change ``user``? Only the level that creates it, within scope (403 otherwise)."""
    ensure_grantable(actor, Role(user.role))
    if actor.is_institution_user:
        if user.institution_id is None or user.institution_id != actor.institution_id:
            raise OutOfScope("该用户")
    elif not actor.scope.contains(user.region_code):
        raise OutOfScope("该用户")
