from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.registry.factories import create_institution, hospital_body, institution_body

STATS = "/api/v1/registry/stats"


async def _seed(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await create_institution(client, tokens, name="统计养老院", beds_elderly_care=100)
    await create_institution(
        client, tokens, hospital_body(name="统计医院", beds_medical=300, beds_rehabilitation=20)
    )
    await create_institution(
        client,
        tokens,
        institution_body(
            name="统计结合院",
            region_code="350203",
            kind="integrated",
            integrated_model="elderly_care_runs_medical",
            beds_elderly_care=200,
            beds_integrated=150,
            beds_medical=30,
        ),
    )
    await create_institution(client, tokens, name="统计仓山院", region_code="350104", beds_elderly_care=50)
    await create_institution(client, tokens, name="统计平潭院", region_code="350128", beds_elderly_care=40)


async def _baseline(client: httpx.AsyncClient, tokens: Tokens, group_by: str) -> dict[str, dict[str, object]]:
    response = await client.get(
        STATS, params={"group_by": group_by}, headers=tokens.headers(Role.province_admin)
    )
    return {g["region_code"]: g for g in response.json()["groups"]} | {"total": response.json()["totals"]}


async def test_province_sees_every_city_unit_with_totals(client: httpx.AsyncClient, tokens: Tokens) -> None:
    before = await _baseline(client, tokens, "city")
    await _seed(client, tokens)
    response = await client.get(
        STATS, params={"group_by": "city"}, headers=tokens.headers(Role.province_admin)
    )
    assert response.status_code == 200
    body = response.json()
    groups = {g["region_code"]: g for g in body["groups"]}
    assert len(groups) == 10  # nine cities and 平潭
    assert groups["350128"]["region_name"] == "平潭县"

    def delta(code: str, *path: str) -> int:
        now: Any = groups[code] if code != "total" else body["totals"]
        then: Any = before[code]
        for key in path:
            now, then = now[key], then[key]
        return int(now) - int(then)

    assert delta("350200", "institutions") == 3
    assert delta("350200", "by_kind", "integrated") == 1
    assert delta("350200", "beds", "beds_integrated") == 150
    assert delta("350200", "beds_by_kind", "medical", "beds_medical") == 300
    assert delta("350100", "institutions") == 1  # 平潭 is not counted in 福州
    assert delta("350128", "beds", "beds_elderly_care") == 40
    assert delta("total", "institutions") == 5
    assert delta("total", "by_category", "hospital") == 1
    assert body["scope_region_name"] == "福建省"
    assert body["kind_labels"]["integrated"] == "医养结合机构"


async def test_county_grouping_in_a_city_scope(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await _seed(client, tokens)
    response = await client.get(
        STATS, params={"group_by": "county"}, headers=tokens.headers(Role.city_admin, "350200")
    )
    body = response.json()
    codes = [g["region_code"] for g in body["groups"]]
    assert codes == ["350203", "350205", "350206", "350211", "350212", "350213"]
    assert body["scope_region_code"] == "350200"
    total = body["totals"]["institutions"]
    assert total == sum(g["institutions"] for g in body["groups"])


async def test_county_sees_only_itself(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await _seed(client, tokens)
    response = await client.get(
        STATS, params={"group_by": "county"}, headers=tokens.headers(Role.county_admin, "350203")
    )
    assert [g["region_code"] for g in response.json()["groups"]] == ["350203"]


async def test_deactivated_institutions_are_not_counted(client: httpx.AsyncClient, tokens: Tokens) -> None:
    headers = tokens.headers(Role.county_admin, "350206")
    before = (await client.get(STATS, params={"group_by": "county"}, headers=headers)).json()["totals"][
        "institutions"
    ]
    created = await create_institution(client, tokens, name="统计停用院")
    await client.post(
        f"/api/v1/registry/institutions/{created['id']}/deactivate", headers={**headers, "If-Match": '"1"'}
    )
    after = (await client.get(STATS, params={"group_by": "county"}, headers=headers)).json()["totals"][
        "institutions"
    ]
    assert after == before


@pytest.mark.parametrize("role", [Role.institution_admin, Role.institution_staff, Role.city_platform])
async def test_institution_users_and_platforms_have_no_stats(
    client: httpx.AsyncClient, tokens: Tokens, role: Role
) -> None:
    response = await client.get(STATS, headers=tokens.headers(role, "350206", institution_id=uuid.uuid4()))
    assert response.status_code == 403


async def test_integrated_institutions_are_counted_as_the_province_reports_them(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    """indicators.md ``integrated_institutions``: kind integrated, or an elderly-care institution with an
    accepted 内设医疗机构 filing, or a medical institution with registered elderly-care beds (两证齐全); their
    beds are medical + elderly-care beds. A plain home or hospital is not one."""
    headers = tokens.headers(Role.county_admin, "350206")

    async def totals() -> dict[str, int]:
        body = (await client.get(STATS, params={"group_by": "county"}, headers=headers)).json()
        return {k: body["totals"][k] for k in ("integrated_institutions", "integrated_institution_beds")}

    before = await totals()
    await create_institution(client, tokens, name="口径养老院", beds_elderly_care=80)  # not integrated
    await create_institution(
        client, tokens, hospital_body(name="口径医院", beds_medical=200)
    )  # not integrated
    await create_institution(  # 两证齐全: a hospital with elderly-care beds
        client, tokens, hospital_body(name="口径两证医院", beds_medical=100, beds_elderly_care=40)
    )
    await create_institution(
        client,
        tokens,
        institution_body(
            name="口径结合院",
            kind="integrated",
            integrated_model="elderly_care_runs_medical",
            beds_elderly_care=60,
            beds_medical=10,
        ),
    )
    after = await totals()
    assert after["integrated_institutions"] - before["integrated_institutions"] == 2
    assert after["integrated_institution_beds"] - before["integrated_institution_beds"] == (100 + 40) + (
        60 + 10
    )
