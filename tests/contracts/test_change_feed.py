"""The contracts change feed: agreements and referrals, scoped, without personal data."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.contracts.flows import admin_of, signed
from tests.contracts.referrals.test_router import ID_NUMBER, REFERRALS, referral_body
from tests.contracts.registry_data import RegistryData

CHANGES = "/api/v1/contracts/changes"


async def _feed(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 1000, **({"after": cursor} if cursor else {})}
        page = (await client.get(CHANGES, params=params, headers=headers)).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return items


async def test_feed_carries_agreements_and_referrals_without_personal_data(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical("350203"), await registry.elderly("350206")
    agreement = await signed(client, tokens, medical, elderly, start_date="2026-03-01")
    referral = await client.post(REFERRALS, json=referral_body(agreement), headers=admin_of(tokens, elderly))
    assert referral.status_code == 201

    feed = await _feed(client, tokens.headers(Role.county_admin, "350206"))
    mine = [c for c in feed if c["entity_id"] in (agreement["id"], referral.json()["id"])]
    assert {c["entity_type"] for c in mine} == {"agreement", "referral"}
    latest = {c["entity_type"]: c for c in mine}
    assert latest["agreement"]["data"]["state"] == "active"
    assert latest["agreement"]["region_code"] == "350206"
    text = str(mine)
    for secret in (ID_NUMBER, "张三丰", "13700001111", "13912345678", "13812345678"):
        assert secret not in text
    for field in ("resident_id_hash", "resident_name_enc", "medical_contact_phone_enc", "source_hash"):
        assert field not in latest["referral"]["data"]
        assert field not in latest["agreement"]["data"]

    # institution users follow no feed (platforms and services do); another city's platform sees nothing of it
    refused = await client.get(CHANGES, headers=admin_of(tokens, medical))
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    fuzhou_platform = await _feed(client, tokens.headers(Role.city_platform, "350100"))
    assert agreement["id"] not in {c["entity_id"] for c in fuzhou_platform}
    # the medical party's county (思明) follows the agreement, not the referral (a record of the homes'
    # county); a third county (海沧) neither
    medical_county = {
        c["entity_id"] for c in await _feed(client, tokens.headers(Role.county_admin, "350203"))
    }
    assert agreement["id"] in medical_county
    assert referral.json()["id"] not in medical_county
    third_county = await _feed(client, tokens.headers(Role.county_admin, "350205"))
    assert not {agreement["id"], referral.json()["id"]} & {c["entity_id"] for c in third_county}


def test_openapi_operation_ids_are_unique_and_routes_declare_problems(contracts_app: FastAPI) -> None:
    document = contracts_app.openapi()
    operations = [op for path in document["paths"].values() for op in path.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    for op in operations:
        if op["operationId"] not in ("healthz", "readyz"):
            assert "401" in op["responses"], op["operationId"]
