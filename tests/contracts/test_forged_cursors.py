"""Every list endpoint of the contracts service refuses a forged cursor with 422 ``invalid_cursor``
(issue 11: forged cursors answered 500)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.common.forged_cursors import describe, list_endpoints, walk
from tests.contracts.flows import draft
from tests.contracts.registry_data import RegistryData

EXPECTED = {
    "/api/v1/contracts/agreements": "cursor",
    "/api/v1/contracts/agreements/{agreement_id}/visits": "cursor",
    "/api/v1/contracts/visits/shortfall/agreements": "cursor",
    "/api/v1/contracts/referrals": "cursor",
    "/api/v1/contracts/changes": "after",
}
QUERY = {
    "/api/v1/contracts/visits/shortfall/agreements": {
        "period_start": "2026-03-01",
        "period_end": "2026-03-31",
    }
}


def test_the_walk_knows_every_list_endpoint(contracts_app: FastAPI) -> None:
    assert list_endpoints(contracts_app) == EXPECTED


@pytest.mark.parametrize("path", sorted(EXPECTED))
async def test_a_forged_cursor_is_a_422_invalid_cursor(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, path: str
) -> None:
    target = path
    if "{agreement_id}" in path:
        agreement = await draft(client, tokens, await registry.medical(), await registry.elderly())
        target = path.replace("{agreement_id}", agreement["id"])
    headers = tokens.headers(Role.province_admin, "350000")
    failures = await walk(client, target, EXPECTED[path], headers, query=QUERY.get(path))
    assert not failures, describe(failures)
