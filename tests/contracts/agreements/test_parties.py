"""Parties are checked with the real registry app (in-process, over HTTP)."""

from __future__ import annotations

import uuid

import httpx

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.contracts.conftest import agreement_body
from tests.contracts.flows import AGREEMENTS, admin_of
from tests.contracts.registry_data import RegistryData


async def test_agreement_keeps_snapshot_of_parties_and_takes_elderly_care_county(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical = await registry.medical("350203", name="思明测试医院")
    elderly = await registry.elderly("350206", name="湖里测试颐养院")
    response = await client.post(
        AGREEMENTS, json=agreement_body(medical, elderly), headers=admin_of(tokens, elderly)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["medical_party"] == {
        "institution_id": medical["id"],
        "name": "思明测试医院",
        "region_code": "350203",
    }
    assert body["elderly_party"]["name"] == "湖里测试颐养院"
    assert body["region_code"] == "350206"
    assert body["state"] == body["status"] == "draft"
    assert body["title"] == "思明测试医院与湖里测试颐养院医养签约合作协议"
    assert response.headers["etag"] == '"1"'


async def test_integrated_institution_may_be_the_elderly_care_party(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical = await registry.medical()
    integrated = await registry.integrated()
    response = await client.post(
        AGREEMENTS, json=agreement_body(medical, integrated), headers=admin_of(tokens, medical)
    )
    assert response.status_code == 201, response.text
    assert response.json()["elderly_kind"] == "integrated"


async def test_unknown_party_is_422_party_not_found(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    elderly = await registry.elderly()
    ghost = {"id": str(uuid.uuid4()), "region_code": "350206"}
    response = await client.post(
        AGREEMENTS, json=agreement_body(ghost, elderly), headers=admin_of(tokens, elderly)
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "party_not_found"
    assert body["errors"][0]["field"] == "body.medical_institution_id"


async def test_elderly_care_institution_as_medical_party_is_422_wrong_kind(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    elderly = await registry.elderly()
    other = await registry.elderly()
    response = await client.post(
        AGREEMENTS, json=agreement_body(other, elderly), headers=admin_of(tokens, elderly)
    )
    assert (response.status_code, response.json()["code"]) == (422, "party_wrong_kind")


async def test_medical_institution_as_elderly_care_party_is_422_wrong_kind(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical = await registry.medical()
    other = await registry.medical()
    response = await client.post(
        AGREEMENTS, json=agreement_body(medical, other), headers=admin_of(tokens, medical)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.elderly_institution_id"
    assert response.json()["code"] == "party_wrong_kind"


async def test_inactive_party_is_422_party_inactive(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical = await registry.medical(active=False)
    elderly = await registry.elderly()
    response = await client.post(
        AGREEMENTS, json=agreement_body(medical, elderly), headers=admin_of(tokens, elderly)
    )
    assert (response.status_code, response.json()["code"]) == (422, "party_inactive")


async def test_same_institution_on_both_sides_is_422(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    integrated = await registry.integrated()
    response = await client.post(
        AGREEMENTS, json=agreement_body(integrated, integrated), headers=admin_of(tokens, integrated)
    )
    assert (response.status_code, response.json()["code"]) == (422, "validation_failed")


async def test_institution_that_is_not_a_party_cannot_draft(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly, stranger = await registry.medical(), await registry.elderly(), await registry.elderly()
    response = await client.post(
        AGREEMENTS, json=agreement_body(medical, elderly), headers=admin_of(tokens, stranger)
    )
    assert (response.status_code, response.json()["code"]) == (403, "not_a_party")


async def test_county_admin_cannot_draft_agreements(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    response = await client.post(
        AGREEMENTS, json=agreement_body(medical, elderly), headers=tokens.headers(Role.county_admin, "350206")
    )
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


async def test_end_before_start_is_422(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    response = await client.post(
        AGREEMENTS,
        json=agreement_body(medical, elderly, start_date="2026-05-01", end_date="2026-04-01"),
        headers=admin_of(tokens, elderly),
    )
    assert (response.status_code, response.json()["code"]) == (422, "validation_failed")


async def test_unknown_service_kind_is_422(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    response = await client.post(
        AGREEMENTS,
        json=agreement_body(medical, elderly, services=["massage"]),
        headers=admin_of(tokens, elderly),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith("body.services")
