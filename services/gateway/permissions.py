"""Who may do what at the gateway: the role → permission table (walked cell by cell by a test).

Which roles a user may *create* is a second table, :data:`services.gateway.accounts.grants.GRANTABLE`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from libs.common.access import Policy
from libs.common.auth import Principal, Role

POLICY = Policy(
    {
        Role.province_admin: {"users:read", "users:write", "clients:read", "clients:write"},
        Role.city_admin: {"users:read", "users:write"},
        Role.county_admin: {"users:read", "users:write"},
        Role.institution_admin: {"users:read", "users:write"},
        Role.institution_staff: set(),
        Role.city_platform: set(),
        Role.service: set(),
    }
)

UsersRead = Annotated[Principal, Depends(POLICY.require("users:read"))]
UsersWrite = Annotated[Principal, Depends(POLICY.require("users:write"))]
ClientsRead = Annotated[Principal, Depends(POLICY.require("clients:read"))]
ClientsWrite = Annotated[Principal, Depends(POLICY.require("clients:write"))]
