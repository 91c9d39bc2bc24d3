"""Who may do what in indicators: the role → permission table (walked cell by cell by a test).

- ``status:read`` — the followers' state (cursor, lag, last error). It shows no record, only how fresh
  the read model is, so every official whose reports come from it may read it; institution users and
  city platforms have no use for it.
- ``reports:read`` — the reports (part B, issue 13): officials read their region (the province all, a
  city its own and its counties, a county itself), a city platform its city, an institution user its own
  institution's contribution; the scope is applied to each query (libs/common/scope.py).
- ``reference:read`` — the population and target tables (``reference/``): officials read them in their
  scope (a county its own population rows and the targets that apply to it: the province's, its city's,
  its own, "each county" ones of a region containing it); institution users and city platforms do not.
- ``reference:write`` — loading a new version of a table: province admins only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from libs.common.access import Policy
from libs.common.auth import Principal, Role

_OFFICIALS = {"status:read", "reports:read", "reference:read"}

POLICY = Policy(
    {
        Role.province_admin: _OFFICIALS | {"reference:write"},
        Role.city_admin: _OFFICIALS,
        Role.county_admin: _OFFICIALS,
        Role.institution_admin: {"reports:read"},
        Role.institution_staff: set(),
        Role.city_platform: {"reports:read"},
        Role.service: set(),
    }
)

StatusRead = Annotated[Principal, Depends(POLICY.require("status:read"))]
ReferenceRead = Annotated[Principal, Depends(POLICY.require("reference:read"))]
ReferenceWrite = Annotated[Principal, Depends(POLICY.require("reference:write"))]
