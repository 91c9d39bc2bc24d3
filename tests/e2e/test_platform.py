"""The whole platform through the gateway: login, scoped reads, token checks at a service's own port."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tests.e2e.conftest import Platform, login

pytestmark = pytest.mark.e2e


async def test_all_six_processes_are_ready(platform: Platform) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        urls = (
            platform.gateway,
            platform.registry,
            platform.contracts,
            platform.homecare,
            platform.indicators,
            platform.residents,
        )
        for url in urls:
            assert (await client.get(f"{url}/readyz")).status_code == 200


async def test_login_through_the_gateway_and_read_me(gateway: httpx.AsyncClient) -> None:
    headers = await login(gateway, "huli_admin")
    me = await gateway.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["region_code"] == "350206"
    assert me.json()["role"] == "county_admin"


async def test_wrong_password_is_401_problem(gateway: httpx.AsyncClient) -> None:
    response = await gateway.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": "huli_admin", "password": "nope"}
    )
    assert response.status_code in (400, 401)
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_county_reads_its_institutions_through_the_gateway_and_not_others(
    gateway: httpx.AsyncClient,
) -> None:
    huli = await login(gateway, "huli_admin")
    siming = await login(gateway, "siming_admin")
    listed = await gateway.get("/api/v1/registry/institutions", params={"limit": 50}, headers=huli)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert items
    assert {item["region_code"] for item in items} == {"350206"}
    hidden = await gateway.get(f"/api/v1/registry/institutions/{items[0]['id']}", headers=siming)
    assert hidden.status_code == 404


async def test_request_id_passes_through_the_gateway(gateway: httpx.AsyncClient) -> None:
    headers = {**(await login(gateway, "prov_admin")), "X-Request-ID": "e2e-trace-0001"}
    response = await gateway.get("/api/v1/registry/institutions", params={"limit": 1}, headers=headers)
    assert response.headers["x-request-id"] == "e2e-trace-0001"


async def test_services_verify_gateway_tokens_themselves(
    platform: Platform, gateway: httpx.AsyncClient
) -> None:
    """Straight to each service's own port: a gateway token works, a tampered or unsigned one is 401."""
    headers = await login(gateway, "prov_admin")
    header, payload, signature = headers["Authorization"].removeprefix("Bearer ").split(".")
    tampered = f"{header}.{payload}.{signature[:-6]}AAAAAA"
    unsigned = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + payload + "."
    services = {"registry": platform.registry, "contracts": platform.contracts, "homecare": platform.homecare}
    async with httpx.AsyncClient(timeout=10) as client:
        for name, url in services.items():
            feed = f"{url}/api/v1/{name}/changes"
            assert (await client.get(feed, params={"limit": 1}, headers=headers)).status_code == 200, name
            for bad in (tampered, unsigned):
                response = await client.get(feed, headers={"Authorization": f"Bearer {bad}"})
                assert response.status_code == 401, name


async def test_merged_openapi_document_covers_every_service(gateway: httpx.AsyncClient) -> None:
    document = (await gateway.get("/openapi.json")).json()
    paths = document["paths"]
    for prefix in ("/api/v1/auth/", "/api/v1/registry/", "/api/v1/contracts/", "/api/v1/homecare/"):
        assert any(p.startswith(prefix) for p in paths), prefix
    operation_ids = [
        op["operationId"] for item in paths.values() for op in item.values() if "operationId" in op
    ]
    assert len(operation_ids) == len(set(operation_ids))


async def test_the_indicators_follow_every_feed_with_their_own_service_client(
    gateway: httpx.AsyncClient,
) -> None:
    """The indicators' followers run in the background from the start (the seeded data is read through
    the gateway with the indicators' service token); the status says each feed is caught up."""
    headers = await login(gateway, "prov_admin")
    deadline = time.monotonic() + 90
    while True:
        response = await gateway.get("/api/v1/indicators/status", headers=headers)
        assert response.status_code == 200, response.text
        feeds = response.json()["feeds"]
        if all(feed["caught_up"] and feed["consecutive_failures"] == 0 for feed in feeds):
            break
        assert time.monotonic() < deadline, feeds
        await asyncio.sleep(0.5)
    assert [feed["feed"] for feed in feeds] == ["registry", "contracts", "homecare", "residents"]
    assert all(feed["entries_applied"] > 0 for feed in feeds), feeds  # the demo data of each
