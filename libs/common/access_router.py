"""``GET /api/v1/{service}/access/me``: what the caller may do in this service (issue 15).

Every service mounts one, built from its own :class:`~libs.common.access.Policy`, so that the answer is
the very table its routes check (``Policy.require``) — never a copy. The gateway's ``/api/v1/auth/me``
asks the four services for it with the caller's own token and lists the union, each permission prefixed
with its service (``registry:institutions:update``); the console shows a menu or a button only when the
permission is there. Object-level scope (region, own institution) still applies on every call.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from libs.common.access import CurrentPrincipal, Policy
from libs.common.errors import problem_responses


class AccessRead(BaseModel):
    service: str = Field(examples=["registry"])
    role: str = Field(examples=["county_admin"])
    permissions: list[str] = Field(
        description="调用者在本服务拥有的权限（按字母排序）；对象级范围（辖区、本机构）仍逐次检查",
        examples=[["institutions:create", "institutions:read", "institutions:update"]],
    )


def access_router(service: str, policy: Policy) -> APIRouter:
    """The ``access/me`` route of ``service``, answering from ``policy``."""
    router = APIRouter(prefix=f"/api/v1/{service}/access", tags=["access"])

    @router.get(
        "/me",
        summary="当前调用者在本服务的权限",
        operation_id=f"{service}_access_me",
        response_model=AccessRead,
        responses=problem_responses(401),
    )
    async def access_me(principal: CurrentPrincipal) -> AccessRead:
        return AccessRead(
            service=service, role=principal.role.value, permissions=sorted(policy.granted(principal))
        )

    return router
