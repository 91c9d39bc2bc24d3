"""Every list endpoint of the registry refuses a forged cursor with 422 ``invalid_cursor`` (issue 11)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.common.forged_cursors import describe, list_endpoints, walk
from tests.registry.factories import create_institution

EXPECTED = {
    "/api/v1/registry/institutions",
    "/api/v1/registry/institutions/{institution_id}/history",
    "/api/v1/registry/filings",
    "/api/v1/registry/practitioners",
    "/api/v1/registry/demonstration-batches",
    "/api/v1/registry/demonstration-applications",
    "/api/v1/registry/demonstration-applications/named",
    "/api/v1/registry/changes",
    "/api/v1/registry/directory/institutions",
}


def test_the_walk_knows_every_list_endpoint(registry_app: FastAPI) -> None:
    assert set(list_endpoints(registry_app)) == EXPECTED


@pytest.mark.parametrize("path", sorted(EXPECTED))
async def test_a_forged_cursor_is_a_422_invalid_cursor(
    client: httpx.AsyncClient, registry_app: FastAPI, tokens: Tokens, path: str
) -> None:
    if "{institution_id}" in path:
        institution = await create_institution(client, tokens)
        path = path.replace("{institution_id}", institution["id"])
    parameter = list_endpoints(registry_app).get(path, "cursor" if "/changes" not in path else "after")
    failures = await walk(client, path, parameter, tokens.headers(Role.province_admin, "350000"))
    assert not failures, describe(failures)
