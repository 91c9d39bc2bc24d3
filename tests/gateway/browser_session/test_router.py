"""The browser session (issue 15; web_plan.md): sign-in sets the refresh token as an HttpOnly cookie on
the session path and a CSRF cookie; refresh rotates the cookie and needs the double-submitted CSRF header;
sign-out revokes the family and clears the cookies; login limits, rotation and reuse detection are the
token endpoint's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookies import SimpleCookie

import httpx
import pytest
from fastapi import FastAPI
from starlette.responses import Response

from libs.common.auth import Role, TokenVerifier
from libs.common.testing import TestDatabases, rolled_back_client
from tests.gateway.conftest import PASSWORD, add_user, gateway_settings

SESSION = "/api/v1/auth/session"
REFRESH = "/api/v1/auth/session/refresh"
WRONG = "Wrong@Password1"
ORIGIN = "https://testserver"


@pytest.fixture
async def browser(gateway_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client on https (the cookies are Secure), with a cookie jar like a browser's."""
    async with rolled_back_client(gateway_app, base_url=ORIGIN) as client:
        yield client


def _set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    cookies: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        (name,) = cookie.keys()
        cookies[name] = cookie
    return cookies


def _attributes(response: httpx.Response) -> dict[str, str]:
    """name → the Set-Cookie line (attributes compared case-insensitively)."""
    lines = {}
    for header in response.headers.get_list("set-cookie"):
        lines[header.split("=", 1)[0]] = header.lower()
    return lines


async def _sign_in(browser: httpx.AsyncClient, gateway_app: FastAPI, username: str) -> httpx.Response:
    await add_user(gateway_app.state.database, username, Role.county_admin, "350206")
    response = await browser.post(SESSION, json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response


def _csrf(browser: httpx.AsyncClient) -> dict[str, str]:
    return {"X-CSRF-Token": browser.cookies["yy_csrf"]}


def _cookie_header(refresh: str, csrf: str) -> dict[str, str]:
    """An explicit Cookie header (a stolen or stale cookie), with its matching CSRF header."""
    return {"Cookie": f"yy_refresh={refresh}; yy_csrf={csrf}", "X-CSRF-Token": csrf}


async def test_sign_in_sets_both_cookies_and_returns_no_refresh_token(
    browser: httpx.AsyncClient, gateway_app: FastAPI, token_verifier: TokenVerifier
) -> None:
    response = await _sign_in(browser, gateway_app, "web_user")
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    principal = await token_verifier.verify(body["access_token"])
    assert principal.role is Role.county_admin
    cookies = _set_cookies(response)
    assert set(cookies) == {"yy_refresh", "yy_csrf"}
    refresh = cookies["yy_refresh"]["yy_refresh"]
    csrf = cookies["yy_csrf"]["yy_csrf"]
    assert len(refresh.value) >= 40
    assert len(csrf.value) >= 40
    assert refresh.value != csrf.value
    assert refresh.value not in response.text
    lines = _attributes(response)
    for attribute in ("httponly", "secure", "samesite=strict", "path=/api/v1/auth/session", "max-age=604800"):
        assert attribute in lines["yy_refresh"], (attribute, lines["yy_refresh"])
    assert refresh["path"] == "/api/v1/auth/session"
    assert "httponly" not in lines["yy_csrf"]  # the console's script reads it
    for attribute in ("secure", "samesite=strict", "max-age=604800"):
        assert attribute in lines["yy_csrf"]
    assert csrf["path"] == "/"


async def test_the_session_endpoints_are_in_the_gateway_document(browser: httpx.AsyncClient) -> None:
    paths = (await browser.get("/openapi.json")).json()["paths"]
    assert set(paths[SESSION]) == {"post", "delete"}
    assert set(paths[REFRESH]) == {"post"}
    login = paths[SESSION]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "refresh_token" not in str(login)


async def test_refresh_rotates_the_cookie_and_keeps_the_csrf_value(
    browser: httpx.AsyncClient, gateway_app: FastAPI, token_verifier: TokenVerifier
) -> None:
    await _sign_in(browser, gateway_app, "web_rotator")
    first_refresh, csrf = browser.cookies["yy_refresh"], browser.cookies["yy_csrf"]
    response = await browser.post(REFRESH, headers=_csrf(browser))
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"access_token", "token_type", "expires_in"}
    assert (await token_verifier.verify(response.json()["access_token"])).role is Role.county_admin
    assert browser.cookies["yy_refresh"] != first_refresh
    assert browser.cookies["yy_csrf"] == csrf
    assert browser.cookies["yy_refresh"] not in response.text
    again = await browser.post(REFRESH, headers=_csrf(browser))
    assert again.status_code == 200, again.text


