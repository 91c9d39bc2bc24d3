"""Request bodies are capped, and the token is checked before a body is read.

- **Caps by route class** (settings ``max_body_json_bytes``, ``max_body_upload_bytes``,
  ``max_body_bulk_bytes``): a path ending in ``/bulk`` is a bulk write, a ``multipart/form-data`` body
  an upload, anything else JSON (or a form). A ``Content-Length`` over the cap is refused with 413
  before the application runs; a body without one (chunked) is counted while it streams and cut off
  with 413 as soon as it passes the cap.
- **Token first**: on a route that needs a principal (its dependencies include
  :func:`libs.common.access.get_principal`), the bearer token is verified with ``app.state.verifier``
  when the application first asks for the body, before a byte of it is received; a missing or invalid
  token answers 401 and the body is never read.

The application never reads the rest of a refused body; uvicorn discards what the client still sends
(without buffering it) and the keep-alive connection survives. Closing it instead would reset the
connection under a client still sending, and the client would lose the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.common.access import get_principal
from libs.common.auth import TokenVerifier
from libs.common.errors import DomainError, PayloadTooLarge, RequestRefused, Unauthorized, problem_response
from libs.common.settings import ServiceSettings

_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BodyLimits:
    json: int
    upload: int
    bulk: int

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> BodyLimits:
        return cls(
            json=settings.max_body_json_bytes,
            upload=settings.max_body_upload_bytes,
            bulk=settings.max_body_bulk_bytes,
        )

    def for_request(self, path: str, content_type: str) -> int:
        if path.rstrip("/").endswith("/bulk"):
            return self.bulk
        if content_type.lower().startswith("multipart/form-data"):
            return self.upload
        return self.json


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length`` (None when absent: chunked or no body)."""
    raw = _header(scope, b"content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None  # the HTTP server refuses such requests itself


def has_body(scope: Scope) -> bool:
    length = declared_length(scope)
    if length is not None:
        return length > 0
    return _header(scope, b"transfer-encoding") is not None


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"请求体超过上限 {limit / _MIB:.1f} MB（request body too large）",
        extra={"max_bytes": limit},
    )


def bearer_token(scope: Scope) -> str | None:
    raw = _header(scope, b"authorization")
    if raw is None:
        return None
    value = raw.decode("latin-1").strip()
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def missing_token() -> Unauthorized:
    return Unauthorized(
        "缺少访问令牌",
        code="missing_token",
        headers={"WWW-Authenticate": 'Bearer realm="yiyang"'},
    )


async def verify_bearer(scope: Scope, verifier: TokenVerifier, *, service: str | None) -> None:
    """Raise the 401 (or 503 if the keys cannot be fetched) a request without a valid token for
    ``service`` gets (as :func:`libs.common.access.get_principal` verifies it)."""
    token = bearer_token(scope)
    if token is None:
        raise missing_token()
    await verifier.verify(token, service=service)


_needs_principal: dict[int, bool] = {}


def _depends_on_principal(dependant: Any) -> bool:
    if getattr(dependant, "call", None) is get_principal:
        return True
    return any(_depends_on_principal(d) for d in getattr(dependant, "dependencies", ()))


def route_needs_principal(route: Any) -> bool:
    key = id(route)
    if key not in _needs_principal:
        dependant = getattr(route, "dependant", None)
        _needs_principal[key] = dependant is not None and _depends_on_principal(dependant)
    return _needs_principal[key]


class BodyGuardMiddleware:
    def __init__(self, app: ASGIApp, limits: BodyLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not has_body(scope):
            await self.app(scope, receive, send)
            return
        content_type = (_header(scope, b"content-type") or b"").decode("latin-1")
        limit = self.limits.for_request(scope["path"], content_type)
        length = declared_length(scope)
        if length is not None and length > limit:
            error = too_large(limit)
            response = problem_response(
                status=error.status,
                title=error.title,
                code=error.code,
                detail=error.detail,
                instance=scope["path"],
                extra=error.extra,
                headers=error.headers,
            )
            await response(scope, receive, send)
            return

        first = True
        received = 0

        async def guarded_receive() -> Message:
            nonlocal first, received
            if first:
                first = False
                # Routing has happened by now (the route's handler is asking for the body).
                route = scope.get("route")
                if route is not None and route_needs_principal(route):
                    try:
                        state = scope["app"].state
                        await verify_bearer(scope, state.verifier, service=state.settings.service_name)
                    except DomainError as exc:
                        raise RequestRefused(exc) from exc
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestRefused(too_large(limit))
            return message

        await self.app(scope, guarded_receive, send)
