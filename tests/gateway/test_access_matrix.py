"""Who may call which gateway endpoint: the expected table, written from ARCHITECTURE.md
("Authentication") and services/gateway/README.md ("Endpoints", "User scope rules") — never from
``permissions.py`` — and walked over HTTP for every cell. The proxied service paths are tested by each
service's own table."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens, rolled_back_client
from tests.access_matrix import assert_cell, call, caller, cells, concrete, missing_rows, operations, parse

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
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/logout"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/api/v1/auth/enums"),
}
#: cells where the code disagrees with the table (each is a bug report; remove the entry with the fix)
XFAIL: dict[tuple[str, str, Role], str] = {}


@pytest.fixture(scope="module")
async def walker(gateway_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """One client for the whole walk; nothing the walk sends can succeed, and all is rolled back."""
    async with rolled_back_client(gateway_app) as client:
        yield client


def test_every_endpoint_has_a_row(gateway_app: FastAPI) -> None:
    documented = operations(gateway_app)
    assert missing_rows(MATRIX, documented, PUBLIC) == set()
    assert set(MATRIX) - documented == set()  # no row for an endpoint that is gone


@pytest.mark.parametrize(("method", "path", "role", "allowed"), cells(MATRIX, XFAIL))
async def test_cell(
    walker: httpx.AsyncClient, tokens: Tokens, method: str, path: str, role: Role, allowed: bool
) -> None:
    response = await call(walker, method, concrete(path), caller(tokens, role))
    assert_cell(response, allowed, (method, path, role.value))


@pytest.mark.parametrize(("method", "path"), sorted(PUBLIC))
async def test_public_endpoints_need_no_token(walker: httpx.AsyncClient, method: str, path: str) -> None:
    response = await walker.request(method, path)
    assert response.status_code not in (401, 403), response.text


async def test_no_token_is_401(walker: httpx.AsyncClient) -> None:
    response = await walker.get("/api/v1/auth/users")
    assert response.status_code == 401
