"""Every list endpoint of the gateway refuses a forged cursor with 422 ``invalid_cursor``
(issue 11: forged cursors answered 500)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.common.forged_cursors import describe, forged_cursors, list_endpoints, walk

EXPECTED = {"/api/v1/auth/users": "cursor", "/api/v1/auth/clients": "cursor"}


def test_the_walk_knows_every_list_endpoint(gateway_app: FastAPI) -> None:
    assert list_endpoints(gateway_app) == EXPECTED


@pytest.mark.parametrize("path", sorted(EXPECTED))
async def test_a_forged_cursor_is_a_422_invalid_cursor(
    client: httpx.AsyncClient, tokens: Tokens, path: str
) -> None:
    headers = tokens.headers(Role.province_admin, "350000")
    # both lists sort by one text key (username, client_id): any plain text is a possible cursor
    failures = await walk(
        client, path, EXPECTED[path], headers, cursors=lambda: forged_cursors(text_sorted=True)
    )
    assert not failures, describe(failures)
