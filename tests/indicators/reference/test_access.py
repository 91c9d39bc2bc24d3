"""Who may load and read the reference tables, and what each official reads (issue 13, B1):
only province admins load; officials read in their scope — a county its own population rows and the
targets that apply to it (the province's, its city's, its own); institution users and city platforms
nothing."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.indicators.reference.helpers import (
    BASE,
    XLSX,
    admin,
    listing,
    population_file,
    sheet_rows,
    targets_file,
    upload,
)

POPULATION = [
    ["350206", 2024, 1000, 100, "x"],  # 湖里 (厦门)
    ["350203", 2024, 1000, 100, "x"],  # 思明 (厦门)
    ["350102", 2024, 1000, 100, "x"],  # 鼓楼 (福州)
    ["350128", 2024, 1000, 100, "x"],  # 平潭: a city-level unit, not in 福州's scope
]
DUE = date(2025, 12, 31)
TARGETS = [
    ["agreement_coverage", "350000", "否", "≥", 1, DUE, "province"],
    ["hospice_counties", "350000", "是", "≥", 1, DUE, "each county of the province"],
    ["home_bed_providers", "350200", "是", "≥", 1, DUE, "each county of 厦门"],
    ["integrated_beds", "350200", "否", "≥", 100, DUE, "厦门"],
    ["signed_pairs", "350206", "否", "≥", 10, DUE, "湖里"],
    ["signed_pairs", "350203", "否", "≥", 10, DUE, "思明"],
    ["integrated_beds", "350100", "否", "≥", 100, DUE, "福州"],
    ["signed_pairs", "350102", "否", "≥", 10, DUE, "鼓楼"],
    ["signed_pairs", "350128", "否", "≥", 10, DUE, "平潭"],
]
INSTITUTION = uuid.uuid4()


async def load_both(client: httpx.AsyncClient, tokens: Tokens) -> None:
    assert (await upload(client, tokens, "population", population_file(POPULATION))).status_code == 201
    assert (await upload(client, tokens, "targets", targets_file(TARGETS))).status_code == 201


def headers(tokens: Tokens, role: Role, region: str) -> dict[str, str]:
    institution = INSTITUTION if role in (Role.institution_admin, Role.institution_staff) else None
    return tokens.headers(role, region, institution_id=institution)


@pytest.mark.parametrize(
    ("role", "region"),
    [
        (Role.city_admin, "350200"),
        (Role.county_admin, "350206"),
        (Role.institution_admin, "350206"),
        (Role.institution_staff, "350206"),
        (Role.city_platform, "350200"),
        (Role.service, "350000"),
    ],
)
@pytest.mark.parametrize("dataset", ["population", "targets"])
async def test_only_province_admins_load(
    client: httpx.AsyncClient, tokens: Tokens, role: Role, region: str, dataset: str
) -> None:
    content = population_file(POPULATION) if dataset == "population" else targets_file(TARGETS)
    before = (await client.get(f"{BASE}/{dataset}/versions", headers=admin(tokens))).json()["items"]
    response = await client.post(
        f"{BASE}/{dataset}/import",
        files={"file": ("f.xlsx", content, XLSX)},
        headers=headers(tokens, role, region),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    after = (await client.get(f"{BASE}/{dataset}/versions", headers=admin(tokens))).json()["items"]
    assert after == before


@pytest.mark.parametrize(
    ("role", "region"),
    [
        (Role.institution_admin, "350206"),
        (Role.institution_staff, "350206"),
        (Role.city_platform, "350200"),
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "population",
        "population/versions",
        "population/export",
        "targets",
        "targets/versions",
        "targets/export",
    ],
)
async def test_institution_users_and_city_platforms_read_nothing(
    client: httpx.AsyncClient, tokens: Tokens, role: Role, region: str, path: str
) -> None:
    response = await client.get(f"{BASE}/{path}", headers=headers(tokens, role, region))
    assert response.status_code == 403


async def test_no_token_is_401(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{BASE}/population")).status_code == 401
    response = await client.post(
        f"{BASE}/targets/import", files={"file": ("f.xlsx", targets_file(TARGETS), XLSX)}
    )
    assert response.status_code == 401


POPULATION_SCOPE = [
    (Role.province_admin, "350000", {"350206", "350203", "350102", "350128"}),
    (Role.city_admin, "350200", {"350206", "350203"}),
    (Role.city_admin, "350100", {"350102"}),
    (Role.city_admin, "350128", {"350128"}),
    (Role.county_admin, "350206", {"350206"}),
    (Role.county_admin, "350128", {"350128"}),
]


@pytest.mark.parametrize(("role", "region", "expected"), POPULATION_SCOPE)
async def test_officials_read_the_population_of_their_counties(
    client: httpx.AsyncClient, tokens: Tokens, role: Role, region: str, expected: set[str]
) -> None:
    await load_both(client, tokens)
    table = await listing(client, tokens, "population", headers=headers(tokens, role, region))
    assert {i["region_code"] for i in table["items"]} == expected
    exported = await client.get(f"{BASE}/population/export", headers=headers(tokens, role, region))
    _sheet, rows = sheet_rows(exported.content)
    assert {row[0] for row in rows[1:]} == expected


TARGET_SCOPE: list[tuple[Role, str, set[str]]] = [
    (Role.province_admin, "350000", {str(t[6]) for t in TARGETS}),
    # a county: the province's targets (whole and each county), its city's, its own
    (
        Role.county_admin,
        "350206",
        {"province", "each county of the province", "each county of 厦门", "厦门", "湖里"},
    ),
    # a city: the province's, its own, its counties'
    (
        Role.city_admin,
        "350200",
        {"province", "each county of the province", "each county of 厦门", "厦门", "湖里", "思明"},
    ),
    # 福州's region leaves 平潭 out
    (Role.city_admin, "350100", {"province", "each county of the province", "福州", "鼓楼"}),
    # 平潭 is its own city-level unit: 福州's targets do not apply to it
    (Role.county_admin, "350128", {"province", "each county of the province", "平潭"}),
]


@pytest.mark.parametrize(("role", "region", "expected"), TARGET_SCOPE)
async def test_officials_read_the_targets_that_apply_in_their_region(
    client: httpx.AsyncClient, tokens: Tokens, role: Role, region: str, expected: set[str]
) -> None:
    await load_both(client, tokens)
    table = await listing(client, tokens, "targets", headers=headers(tokens, role, region))
    sources: list[Any] = [i["source"] for i in table["items"]]
    assert set(sources) == expected
    assert len(sources) == len(expected)  # each once
    exported = await client.get(f"{BASE}/targets/export", headers=headers(tokens, role, region))
    _sheet, rows = sheet_rows(exported.content)
    assert {row[8] for row in rows[1:]} == expected


async def test_every_official_sees_the_versions(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await load_both(client, tokens)
    response = await client.get(
        f"{BASE}/targets/versions", headers=tokens.headers(Role.county_admin, "350206")
    )
    assert response.status_code == 200
    assert response.json()["items"][0]["row_count"] == len(TARGETS)