async def test_a_reused_refresh_cookie_revokes_the_whole_session(
    browser: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await _sign_in(browser, gateway_app, "web_victim")
    stolen, csrf = browser.cookies["yy_refresh"], browser.cookies["yy_csrf"]
    assert (await browser.post(REFRESH, headers=_csrf(browser))).status_code == 200
    replay = await browser.post(REFRESH, headers=_cookie_header(stolen, csrf))
    assert replay.status_code == 401
    assert replay.headers["content-type"] == "application/problem+json"
    assert replay.json()["code"] == "refresh_token_reused"
    # the rotated cookie the victim holds is revoked with its family
    current = await browser.post(REFRESH, headers=_csrf(browser))
    assert current.status_code == 401
    assert current.json()["code"] == "refresh_token_revoked"


@pytest.mark.parametrize(
    "csrf_header",
    [None, "", "not-the-cookie-value", "x" * 43],
    ids=["missing", "empty", "different", "same-length"],
)
async def test_refresh_without_the_matching_csrf_header_is_403_and_spends_nothing(
    browser: httpx.AsyncClient, gateway_app: FastAPI, csrf_header: str | None
) -> None:
    await _sign_in(browser, gateway_app, "web_csrf")
    headers = {} if csrf_header is None else {"X-CSRF-Token": csrf_header}
    refused = await browser.post(REFRESH, headers=headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "csrf_failed"
    assert "set-cookie" not in refused.headers
    assert (await browser.post(REFRESH, headers=_csrf(browser))).status_code == 200  # not rotated


async def test_a_csrf_header_without_its_cookie_is_refused(
    browser: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await _sign_in(browser, gateway_app, "web_nocsrf")
    refresh, csrf = browser.cookies["yy_refresh"], browser.cookies["yy_csrf"]
    response = await browser.post(REFRESH, headers={"Cookie": f"yy_refresh={refresh}", "X-CSRF-Token": csrf})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


async def test_refresh_without_a_session_cookie_is_401_missing_session(browser: httpx.AsyncClient) -> None:
    response = await browser.post(REFRESH, headers={"X-CSRF-Token": "anything"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "missing_session"


async def test_an_unknown_refresh_cookie_is_invalid_grant(browser: httpx.AsyncClient) -> None:
    response = await browser.post(REFRESH, headers=_cookie_header("forged-token", "csrf-value"))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_grant"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "https://testserver.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "same-origin"},
    ],
)
async def test_cross_site_requests_are_refused(
    browser: httpx.AsyncClient, gateway_app: FastAPI, headers: dict[str, str]
) -> None:
    await _sign_in(browser, gateway_app, "web_xsite")
    login = await browser.post(SESSION, json={"username": "web_xsite", "password": PASSWORD}, headers=headers)
    assert login.status_code == 403
    assert login.json()["code"] == "cross_site_request"
    assert "set-cookie" not in login.headers
    refresh = await browser.post(REFRESH, headers={**_csrf(browser), **headers})
    assert refresh.status_code == 403
    assert refresh.json()["code"] == "cross_site_request"
    sign_out = await browser.delete(SESSION, headers={**_csrf(browser), **headers})
    assert sign_out.status_code == 403
    assert (await browser.post(REFRESH, headers=_csrf(browser))).status_code == 200  # still signed in


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": ORIGIN, "Sec-Fetch-Site": "same-origin"},
        {"Origin": "http://testserver"},  # TLS ended by a proxy in front
        {"Origin": "http://localhost:5173", "Sec-Fetch-Site": "same-origin"},  # the dev server's proxy
        {"Sec-Fetch-Site": "none"},
    ],
)
async def test_same_site_and_configured_origins_are_accepted(
    browser: httpx.AsyncClient, gateway_app: FastAPI, headers: dict[str, str]
) -> None:
    await _sign_in(browser, gateway_app, "web_same")
    response = await browser.post(REFRESH, headers={**_csrf(browser), **headers})
    assert response.status_code == 200, response.text


async def test_sign_out_revokes_the_session_and_clears_the_cookies(
    browser: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await _sign_in(browser, gateway_app, "web_leaver")
    refresh, csrf = browser.cookies["yy_refresh"], browser.cookies["yy_csrf"]
    response = await browser.delete(SESSION, headers=_csrf(browser))
    assert response.status_code == 204
    lines = _attributes(response)
    assert "max-age=0" in lines["yy_refresh"]
    assert "path=/api/v1/auth/session" in lines["yy_refresh"]
    assert "max-age=0" in lines["yy_csrf"]
    assert "yy_refresh" not in browser.cookies
    assert "yy_csrf" not in browser.cookies
    after = await browser.post(REFRESH, headers=_cookie_header(refresh, csrf))
    assert after.status_code == 401
    assert after.json()["code"] == "refresh_token_revoked"


async def test_sign_out_needs_the_csrf_header(browser: httpx.AsyncClient, gateway_app: FastAPI) -> None:
    await _sign_in(browser, gateway_app, "web_forced_out")
    refused = await browser.delete(SESSION)
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    assert (await browser.post(REFRESH, headers=_csrf(browser))).status_code == 200


async def test_sign_out_without_a_session_is_204(browser: httpx.AsyncClient) -> None:
    response = await browser.delete(SESSION)
    assert response.status_code == 204


async def test_wrong_password_is_invalid_grant_without_cookies(
    browser: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await add_user(gateway_app.state.database, "web_wrong", Role.county_admin, "350206")
    response = await browser.post(SESSION, json={"username": "web_wrong", "password": WRONG})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_grant"
    assert "set-cookie" not in response.headers


async def test_login_limits_hold_for_the_browser_and_are_shared_with_the_token_endpoint(
    browser: httpx.AsyncClient, gateway_app: FastAPI
) -> None:
    await add_user(gateway_app.state.database, "web_attacked", Role.county_admin, "350206")
    statuses = []
    for _ in range(5):
        response = await browser.post(SESSION, json={"username": "web_attacked", "password": WRONG})
        statuses.append(response.status_code)
    assert statuses[0] == 401
    assert statuses[-1] == 429
    assert response.headers["retry-after"]
    assert response.json()["code"] in {"login_throttled", "account_throttled"}
    token = await browser.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": "web_attacked", "password": WRONG}
    )
    assert token.status_code == 429


async def test_a_malformed_login_body_is_422(browser: httpx.AsyncClient) -> None:
    response = await browser.post(SESSION, json={"username": "x"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.password"


def test_the_secure_attribute_follows_the_setting(test_databases: TestDatabases) -> None:
    from services.gateway.browser_session.cookies import set_session_cookies

    for secure in (True, False):
        response = Response()
        settings = gateway_settings(test_databases, session_cookie_secure=secure)
        set_session_cookies(response, settings, refresh_token="r", csrf_token="c")
        lines = [value.decode().lower() for name, value in response.raw_headers if name == b"set-cookie"]
        assert len(lines) == 2
        assert all(("; secure" in line) is secure for line in lines)
        assert all("samesite=strict" in line for line in lines)
