from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import unquote_plus

from fastapi import Depends, Request
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from starlette.requests import HTTPConnection

from libs.common.auth import TokenIssuer
from libs.common.database import Database
from services.gateway.settings import GatewaySettings
from services.gateway.tokens.errors import InvalidClient
from services.gateway.tokens.service import GrantContext


class _ClientBasic(HTTPBasic):
    """``client_secret_basic`` (RFC 6749 §2.3.1); a malformed header is an ``invalid_client``."""

    async def __call__(self, request: HTTPConnection) -> HTTPBasicCredentials | None:  # type: ignore[override]
        scheme, _, param = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            raw = base64.b64decode(param.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidClient() from exc
        client_id, separator, secret = raw.partition(":")
        if not separator:
            raise InvalidClient()
        return HTTPBasicCredentials(username=unquote_plus(client_id), password=unquote_plus(secret))


_basic = _ClientBasic(auto_error=False, description="client_secret_basic：client_id / client_secret")


def client_address(request: Request) -> str:
    """The caller's address: the peer, or (behind N trusted proxies) the N-th address from the right of
    ``X-Forwarded-For`` (the entries to its left were written by the caller and prove nothing)."""
    settings: GatewaySettings = request.app.state.settings
    peer = request.client.host if request.client else "unknown"
    if settings.trusted_proxy_count <= 0:
        return peer
    forwarded = [
        part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()
    ]
    if len(forwarded) < settings.trusted_proxy_count:
        return forwarded[0] if forwarded else peer
    return forwarded[-settings.trusted_proxy_count]


async def grant_context(request: Request) -> GrantContext:
    database: Database = request.app.state.database
    issuer: TokenIssuer = request.app.state.issuer
    return GrantContext(
        database=database,
        issuer=issuer,
        settings=request.app.state.settings,
        client_address=client_address(request),
    )


GrantContextDep = Annotated[GrantContext, Depends(grant_context)]


BasicCredentials = Annotated[HTTPBasicCredentials | None, Depends(_basic)]
