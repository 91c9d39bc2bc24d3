"""Who may do what in the registry: the role → permission table (walked cell by cell by a test)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from libs.common.access import Policy
from libs.common.auth import Principal, Role

POLICY = Policy(
    {
        Role.province_admin: {"institutions:read", "changes:read"},
        Role.city_admin: {"institutions:read", "changes:read"},
        Role.county_admin: {"institutions:read", "institutions:write", "changes:read"},
        Role.institution_admin: {"institutions:read"},
        Role.institution_staff: {"institutions:read"},
        Role.city_platform: {"institutions:read", "changes:read"},
        Role.service: {"institutions:read", "changes:read"},
    }
)

InstitutionsRead = Annotated[Principal, Depends(POLICY.require("institutions:read"))]
InstitutionsWrite = Annotated[Principal, Depends(POLICY.require("institutions:write"))]
ChangesRead = POLICY.require("changes:read")
