"""Service tokens name the one service they may call (``aud``) and carry only their caller's grants."""

from __future__ import annotations

import httpx

from tests.gateway.conftest import CONTRACTS_SECRET, HOMECARE_SECRET, SERVICE_SECRET

TOKEN = "/api/v1/auth/token"
INSTITUTIONS = "/api/v1/registry/institutions"
PRACTITIONERS = "/api/v1/registry/practitioners"


async def _token(
    client: httpx.AsyncClient, client_id: str, secret: str, audience: str | None
) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    if audience is not None:
        form["audience"] = audience
    return await client.post(TOKEN, data=form)


async def test_a_service_gets_tokens_only_for_the_services_it_calls(client: httpx.AsyncClient) -> None:
    # Who calls whom: contracts and homecare call the registry; the registry calls nobody.
    assert (await _token(client, "contracts", CONTRACTS_SECRET, "registry")).status_code == 200
    for client_id, secret, audience in (
        ("contracts", CONTRACTS_SECRET, "homecare"),
        ("contracts", CONTRACTS_SECRET, None),
        ("registry", SERVICE_SECRET, "homecare"),
        ("registry", SERVICE_SECRET, "registry"),
    ):
        response = await _token(client, client_id, secret, audience)
        assert (response.status_code, response.json()["code"]) == (400, "invalid_target"), (
            client_id,
            audience,
        )


async def test_each_caller_reads_only_what_it_needs_at_the_registry(
    client: httpx.AsyncClient, registry_client: httpx.AsyncClient
) -> None:
    contracts = (await _token(client, "contracts", CONTRACTS_SECRET, "registry")).json()["access_token"]
    homecare = (await _token(client, "homecare", HOMECARE_SECRET, "registry")).json()["access_token"]

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    assert (await registry_client.get(INSTITUTIONS, headers=bearer(contracts))).status_code == 200
    refused = await registry_client.get(PRACTITIONERS, headers=bearer(contracts))
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert (await registry_client.get(PRACTITIONERS, headers=bearer(homecare))).status_code == 200
    changes = await registry_client.get("/api/v1/registry/changes", headers=bearer(homecare))
    assert changes.status_code == 403
