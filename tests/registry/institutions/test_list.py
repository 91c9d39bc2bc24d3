"""List filters, Chinese substring search, cursor pagination, nearby ordering, year stats."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from libs.common.auth import Role
from libs.common.testing import Tokens
from services.registry.institutions import name_search
from services.registry.institutions.name_search import InstitutionNameGram
from tests.registry.factories import INSTITUTIONS, create_institution, hospital_body, institution_body

PROVINCE = {"role": Role.province_admin}


def province(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(Role.province_admin)


async def names(client: httpx.AsyncClient, tokens: Tokens, **params: Any) -> list[str]:
    response = await client.get(INSTITUTIONS, params={"limit": 200, **params}, headers=province(tokens))
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_chinese_substring_search(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await create_institution(client, tokens, name="厦门检索颐养院")
    await create_institution(client, tokens, name="湖里检索护理中心")
    assert await names(client, tokens, q="检索颐养") == ["厦门检索颐养院"]
    assert sorted(await names(client, tokens, q="检索")) == ["厦门检索颐养院", "湖里检索护理中心"]
    assert await names(client, tokens, q="养院") == ["厦门检索颐养院"]


async def test_search_index_follows_renames_and_answers_single_characters(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: Any
) -> None:
    created = await create_institution(client, tokens, name="鹭岛检索甲院")
    assert await names(client, tokens, q="鹭岛检索") == ["鹭岛检索甲院"]
    renamed = await client.patch(
        f"{INSTITUTIONS}/{created['id']}",
        json={"name": "筼筜更名乙院"},
        headers={**tokens.headers(Role.county_admin, created["region_code"]), "If-Match": '"1"'},
    )
    assert renamed.status_code == 200, renamed.text
    assert await names(client, tokens, q="鹭岛检索") == []
    assert await names(client, tokens, q="筼筜更名") == ["筼筜更名乙院"]
    assert await names(client, tokens, q="筜") == ["筼筜更名乙院"]
    async with registry_app.state.database.session(write=False) as session:
        grams = set(
            await session.scalars(
                select(InstitutionNameGram.gram).where(
                    InstitutionNameGram.institution_id == uuid.UUID(created["id"])
                )
            )
        )
    assert grams == name_search.grams("筼筜更名乙院")


async def test_search_treats_wildcards_literally(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await create_institution(client, tokens, name="通配符测试院")
    assert await names(client, tokens, q="%") == []
    assert await names(client, tokens, q="_") == []


async def test_filters_by_kind_category_flags_and_beds(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await create_institution(client, tokens, name="筛选养老院", beds_elderly_care=300)
    await create_institution(client, tokens, hospital_body(name="筛选医院", home_bed_service=True))
    await create_institution(
        client,
        tokens,
        institution_body(
            name="筛选结合院",
            kind="integrated",
            integrated_model="medical_runs_elderly_care",
            category="hospital",
            hospital_type="nursing_home",
            ws218_kind_code="A710",
            beds_integrated=80,
        ),
    )
    assert sorted(await names(client, tokens, q="筛选", kind=["medical", "integrated"])) == [
        "筛选医院",
        "筛选结合院",
    ]
    assert await names(client, tokens, q="筛选", category="elderly_care_home") == ["筛选养老院"]
    assert await names(client, tokens, q="筛选", home_bed_service="true") == ["筛选医院"]
    assert await names(client, tokens, q="筛选", internet_nursing_provider="true") == ["筛选医院"]
    assert await names(client, tokens, q="筛选", beds_elderly_care_min=200) == ["筛选养老院"]
    assert await names(client, tokens, q="筛选", beds_integrated_min=1, beds_integrated_max=100) == [
        "筛选结合院"
    ]
    assert sorted(await names(client, tokens, q="筛选", has_medical_unit="true")) == [
        "筛选医院",
        "筛选结合院",
    ]


async def test_region_filter_is_intersected_with_the_scope(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await create_institution(client, tokens, name="区划湖里院")
    await create_institution(client, tokens, name="区划思明院", region_code="350203")
    await create_institution(client, tokens, name="区划仓山院", region_code="350104")
    await create_institution(client, tokens, name="区划平潭院", region_code="350128")
    assert sorted(await names(client, tokens, q="区划", region_code="350200")) == ["区划思明院", "区划湖里院"]
    assert await names(client, tokens, q="区划", region_code="350203") == ["区划思明院"]
    assert await names(client, tokens, q="区划", region_code="350100") == ["区划仓山院"]  # 平潭 is apart
    assert await names(client, tokens, q="区划", region_code="350128") == ["区划平潭院"]
    huli = tokens.headers(Role.county_admin, "350206")
    response = await client.get(INSTITUTIONS, params={"q": "区划", "region_code": "350200"}, headers=huli)
    assert [i["name"] for i in response.json()["items"]] == ["区划湖里院"]
    unknown = await client.get(INSTITUTIONS, params={"region_code": "359999"}, headers=huli)
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_region"


async def test_operating_since_range(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await create_institution(client, tokens, name="开业早院", operating_since="2005-01-01")
    await create_institution(client, tokens, name="开业晚院", operating_since="2022-01-01")
    assert await names(client, tokens, q="开业", operating_since_to="2010-12-31") == ["开业早院"]
    assert await names(client, tokens, q="开业", operating_since_from="2020-01-01") == ["开业晚院"]


async def test_cursor_pagination_visits_every_row_once(client: httpx.AsyncClient, tokens: Tokens) -> None:
    created = {(await create_institution(client, tokens, name=f"分页测试院{i:02d}"))["id"] for i in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": "分页测试", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(INSTITUTIONS, params=params, headers=province(tokens))).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 7
    assert set(seen) == created


async def test_bad_cursor_is_422(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.get(INSTITUTIONS, params={"cursor": "garbage!"}, headers=province(tokens))
    assert response.status_code == 422


async def test_nearby_orders_by_distance_and_filters_by_kind(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    # around 湖里 (24.512, 118.146): about 1 km, 5 km and 30 km away, plus one hospital 2 km away
    near = await create_institution(client, tokens, name="附近一公里", lat=24.521, lng=118.146)
    mid = await create_institution(client, tokens, name="附近五公里", lat=24.557, lng=118.146)
    far = await create_institution(client, tokens, name="附近三十公里", lat=24.782, lng=118.146)
    hospital = await create_institution(
        client, tokens, hospital_body(name="附近医院", lat=24.512, lng=118.166)
    )
    params = {"lat": 24.512, "lng": 118.146, "radius_km": 10}
    response = await client.get(f"{INSTITUTIONS}/nearby", params=params, headers=province(tokens))
    assert response.status_code == 200, response.text
    found = [(r["institution"]["id"], r["distance_km"]) for r in response.json()]
    ids = [i for i, _ in found]
    assert ids[:3] == [near["id"], hospital["id"], mid["id"]]
    assert far["id"] not in ids
    assert found[0][1] == pytest.approx(1.0, abs=0.05)
    assert found[2][1] == pytest.approx(5.0, abs=0.1)
    medical = await client.get(
        f"{INSTITUTIONS}/nearby", params={**params, "kind": "medical"}, headers=province(tokens)
    )
    assert [r["institution"]["id"] for r in medical.json()] == [hospital["id"]]
    wide = await client.get(
        f"{INSTITUTIONS}/nearby", params={**params, "radius_km": 40}, headers=province(tokens)
    )
    assert far["id"] in [r["institution"]["id"] for r in wide.json()]


async def test_nearby_respects_scope_and_skips_inactive(client: httpx.AsyncClient, tokens: Tokens) -> None:
    siming = await create_institution(
        client, tokens, name="附近思明院", region_code="350203", lat=24.45, lng=118.08
    )
    closed = await create_institution(client, tokens, name="附近停用院", lat=24.45, lng=118.081)
    await client.post(
        f"{INSTITUTIONS}/{closed['id']}/deactivate",
        headers={**tokens.headers(Role.county_admin, "350206"), "If-Match": '"1"'},
    )
    params = {"lat": 24.45, "lng": 118.08, "radius_km": 2}
    huli = await client.get(
        f"{INSTITUTIONS}/nearby", params=params, headers=tokens.headers(Role.county_admin, "350206")
    )
    assert huli.json() == []
    xiamen = await client.get(
        f"{INSTITUTIONS}/nearby", params=params, headers=tokens.headers(Role.city_admin, "350200")
    )
    assert [r["institution"]["id"] for r in xiamen.json()] == [siming["id"]]


async def test_year_stats_put_read_and_if_match(client: httpx.AsyncClient, tokens: Tokens) -> None:
    institution = await create_institution(client, tokens)
    url = f"{INSTITUTIONS}/{institution['id']}/year-stats"
    own = tokens.headers(Role.institution_admin, "350206", institution_id=uuid.UUID(institution["id"]))
    figures = {
        "operating_beds": 100,
        "occupied_bed_days": 25550,
        "residents": 80,
        "disabled_residents": 50,
        "dementia_residents": 10,
        "disabled_or_dementia_residents": 55,
    }
    created = await client.put(f"{url}/2024", json=figures, headers=own)
    assert created.status_code == 201, created.text
    assert created.json()["occupancy_rate"] == pytest.approx(25550 / (100 * 366), abs=1e-4)
    no_match = await client.put(f"{url}/2024", json=figures, headers=own)
    assert no_match.status_code == 428
    replaced = await client.put(
        f"{url}/2024", json={**figures, "residents": 90}, headers={**own, "If-Match": '"1"'}
    )
    assert replaced.status_code == 200
    await client.put(f"{url}/2025", json=figures, headers=own)
    listed = await client.get(
        url, params={"year_from": 2025}, headers=tokens.headers(Role.city_admin, "350200")
    )
    assert [r["year"] for r in listed.json()] == [2025]
    assert (await client.get(url, headers=tokens.headers(Role.county_admin, "350203"))).status_code == 404


@pytest.mark.parametrize(
    "patch",
    [
        {"disabled_or_dementia_residents": 45},  # fewer than the disabled alone
        {"disabled_or_dementia_residents": 61},  # more than both together
        {"occupied_bed_days": 100 * 367},
    ],
)
async def test_inconsistent_year_stats_are_422(
    client: httpx.AsyncClient, tokens: Tokens, patch: dict[str, int]
) -> None:
    institution = await create_institution(client, tokens)
    figures = {
        "operating_beds": 100,
        "occupied_bed_days": 25550,
        "residents": 80,
        "disabled_residents": 50,
        "dementia_residents": 10,
        "disabled_or_dementia_residents": 55,
        **patch,
    }
    response = await client.put(
        f"{INSTITUTIONS}/{institution['id']}/year-stats/2024",
        json=figures,
        headers=tokens.headers(Role.county_admin, "350206"),
    )
    assert response.status_code == 422
