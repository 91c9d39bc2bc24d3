from __future__ import annotations

import httpx

from libs.common.auth import Role
from libs.common.testing import Tokens

BASE = "/api/v1/registry/institutions"


async def test_county_admin_creates_and_reads_institution_in_its_county(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = tokens.headers(Role.county_admin, "350206")
    created = await client.post(
        BASE,
        json={"name": "湖里区测试护理院", "kind": "elderly_care", "region_code": "350206"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["kind_label"] == "养老机构"
    assert created.headers["etag"] == '"1"'
    fetched = await client.get(f"{BASE}/{body['id']}", headers=headers)
    assert fetched.status_code == 200
    assert fetched.json()["name"] == "湖里区测试护理院"


async def test_other_county_reading_the_record_gets_404(client: httpx.AsyncClient, tokens: Tokens) -> None:
    created = await client.post(
        BASE,
        json={"name": "湖里区测试护理院", "kind": "elderly_care", "region_code": "350206"},
        headers=tokens.headers(Role.county_admin, "350206"),
    )
    other = await client.get(
        f"{BASE}/{created.json()['id']}", headers=tokens.headers(Role.county_admin, "350203")
    )
    assert other.status_code == 404
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "institution_not_found"
