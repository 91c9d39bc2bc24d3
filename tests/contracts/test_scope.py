"""Who sees an agreement: region scope (either party's county: the elderly-care party's, where it belongs,
and the medical party's, which assesses its hospital's 签约 work — issue 13) and the two parties."""

from __future__ import annotations

import uuid

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.contracts.flows import AGREEMENTS, admin_of, signed
from tests.contracts.registry_data import RegistryData

# reader → (role, region, institution: "medical" | "elderly" | "other" | None, sees it)
READERS = {
    "province": (Role.province_admin, "350000", None, True),
    "own_city": (Role.city_admin, "350200", None, True),
    "other_city": (Role.city_admin, "350100", None, False),
    "elderly_county": (Role.county_admin, "350206", None, True),
    "medical_county": (Role.county_admin, "350203", None, True),
    "third_county": (Role.county_admin, "350205", None, False),
    "medical_admin": (Role.institution_admin, "350203", "medical", True),
    "medical_staff": (Role.institution_staff, "350203", "medical", True),
    "elderly_admin": (Role.institution_admin, "350206", "elderly", True),
    "other_institution": (Role.institution_admin, "350206", "other", False),
    "own_city_platform": (Role.city_platform, "350200", None, True),
    "other_city_platform": (Role.city_platform, "350100", None, False),
    "service": (Role.service, "350000", None, True),
}


@pytest.mark.parametrize("reader", sorted(READERS))
async def test_scope_matrix_for_reading_agreements(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, reader: str
) -> None:
    medical, elderly = await registry.medical("350203"), await registry.elderly("350206")
    agreement = await signed(client, tokens, medical, elderly)
    role, region, which, sees = READERS[reader]
    institution = {"medical": medical["id"], "elderly": elderly["id"], "other": str(uuid.uuid4())}.get(
        which or ""
    )
    headers = tokens.headers(role, region, institution_id=uuid.UUID(institution) if institution else None)

    detail = await client.get(f"{AGREEMENTS}/{agreement['id']}", headers=headers)
    assert detail.status_code == (200 if sees else 404), detail.text
    listed = await client.get(AGREEMENTS, params={"limit": 200}, headers=headers)
    assert listed.status_code == 200
    assert (agreement["id"] in {item["id"] for item in listed.json()["items"]}) is sees
    printed = await client.get(f"{AGREEMENTS}/{agreement['id']}/print", headers=headers)
    assert printed.status_code == (200 if sees else 404)


async def test_institution_user_acts_only_for_its_own_institution(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly, other = await registry.medical(), await registry.elderly(), await registry.elderly()
    agreement = await signed(client, tokens, medical, elderly, start_date="2026-03-01")
    response = await client.post(
        f"{AGREEMENTS}/{agreement['id']}/terminate",
        json={"reason": "冒名终止"},
        headers={**admin_of(tokens, other), "If-Match": f'"{agreement["version"]}"'},
    )
    assert response.status_code == 404  # not even visible to another institution
    staff = tokens.headers(Role.institution_staff, "350206", institution_id=uuid.UUID(elderly["id"]))
    response = await client.post(
        f"{AGREEMENTS}/{agreement['id']}/terminate",
        json={"reason": "护士无权终止"},
        headers={**staff, "If-Match": f'"{agreement["version"]}"'},
    )
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    county = tokens.headers(Role.county_admin, "350206")
    response = await client.post(
        f"{AGREEMENTS}/{agreement['id']}/terminate",
        json={"reason": "县级不能代签"},
        headers={**county, "If-Match": f'"{agreement["version"]}"'},
    )
    assert response.status_code == 403


async def test_list_filters_by_effective_status(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical = await registry.medical()
    first, second = await registry.elderly(), await registry.elderly()
    active = await signed(client, tokens, medical, first, start_date="2026-03-01")
    future = await signed(client, tokens, medical, second, start_date="2026-05-01")
    headers = tokens.headers(Role.county_admin, "350206")
    ids = {
        status: {
            i["id"]
            for i in (await client.get(AGREEMENTS, params={"status": status}, headers=headers)).json()[
                "items"
            ]
        }
        for status in ("active", "countersigned", "expired")
    }
    assert active["id"] in ids["active"]
    assert active["id"] not in ids["countersigned"]
    assert future["id"] in ids["countersigned"]
    assert future["id"] not in ids["active"]


async def test_list_filters_by_region_including_lower_levels(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, huli, siming = (
        await registry.medical("350211"),  # 集美
        await registry.elderly("350206"),
        await registry.elderly("350203"),
    )
    in_huli = await signed(client, tokens, medical, huli)
    in_siming = await signed(client, tokens, medical, siming)
    headers = tokens.headers(Role.province_admin)
    both = {in_huli["id"], in_siming["id"]}
    # ?region_code= matches either party's county, at any level
    for region, expected in (("350200", both), ("350211", both), ("350206", {in_huli["id"]})):
        listed = await client.get(AGREEMENTS, params={"region_code": region, "limit": 200}, headers=headers)
        assert both & {i["id"] for i in listed.json()["items"]} == expected, region
    unknown = await client.get(AGREEMENTS, params={"region_code": "359999"}, headers=headers)
    assert (unknown.status_code, unknown.json()["code"]) == (422, "unknown_region")
