"""Issue 11, gateway: a control character in an account's or API client's name is a 422 naming the field."""

from __future__ import annotations

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.gateway.accounts.test_router import USERS, body, headers


@pytest.mark.parametrize("display_name", ["张\x00三", "张\x0b三", "\x1b[31m管理员"])
async def test_a_control_character_in_a_display_name_is_a_422_naming_the_field(
    client: httpx.AsyncClient, tokens: Tokens, display_name: str
) -> None:
    data = body(Role.county_admin, region_code="350206", display_name=display_name)
    response = await client.post(USERS, json=data, headers=headers(tokens, Role.city_admin))
    assert response.status_code == 422, response.text
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        ("body.display_name", "control_character")
    ]
