"""A path that names a route of its own answers 405 with ``Allow`` for another method, not the 422 of the
``/{id}`` route beside it (``GET /institutions/import`` is not an institution whose id is ``import``)."""

from __future__ import annotations

import httpx

from libs.common.auth import Role
from libs.common.testing import Tokens

INSTITUTIONS = "/api/v1/registry/institutions"


async def test_get_on_the_import_route_is_405_with_allow(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.get(f"{INSTITUTIONS}/import", headers=tokens.headers(Role.county_admin, "350206"))
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "method_not_allowed"
    assert response.headers["allow"] == "POST"


async def test_a_malformed_id_on_the_id_route_stays_a_422(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.get(
        f"{INSTITUTIONS}/not-a-uuid", headers=tokens.headers(Role.county_admin, "350206")
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_failed"


async def test_a_write_on_a_read_only_literal_route_is_405_whatever_else_it_lacks(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    # PATCH /institutions/{id} would also want If-Match and a body: the path still names GET /enums
    response = await client.patch(
        f"{INSTITUTIONS}/enums", headers=tokens.headers(Role.county_admin, "350206")
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
