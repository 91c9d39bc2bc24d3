"""Checks of the session endpoints, as dependencies: the request comes from the platform's own pages
(``Origin`` / ``Sec-Fetch-Site``, when the browser sends them), and a request that uses the session proves
it read the ``yy_csrf`` cookie (double submit, compared in constant time)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from services.gateway.browser_session.cookies import CSRF_COOKIE, CSRF_HEADER, REFRESH_COOKIE
from services.gateway.browser_session.errors import CrossSiteRequest, CsrfFailed, MissingSession
from services.gateway.settings import GatewaySettings

_SAME_SITE_FETCHES = {"same-origin", "none"}  # "none": the user typed or bookmarked it


def _origin_is_ours(origin: str, request: Request, settings: GatewaySettings) -> bool:
    """The gateway's own host (any scheme: TLS may end at a proxy in front), or a configured console
    origin (``cors_origins``, e.g. the Vite dev server)."""
    if origin in settings.cors_origins:
        return True
    host = request.headers.get("host", "")
    parts = urlsplit(origin)
    return bool(host) and parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


async def same_site_request(request: Request) -> None:
    settings: GatewaySettings = request.app.state.settings
    origin = request.headers.get("origin")
    if origin is not None and not _origin_is_ours(origin, request, settings):
        raise CrossSiteRequest()
    fetch_site = request.headers.get("sec-fetch-site")
    trusted = origin is not None and origin in settings.cors_origins
    if fetch_site is not None and fetch_site.lower() not in _SAME_SITE_FETCHES and not trusted:
        raise CrossSiteRequest()


SameSiteRequest = Annotated[None, Depends(same_site_request)]


@dataclass(frozen=True, slots=True)
class SessionCookies:
    refresh_token: str
    csrf_token: str


def _checked_session(request: Request) -> SessionCookies:
    refresh_token = request.cookies.get(REFRESH_COOKIE)
    if not refresh_token:
        raise MissingSession()
    csrf_cookie = request.cookies.get(CSRF_COOKIE, "")
    csrf_header = request.headers.get(CSRF_HEADER, "")
    if not csrf_cookie or not hmac.compare_digest(csrf_cookie.encode(), csrf_header.encode()):
        raise CsrfFailed()
    return SessionCookies(refresh_token=refresh_token, csrf_token=csrf_cookie)


async def session_cookies(request: Request, _: SameSiteRequest) -> SessionCookies:
    """The session's refresh cookie, once the CSRF header matched: 401 ``missing_session`` without it,
    403 ``csrf_failed`` when the header is missing or different."""
    return _checked_session(request)


async def optional_session_cookies(request: Request, _: SameSiteRequest) -> SessionCookies | None:
    """For sign-out: no refresh cookie is no session to end (None); with one, the CSRF header must match."""
    if not request.cookies.get(REFRESH_COOKIE):
        return None
    return _checked_session(request)


SessionCookiesDep = Annotated[SessionCookies, Depends(session_cookies)]
OptionalSessionCookiesDep = Annotated[SessionCookies | None, Depends(optional_session_cookies)]
