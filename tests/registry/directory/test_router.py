"""The partner directory (issue 15): an institution finds the institutions it may sign a 医养签约 with.

Expectations from rules.md "医养签约 agreements" (an agreement binds one medical institution to one
elderly-care institution; partners should be near each other), ARCHITECTURE.md "Personal data" (no
contact person or phone of another institution) and "Regions and scope" (officials see their region).

Every test names its institutions with a marker of its own and searches by it, so that institutions other
tests committed to the same database never enter the expectations.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

import httpx

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.common.forged_cursors import describe, walk
from tests.registry.factories import INSTITUTIONS, create_institution, hospital_body, institution_body

DIRECTORY = "/api/v1/registry/directory/institutions"
HULI, JIMEI, SIMING = "350206", "350211", "350203"
#: a hospital in 湖里 and points north of it, nearer to farther (0.01° of latitude ≈ 1.1 km)
ORIGIN = (24.50, 118.10)


def marker() -> str:
    return uuid.uuid4().hex[:6]


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The great-circle distance, written out here (haversine, mean Earth radius 6371.0088 km)."""
    (lat1, lon1), (lat2, lon2) = (tuple(math.radians(v) for v in p) for p in (a, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


async def elderly_care(
    client: httpx.AsyncClient,
    tokens: Tokens,
    tag: str,
    name: str,
    region: str,
    at: tuple[float, float] | None,
) -> dict[str, Any]:
    coordinates = {"lat": at[0], "lng": at[1]} if at else {"lat": None, "lng": None}
    return await create_institution(
        client, tokens, institution_body(name=f"{name}{tag}颐养院", region_code=region, **coordinates)
    )


async def hospital(
    client: httpx.AsyncClient,
    tokens: Tokens,
    tag: str,
    name: str,
    region: str,
    at: tuple[float, float] | None,
) -> dict[str, Any]:
    coordinates = {"lat": at[0], "lng": at[1]} if at else {"lat": None, "lng": None}
    return await create_institution(
        client, tokens, hospital_body(name=f"{name}{tag}医院", region_code=region, **coordinates)
    )


async def integrated(
    client: httpx.AsyncClient, tokens: Tokens, tag: str, name: str, region: str, at: tuple[float, float]
) -> dict[str, Any]:
    body = institution_body(
        name=f"{name}{tag}医养中心",
        region_code=region,
        kind="integrated",
        category="integrated_institution",
        integrated_model="elderly_care_runs_medical",
        lat=at[0],
        lng=at[1],
    )
    return await create_institution(client, tokens, body)


def user(tokens: Tokens, institution: dict[str, Any], role: Role = Role.institution_admin) -> dict[str, str]:
    return tokens.headers(role, institution["region_code"], institution_id=uuid.UUID(institution["id"]))


async def directory(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get(DIRECTORY, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_hospital_finds_elderly_care_partners_across_the_city_nearest_first(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    tag = marker()
    origin = await hospital(client, tokens, tag, "湖里", HULI, ORIGIN)
    far = await elderly_care(client, tokens, tag, "集美远", JIMEI, (24.70, 118.10))
    near = await elderly_care(client, tokens, tag, "湖里近", HULI, (24.51, 118.10))
    middle = await integrated(client, tokens, tag, "思明", SIMING, (24.55, 118.12))
    nowhere = await elderly_care(client, tokens, tag, "未定位", JIMEI, None)
    await hospital(client, tokens, tag, "集美", JIMEI, (24.505, 118.10))  # medical: no partner of a hospital

    page = await directory(client, user(tokens, origin), q=tag)

    assert page["nearest_first"] is True
    assert [item["id"] for item in page["items"]] == [near["id"], middle["id"], far["id"], nowhere["id"]]
    jimei = page["items"][2]
    assert (jimei["region_code"], jimei["region_name"], jimei["city_name"]) == (JIMEI, "集美区", "厦门市")
    for item, place in zip(
        page["items"][:3], [(24.51, 118.10), (24.55, 118.12), (24.70, 118.10)], strict=True
    ):
        assert abs(item["distance_km"] - km(ORIGIN, place)) < 0.01
    assert page["items"][3]["distance_km"] is None


async def test_an_elderly_care_institution_sees_medical_institutions_only(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    tag = marker()
    home = await elderly_care(client, tokens, tag, "湖里", HULI, ORIGIN)
    await elderly_care(client, tokens, tag, "集美", JIMEI, (24.52, 118.10))
    await integrated(client, tokens, tag, "思明", SIMING, (24.53, 118.10))
    clinic = await hospital(client, tokens, tag, "集美", JIMEI, (24.60, 118.10))

    page = await directory(client, user(tokens, home, Role.institution_staff), q=tag)

    ids = [item["id"] for item in page["items"]]
    assert ids == [clinic["id"]]
    # asking for elderly-care kinds does not widen it
    assert (await directory(client, user(tokens, home), q=tag, kind="elderly_care"))["items"] == []


async def test_an_integrated_institution_looks_for_medical_partners(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    tag = marker()
    centre = await integrated(client, tokens, tag, "湖里", HULI, ORIGIN)
    medical = await hospital(client, tokens, tag, "集美", JIMEI, (24.60, 118.10))
    await elderly_care(client, tokens, tag, "集美", JIMEI, (24.52, 118.10))
    page = await directory(client, user(tokens, centre), q=tag)
    assert [item["id"] for item in page["items"]] == [medical["id"]]


async def test_only_public_fields_are_shown(client: httpx.AsyncClient, tokens: Tokens) -> None:
    tag = marker()
    origin = await hospital(client, tokens, tag, "湖里", HULI, ORIGIN)
    await elderly_care(client, tokens, tag, "集美", JIMEI, (24.52, 118.10))

    response = await client.get(DIRECTORY, params={"q": tag}, headers=user(tokens, origin))

    assert response.status_code == 200, response.text
    item = response.json()["items"][0]
    # the elderly-care home's contact person, phone and legal person (institution_body) never appear
    for personal in ("contact_name", "contact_phone", "legal_person", "uscc", "licence_no", "residents"):
        assert personal not in item
    for value in ("13812345678", "李四", "张三"):
        assert value not in response.text
    assert {"name", "kind", "kind_label", "category_label", "address", "hospital_grade", "beds_total"} <= set(
        item
    )
    assert (item["kind_label"], item["beds_total"]) == ("养老机构", 120)


async def test_inactive_institutions_are_not_listed(client: httpx.AsyncClient, tokens: Tokens) -> None:
    tag = marker()
    origin = await hospital(client, tokens, tag, "湖里", HULI, ORIGIN)
    closed = await elderly_care(client, tokens, tag, "集美", JIMEI, (24.52, 118.10))
    deactivated = await client.post(
        f"{INSTITUTIONS}/{closed['id']}/deactivate",
        headers={**tokens.headers(Role.county_admin, JIMEI), "If-Match": f'"{closed["version"]}"'},
    )
    assert deactivated.status_code == 200, deactivated.text
    assert (await directory(client, user(tokens, origin), q=tag))["items"] == []


async def test_pages_follow_one_another_in_distance_order(client: httpx.AsyncClient, tokens: Tokens) -> None:
    tag = marker()
    origin = await hospital(client, tokens, tag, "湖里", HULI, ORIGIN)
    made = [
        await elderly_care(client, tokens, tag, f"第{n}", JIMEI, (24.50 + 0.01 * n, 118.10))
        for n in (3, 1, 4, 2)
    ]
    # two at the same place (a tie of the distance across a page boundary): the name decides
    made.append(await elderly_care(client, tokens, tag, "第5B", JIMEI, (24.553, 118.117)))
    made.append(await elderly_care(client, tokens, tag, "第5A", JIMEI, (24.553, 118.117)))
    headers = user(tokens, origin)
    whole = [item["id"] for item in (await directory(client, headers, q=tag))["items"]]
    paged: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"q": tag, "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = await directory(client, headers, **params)
        paged += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == whole
    by_name = {m["name"]: m["id"] for m in made}
    expected = [f"第{n}{tag}颐养院" for n in ("1", "2", "3", "4", "5A", "5B")]
    assert whole == [by_name[name] for name in expected]


async def test_officials_see_their_region_only(client: httpx.AsyncClient, tokens: Tokens) -> None:
    tag = marker()
    huli = await elderly_care(client, tokens, tag, "湖里", HULI, ORIGIN)
    jimei = await hospital(client, tokens, tag, "集美", JIMEI, (24.60, 118.10))
    fuzhou = await elderly_care(client, tokens, tag, "仓山", "350104", (26.04, 119.31))

    county = await directory(client, tokens.headers(Role.county_admin, JIMEI), q=tag)
    assert ([item["id"] for item in county["items"]], county["nearest_first"]) == ([jimei["id"]], False)
    city = await directory(client, tokens.headers(Role.city_admin, "350200"), q=tag)
    assert {item["id"] for item in city["items"]} == {huli["id"], jimei["id"]}
    province = await directory(
        client, tokens.headers(Role.province_admin, "350000"), q=tag, region_code="350100"
    )
    assert [item["id"] for item in province["items"]] == [fuzhou["id"]]


async def test_filters_by_kind_and_region(client: httpx.AsyncClient, tokens: Tokens) -> None:
    tag = marker()
    origin = await hospital(client, tokens, tag, "湖里", HULI, ORIGIN)
    home = await elderly_care(client, tokens, tag, "集美", JIMEI, (24.52, 118.10))
    centre = await integrated(client, tokens, tag, "思明", SIMING, (24.53, 118.10))
    headers = user(tokens, origin)
    assert [i["id"] for i in (await directory(client, headers, q=tag, kind="integrated"))["items"]] == [
        centre["id"]
    ]
    assert [i["id"] for i in (await directory(client, headers, q=tag, region_code=JIMEI))["items"]] == [
        home["id"]
    ]
    assert (await directory(client, headers, q=tag, region_code="350100"))["items"] == []


async def test_a_caller_institution_without_coordinates_gets_the_list_by_region(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    tag = marker()
    origin = await hospital(client, tokens, tag, "湖里", HULI, None)
    siming = await elderly_care(client, tokens, tag, "思明", SIMING, (24.45, 118.08))
    jimei = await elderly_care(client, tokens, tag, "集美", JIMEI, (24.52, 118.10))
    page = await directory(client, user(tokens, origin), q=tag)
    assert page["nearest_first"] is False
    assert [item["id"] for item in page["items"]] == [siming["id"], jimei["id"]]  # 350203 before 350211
    assert all(item["distance_km"] is None for item in page["items"])


async def test_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get(DIRECTORY)
    assert (response.status_code, response.json()["code"]) == (401, "missing_token")


async def test_a_city_platform_may_not_browse_it(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.get(DIRECTORY, headers=tokens.headers(Role.city_platform, "350200"))
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


async def test_an_unknown_caller_institution_is_404(client: httpx.AsyncClient, tokens: Tokens) -> None:
    headers = tokens.headers(Role.institution_admin, HULI, institution_id=uuid.uuid4())
    response = await client.get(DIRECTORY, headers=headers)
    assert (response.status_code, response.json()["code"]) == (404, "institution_not_found")


async def test_a_bad_cursor_is_a_422_in_both_orders(client: httpx.AsyncClient, tokens: Tokens) -> None:
    tag = marker()
    origin = await hospital(client, tokens, tag, "湖里", HULI, ORIGIN)
    await elderly_care(client, tokens, tag, "湖里", HULI, (24.52, 118.10))
    official_cursor = (await directory(client, tokens.headers(Role.county_admin, HULI), q=tag, limit=1))[
        "next_cursor"
    ]
    for headers in (user(tokens, origin), tokens.headers(Role.county_admin, HULI)):
        for cursor in ("!!!!", "W10", "WyJ4IiwxLDJd"):  # not base64 JSON, [], ["x",1,2]
            response = await client.get(DIRECTORY, params={"cursor": cursor}, headers=headers)
            assert (response.status_code, response.json()["code"]) == (422, "invalid_cursor"), response.text
    assert official_cursor is not None
    # a cursor of the other order is refused, not misread
    response = await client.get(DIRECTORY, params={"cursor": official_cursor}, headers=user(tokens, origin))
    assert (response.status_code, response.json()["code"]) == (422, "invalid_cursor"), response.text


async def test_every_forged_cursor_is_a_422_in_the_distance_order(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    origin = await hospital(client, tokens, marker(), "湖里", HULI, ORIGIN)
    failures = await walk(client, DIRECTORY, "cursor", user(tokens, origin))
    assert not failures, describe(failures)
