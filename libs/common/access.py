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

from libs.common.auth import Principal, Role, TokenVerifier, service_caller
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
    # A service token is accepted only by the service it names as its audience.
    principal = await verified_principal(request, credentials.credentials)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def bearer_token(request: Request) -> str | None:
    """The bearer token as :func:`get_principal` reads it (``None`` where it would answer 401)."""
    authorization = request.headers.get("authorization")
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def verified_principal(request: Request, token: str) -> Principal:
    """The token's principal, verified as :func:`get_principal` verifies it (raises as it does)."""
    verifier: TokenVerifier = request.app.state.verifier
    service = getattr(getattr(request.app.state, "settings", None), "service_name", None)
    return await verifier.verify(token, service=service)


class Policy:
    """A role → permissions table; :meth:`require` turns one permission into a route dependency.

    ``service_callers`` narrows the ``service`` row per calling service (``sub`` = ``service:<id>``):
    a caller named there gets only its own set, which must lie within the row. Callers not named
    there get the row (the gateway issues service tokens only to configured clients).
    """

    def __init__(
        self,
        grants: Mapping[Role, Iterable[str]],
        *,
        service_callers: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.grants = {role: frozenset(perms) for role, perms in grants.items()}
        self.service_callers = {caller: frozenset(p) for caller, p in (service_callers or {}).items()}
        service_row = self.grants.get(Role.service, frozenset())
        for caller, perms in self.service_callers.items():
            if not perms <= service_row:
                raise ValueError(
                    f"service caller {caller!r} granted beyond the service row: {perms - service_row}"
                )

    def granted(self, principal: Principal) -> frozenset[str]:
        """What this principal may do: its role's row, or a named service caller's own set."""
        caller = service_caller(principal)
        if caller is not None and caller in self.service_callers:
            return self.service_callers[caller]
        return self.grants.get(principal.role, frozenset())

    def permits(self, principal: Principal, permission: str) -> bool:
        """``allows`` for this principal (a service caller's own grants)."""
        return permission in self.granted(principal)

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset().union(*self.grants.values())

    def allows(self, role: Role, permission: str) -> bool:
        return permission in self.grants.get(role, frozenset())

    def require(self, permission: str) -> Callable[[Principal], Awaitable[Principal]]:
        if permission not in self.permissions:
            raise ValueError(f"permission {permission!r} is granted to no role")

        async def dependency(principal: CurrentPrincipal) -> Principal:
            if not self.permits(principal, permission):
                raise Forbidden(
                    f"角色「{principal.role.label}」无权执行此操作（{permission}）",
                    code="permission_denied",
                    extra={"permission": permission},
                )
            return principal

        dependency.__name__ = f"require_{permission.replace(':', '_').replace('-', '_')}"
        _REQUIREMENTS[dependency] = (self, permission)
        return dependency


#: each dependency made by :meth:`Policy.require`: its policy and permission (made at import, a few dozen)
_REQUIREMENTS: dict[Callable[..., object], tuple[Policy, str]] = {}


def requirement_of(call: Callable[..., object] | None) -> tuple[Policy, str] | None:
    """The policy and permission a dependency made by :meth:`Policy.require` checks, else ``None``."""
    return _REQUIREMENTS.get(call) if call is not None else None
