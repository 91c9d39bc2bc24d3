"""Driving agreements through the API in tests (one place for the request shapes)."""

from __future__ import annotations

from typing import Any

import httpx

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.contracts.conftest import agreement_body

AGREEMENTS = "/api/v1/contracts/agreements"


def admin_of(tokens: Tokens, institution: dict[str, Any]) -> dict[str, str]:
    return tokens.headers(
        Role.institution_admin, institution["region_code"], institution_id=institution["id"]
    )


async def transition(
    client: httpx.AsyncClient,
    agreement: dict[str, Any],
    action: str,
    headers: dict[str, str],
    json: dict[str, Any] | None = None,
) -> httpx.Response:
    return await client.post(
        f"{AGREEMENTS}/{agreement['id']}/{action}",
        json=json or {},
        headers={**headers, "If-Match": f'"{agreement["version"]}"'},
    )


async def draft(
    client: httpx.AsyncClient,
    tokens: Tokens,
    medical: dict[str, Any],
    elderly: dict[str, Any],
    **overrides: Any,
) -> dict[str, Any]:
    response = await client.post(
        AGREEMENTS, json=agreement_body(medical, elderly, **overrides), headers=admin_of(tokens, elderly)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def signed(
    client: httpx.AsyncClient,
    tokens: Tokens,
    medical: dict[str, Any],
    elderly: dict[str, Any],
    **overrides: Any,
) -> dict[str, Any]:
    """An agreement drafted and submitted by the elderly-care side, countersigned by the medical side."""
    agreement = await draft(client, tokens, medical, elderly, **overrides)
    submitted = await transition(client, agreement, "submit", admin_of(tokens, elderly))
    assert submitted.status_code == 200, submitted.text
    countersigned = await transition(client, submitted.json(), "countersign", admin_of(tokens, medical))
    assert countersigned.status_code == 200, countersigned.text
    body: dict[str, Any] = countersigned.json()
    return body
