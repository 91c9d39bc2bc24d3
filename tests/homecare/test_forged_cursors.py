"""Every list endpoint of the homecare service refuses a forged cursor with 422 ``invalid_cursor``
(issue 11: forged cursors answered 500)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.common.forged_cursors import describe, list_endpoints, walk

EXPECTED = {
    "/api/v1/homecare/providers": "cursor",
    "/api/v1/homecare/recipients": "cursor",
    "/api/v1/homecare/orders": "cursor",
    "/api/v1/homecare/sos": "cursor",
    "/api/v1/homecare/complaints": "cursor",
    "/api/v1/homecare/home-beds": "cursor",
    "/api/v1/homecare/changes": "after",
    "/api/v1/homecare/events/feed": "after",
    "/api/v1/homecare/events": "after",
}


def test_the_walk_knows_every_list_endpoint(homecare_app: FastAPI) -> None:
    assert list_endpoints(homecare_app) == EXPECTED


@pytest.mark.parametrize("path", sorted(EXPECTED))
async def test_a_forged_cursor_is_a_422_invalid_cursor(
    client: httpx.AsyncClient, tokens: Tokens, path: str
) -> None:
    if path in ("/api/v1/homecare/sos", "/api/v1/homecare/events/feed", "/api/v1/homecare/events"):
        # SOS alerts and order events are read by the institution that serves
        headers = tokens.headers(Role.institution_admin, "350206", institution_id=uuid.uuid4())
    else:
        headers = tokens.headers(Role.province_admin, "350000")
    failures = await walk(client, path, EXPECTED[path], headers)
    assert not failures, describe(failures)
