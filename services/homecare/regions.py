"""The one rule for the county a recipient or an order is recorded in — single writes and the city
platforms' bulk writes call the same function.

The county (``region_code``) decides who sees the record: the county, city and province officials and
the city platform whose scope holds it. So:

- an institution user records in its institution's county (the provider's ``region_code``). The domain
  rules name no case in which an institution serves an elder registered in another county, and a record
  placed elsewhere would leave the view of the institution's own supervisors;
- a city platform records anywhere in its city (平潭 counts as a city);
- the province admin records anywhere in the province, through the bulk and historical-import paths only
  (the permission table gives it no single write);
- nobody else writes recipients or orders (the permission table), so anyone else is refused.
"""

from __future__ import annotations

from libs.common.auth import Principal, Role
from libs.common.errors import Forbidden


class RegionNotAllowed(Forbidden):
    default_code = "out_of_scope"


def region_error(
    principal: Principal, region_code: str, *, institution_region: str | None, what: str
) -> RegionNotAllowed | None:
    """Why ``principal`` may not record ``what`` in ``region_code``, or None when it may.

    ``institution_region`` is the county of the serving institution (the provider) when the writer is
    one of its users.
    """
    if principal.is_institution_user:
        if institution_region is None or region_code != institution_region:
            return RegionNotAllowed(
                f"{what}的县级区划须为本机构所在县（区）{institution_region or ''}",
                code="region_not_institution_county",
            )
        return None
    if principal.role in (Role.city_platform, Role.province_admin) and principal.scope.contains(region_code):
        return None
    return RegionNotAllowed(f"{what}不在您的管辖范围内")


def ensure_region_allowed(
    principal: Principal, region_code: str, *, institution_region: str | None, what: str
) -> None:
    error = region_error(principal, region_code, institution_region=institution_region, what=what)
    if error is not None:
        raise error
