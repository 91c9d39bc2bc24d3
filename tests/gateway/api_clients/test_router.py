"""City-platform API clients: created by the province admin for one city; secret shown once, rotatable,
revocable."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.auth import Role, TokenVerifier
from libs.common.database import session_scope
from libs.common.testing import Tokens
from services.gateway.api_clients.models import ApiClient

CLIENTS = "/api/v1/auth/clients"


def province(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(Role.province_admin, "350000")


async def create(client: httpx.AsyncClient, tokens: Tokens, **overrides: Any) -> httpx.Response:
    body = {
        "client_id": "fz_platform",
        "name": "福州市智慧健康养老服务平台",
        "region_code": "350100",
        **overrides,
    }
    return await client.post(CLIENTS, json=body, headers=province(tokens))


async def token_for(client: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


async def test_province_admin_creates_a_client_and_sees_its_secret_once(
    client: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens, token_verifier: TokenVerifier
) -> None:
    response = await create(client, tokens)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert created["role"] == "city_platform"
    assert created["region_name"] == "福州市"
    secret = created["client_secret"]
    assert len(secret) >= 40

    fetched = (await client.get(f"{CLIENTS}/{created['id']}", headers=province(tokens))).json()
    assert "client_secret" not in fetched
    listed = (await client.get(CLIENTS, headers=province(tokens))).json()["items"]
    assert all("client_secret" not in item for item in listed)

    async with session_scope(gateway_app.state.database) as session:
        stored = await session.scalar(select(ApiClient).where(ApiClient.client_id == "fz_platform"))
    assert stored is not None
    assert secret not in stored.secret_hash
    assert stored.secret_hash.startswith("$argon2id$")

    issued = await token_for(client, "fz_platform", secret)
    assert issued.status_code == 200
    principal = await token_verifier.verify(issued.json()["access_token"])
    assert principal.role is Role.city_platform
    assert principal.region_code == "350100"


@pytest.mark.parametrize("region_code", ["350128", "350200"])
async def test_clients_bind_to_city_level_units_including_pingtan(
    region_code: str, client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await create(client, tokens, client_id=f"p_{region_code}", region_code=region_code)
    assert response.status_code == 201


@pytest.mark.parametrize("region_code", ["350206", "350000", "999900"])
async def test_a_client_must_bind_to_a_city(
    region_code: str, client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await create(client, tokens, region_code=region_code)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_region"


async def test_client_ids_are_unique_and_service_ids_reserved(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    assert (await create(client, tokens)).status_code == 201
    again = await create(client, tokens)
    assert again.status_code == 409
    assert again.json()["code"] == "client_id_taken"
    service = await create(client, tokens, client_id="registry")
    assert service.status_code == 409


async def test_rotation_shows_a_new_secret_once_and_the_old_one_stops_working(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    created = (await create(client, tokens)).json()
    url = f"{CLIENTS}/{created['id']}/rotate-secret"
    assert (await client.post(url, headers=province(tokens))).status_code == 428
    rotated = await client.post(url, headers={**province(tokens), "If-Match": '"1"'})
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["client_secret"]
    assert new_secret != created["client_secret"]
    assert rotated.json()["secret_rotated_at"] is not None
    assert rotated.headers["etag"] == '"2"'
    assert (await token_for(client, "fz_platform", created["client_secret"])).status_code == 401
    assert (await token_for(client, "fz_platform", new_secret)).status_code == 200
    stale = await client.post(url, headers={**province(tokens), "If-Match": '"1"'})
    assert stale.status_code == 412


async def test_a_revoked_client_gets_no_tokens_and_cannot_be_rotated(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    created = (await create(client, tokens)).json()
    revoked = await client.post(
        f"{CLIENTS}/{created['id']}/revoke", headers={**province(tokens), "If-Match": '"1"'}
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["active"] is False
    assert revoked.json()["revoked_at"] is not None
    assert (await token_for(client, "fz_platform", created["client_secret"])).json()[
        "code"
    ] == "invalid_client"
    rotate = await client.post(
        f"{CLIENTS}/{created['id']}/rotate-secret", headers={**province(tokens), "If-Match": '"2"'}
    )
    assert rotate.status_code == 409
    assert rotate.json()["code"] == "illegal_transition"


async def test_list_filters_by_city(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await create(client, tokens, client_id="a_fz", region_code="350100")
    await create(client, tokens, client_id="b_xm", region_code="350200")
    items = (await client.get(f"{CLIENTS}?region_code=350200", headers=province(tokens))).json()["items"]
    assert [i["client_id"] for i in items if i["client_id"] in {"a_fz", "b_xm"}] == ["b_xm"]


async def test_unknown_client_is_404(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.get(f"{CLIENTS}/00000000-0000-4000-8000-00000000000f", headers=province(tokens))
    assert response.status_code == 404
    assert response.json()["code"] == "api_client_not_found"


async def test_a_city_admin_cannot_create_clients(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.post(
        CLIENTS,
        json={"client_id": "sneaky", "name": "x", "region_code": "350200"},
        headers=tokens.headers(Role.city_admin, "350200"),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
