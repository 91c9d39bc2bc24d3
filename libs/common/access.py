"""Who may call what: the bearer-token dependency and role → permission policies.

Each service writes its policy as data (``Policy({Role.county_admin: {"institutions:write", ...}})``) and
declares permissions in route signatures::

    InstitutionsWrite = Annotated[Principal, Depends(POLICY.require("institutions:write"))]

Object-level scope (region, institution) is checked by :mod:`libs.common.scope`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from libs.common.auth import Principal, Role, TokenVerifier
from libs.common.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="网关签发的访问令牌 (ES256 JWT)")


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized(
            "缺少访问令牌", code="missing_token", headers={"WWW-Authenticate": 'Bearer realm="yiyang"'}
        )
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.verify(credentials.credentials)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


class Policy:
    """A role → permissions table; :meth:`require` turns one permission into a route dependency."""

    def __init__(self, grants: Mapping[Role, Iterable[str]]) -> None:
        self.grants = {role: frozenset(perms) for role, perms in grants.items()}

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset().union(*self.grants.values())

    def allows(self, role: Role, permission: str) -> bool:
        return permission in self.grants.get(role, frozenset())

    def require(self, permission: str) -> Callable[[Principal], Awaitable[Principal]]:
        if permission not in self.permissions:
            raise ValueError(f"permission {permission!r} is granted to no role")

        async def dependency(principal: CurrentPrincipal) -> Principal:
            if not self.allows(principal.role, permission):
                raise Forbidden(
                    f"角色「{principal.role.label}」无权执行此操作（{permission}）",
                    code="permission_denied",
                    extra={"permission": permission},
                )
            return principal

        dependency.__name__ = f"require_{permission.replace(':', '_').replace('-', '_')}"
        return dependency
