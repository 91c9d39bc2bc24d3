"""Who may call which gateway endpoint: the expected table, written from ARCHITECTURE.md
("Authentication") and services/gateway/README.md ("Endpoints", "User scope rules") — never from
``permissions.py`` — and walked over HTTP for every cell. The proxied service paths are tested by each
service's own table."""

from __future__ import annotations

import httpx
import pytest

from tests.access_matrix import HEALTH_CHECKS, AccessMatrixWalk, parse

# Columns: province, city, county admin · institution admin, institution staff · city platform.
# Each administrative level creates and manages the accounts of the level below (README "User scope
# rules"); only the province manages city-platform API clients.
MATRIX = parse(
    "/api/v1/auth",
    """
    #                                          pv ct co ia is pl
    # any valid token
    GET    /me                                 Y  Y  Y  Y  Y  Y
    POST   /users                              Y  Y  Y  Y  -  -
    GET    /users                              Y  Y  Y  Y  -  -
    GET    /users/{user_id}                    Y  Y  Y  Y  -  -
    # README: the creating level
    PATCH  /users/{user_id}                    Y  Y  Y  Y  -  -
    POST   /users/{user_id}/deactivate         Y  Y  Y  Y  -  -
    POST   /users/{user_id}/reactivate         Y  Y  Y  Y  -  -
    # README: province admin
    GET    /clients                            Y  -  -  -  -  -
    POST   /clients                            Y  -  -  -  -  -
    GET    /clients/{client_id}                Y  -  -  -  -  -
    POST   /clients/{client_id}/revoke         Y  -  -  -  -  -
    POST   /clients/{client_id}/rotate-secret  Y  -  -  -  -  -
    """,
)
#: no token needed (README "Endpoints": public / anyone)
PUBLIC = HEALTH_CHECKS | {
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/api/v1/auth/enums"),
    ("POST", "/api/v1/auth/session"),
}
#: no token either, but the browser session's cookie and CSRF header (tests/gateway/browser_session)
SESSION_COOKIE = {("POST", "/api/v1/auth/session/refresh"), ("DELETE", "/api/v1/auth/session")}


class TestAccessMatrix(AccessMatrixWalk):
    app_fixture = "gateway_app"
    matrix = MATRIX
    public = PUBLIC | SESSION_COOKIE
    unauthenticated = "/api/v1/auth/users"

    @pytest.mark.parametrize(("method", "path"), sorted(PUBLIC))
    async def test_public_endpoints_need_no_token(
        self, walker: httpx.AsyncClient, method: str, path: str
    ) -> None:
        response = await walker.request(method, path)
        assert response.status_code not in (401, 403), response.text
