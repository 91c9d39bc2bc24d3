"""The two cookies of a browser session.

- ``yy_refresh``: the refresh token; ``HttpOnly; Secure; SameSite=Strict; Path=/api/v1/auth/session`` —
  script never reads it and the browser sends it only to the session endpoints.
- ``yy_csrf``: a random value the console's script reads and echoes in ``X-CSRF-Token`` (double submit);
  ``Secure; SameSite=Strict; Path=/``, not HttpOnly. It lives as long as the refresh cookie and keeps its
  value through refreshes (another tab's request in flight still carries the right one).

``Secure`` follows ``GATEWAY_SESSION_COOKIE_SECURE`` (default true; production refuses false).
"""

from __future__ import annotations

import secrets

from fastapi import Response

from services.gateway.settings import GatewaySettings

SESSION_PATH = "/api/v1/auth/session"
REFRESH_COOKIE = "yy_refresh"
CSRF_COOKIE = "yy_csrf"
CSRF_HEADER = "X-CSRF-Token"


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def set_session_cookies(
    response: Response, settings: GatewaySettings, *, refresh_token: str, csrf_token: str
) -> None:
    max_age = settings.refresh_token_ttl_seconds
    secure = settings.session_cookie_secure
    response.set_cookie(
        REFRESH_COOKIE,
        refresh_token,
        max_age=max_age,
        path=SESSION_PATH,
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        CSRF_COOKIE, csrf_token, max_age=max_age, path="/", secure=secure, httponly=False, samesite="strict"
    )


def clear_session_cookies(response: Response, settings: GatewaySettings) -> None:
    secure = settings.session_cookie_secure
    response.delete_cookie(REFRESH_COOKIE, path=SESSION_PATH, secure=secure, httponly=True, samesite="strict")
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, httponly=False, samesite="strict")
