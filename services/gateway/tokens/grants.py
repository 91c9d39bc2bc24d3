"""The caller's permission codes for ``/api/v1/auth/me`` (issue 15): the gateway's own, from its POLICY,
and each service's, asked of the service itself.

The gateway does not import the services (import-linter), and a copy of their tables would drift. So each
service answers ``GET /api/v1/{service}/access/me`` from its own POLICY (libs/common/access_router.py),
and this module asks the four at once, through the gateway's pooled upstream client, with the caller's
own bearer token — each service verifies it and answers for that very principal. A service that does not
answer in time, or answers anything but 200 with a list, is left out (a warning in the log): ``/me``
still answers, with the permissions it could learn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from libs.common.auth import Principal
from libs.common.request_context import REQUEST_ID_HEADER, current_request_id
from services.gateway.permissions import POLICY

log = logging.getLogger("services.gateway.tokens.grants")

#: a slow service must not hold the console's start-up for long
TIMEOUT_SECONDS = 3.0


class _Access(BaseModel):
    """The one field read from a service's answer (tolerant reader)."""

    model_config = ConfigDict(extra="ignore")

    permissions: list[str]


def _prefixed(service: str, permissions: list[str] | frozenset[str]) -> list[str]:
    return [f"{service}:{permission}" for permission in permissions]


async def _of_service(http: httpx.AsyncClient, service: str, base_url: str, token: str) -> list[str] | None:
    headers = {"Authorization": f"Bearer {token}"}
    request_id = current_request_id()
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    try:
        response = await http.get(
            f"{base_url}/api/v1/{service}/access/me", headers=headers, timeout=TIMEOUT_SECONDS
        )
    except httpx.HTTPError as exc:
        log.warning(
            "permissions of a service unavailable",
            extra={"upstream": service, "error_class": type(exc).__name__},
        )
        return None
    if response.status_code != 200:
        log.warning(
            "permissions of a service refused",
            extra={"upstream": service, "status_code": response.status_code},
        )
        return None
    try:
        access = _Access.model_validate_json(response.content)
    except ValidationError:
        log.warning("permissions of a service unreadable", extra={"upstream": service})
        return None
    return _prefixed(service, access.permissions)


async def permissions(
    principal: Principal, token: str, *, http: httpx.AsyncClient, upstreams: Mapping[str, str]
) -> list[str]:
    """``<service>:<permission>`` for the gateway and every service of ``upstreams`` (name → base URL)
    that answered, sorted."""
    answers = await asyncio.gather(
        *(_of_service(http, service, base_url, token) for service, base_url in upstreams.items())
    )
    found = _prefixed("gateway", POLICY.granted(principal))
    for answer in answers:
        found.extend(answer or ())
    return sorted(found)
