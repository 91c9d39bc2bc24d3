"""``POST /institutions/year-stats/bulk``: year figures in bulk, one record per (institution, year)
(issue 14). Expectations from the model's definitions (occupancy = bed-days ÷ (beds × days); the union of
失能 and 失智 counts a person once), the history rules (a year is reported once it is over, not before the
institution opened) and the bulk protocol (libs/common/bulk.py)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from libs.common.auth import Role
from libs.common.clock import today_in_china
from libs.common.testing import Tokens
from tests.registry.factories import INSTITUTIONS, create_institution

BULK = f"{INSTITUTIONS}/year-stats/bulk"
HULI, SIMING, XIAMEN = "350206", "350203", "350200"
FIGURES = {
    "operating_beds": 120,
    "occupied_bed_days": 35040,
    "residents": 96,
    "disabled_residents": 40,
    "dementia_residents": 12,
    "disabled_or_dementia_residents": 46,
}


def record(external_id: str, institution_id: str, year: int, **overrides: Any) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "institution_id": institution_id,
        "year": year,
        **FIGURES,
        **overrides,
    }


def province(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(Role.province_admin, "350000")


async def post(
    client: httpx.AsyncClient, headers: dict[str, str], *records: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        BULK, json={"source_system": "xm-stats", "records": list(records)}, headers=headers
    )


async def test_created_replayed_unchanged_and_replaced_like_the_put(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    home = await create_institution(client, tokens)
    records = [record("Y-2023", home["id"], 2023), record("Y-2024", home["id"], 2024)]
    first = await post(client, province(tokens), *records)
    assert first.status_code == 200, first.text
    assert first.json()["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    feed_before = await client.get(
        "/api/v1/registry/changes", params={"limit": 1000}, headers=province(tokens)
    )
    replay = await post(client, province(tokens), *records)
    assert replay.json()["counts"]["unchanged"] == 2
    feed_after = await client.get(
        "/api/v1/registry/changes", params={"limit": 1000}, headers=province(tokens)
    )
    assert len(feed_after.json()["items"]) == len(feed_before.json()["items"])
    replaced = await post(client, province(tokens), record("Y-2024", home["id"], 2024, residents=100))
    result = replaced.json()["results"][0]
    assert (result["outcome"], result["version"]) == ("updated", 2)
    listed = await client.get(f"{INSTITUTIONS}/{home['id']}/year-stats", headers=province(tokens))
    assert [(row["year"], row["residents"]) for row in listed.json()] == [(2023, 96), (2024, 100)]
    assert listed.json()[0]["occupancy_rate"] == 0.8


async def test_each_written_year_reaches_the_feed_in_request_order(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    home = await create_institution(client, tokens)
    response = await post(
        client, province(tokens), record("F-2022", home["id"], 2022), record("F-2021", home["id"], 2021)
    )
    ids = [r["id"] for r in response.json()["results"]]
    feed = await client.get("/api/v1/registry/changes", params={"limit": 1000}, headers=province(tokens))
    entries = [e for e in feed.json()["items"] if e["entity_id"] in ids]
    assert [e["entity_id"] for e in entries] == ids
    assert [e["data"]["year"] for e in entries] == [2022, 2021]
    assert entries[0]["entity_type"] == "institution_year_stat"


async def test_years_not_over_or_before_opening_and_inconsistent_figures_are_refused(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    home = await create_institution(client, tokens)  # opened 2015-06-01
    this_year = today_in_china().year
    response = await post(
        client,
        province(tokens),
        record("N-1", home["id"], this_year),
        record("N-2", home["id"], this_year + 1),
        record("N-3", home["id"], 2014),
        record("N-4", home["id"], 2016, disabled_or_dementia_residents=60),  # more than the parts' sum
        record("N-5", home["id"], 2017, occupied_bed_days=120 * 367),
        record("N-6", str(uuid.uuid4()), 2018),
        record("N-7", home["id"], 2015),
        record("N-8", home["id"], 2015),
    )
    results = response.json()["results"]
    assert [r["code"] for r in results] == [
        "year_not_past",
        "year_not_past",
        "before_institution_opened",
        "validation_failed",
        "validation_failed",
        "institution_not_found",
        None,
        "duplicate_in_batch",
    ]
    assert results[0]["errors"][0]["field"] == "records.0.year"
    listed = await client.get(f"{INSTITUTIONS}/{home['id']}/year-stats", headers=province(tokens))
    assert [row["year"] for row in listed.json()] == [2015]


async def test_the_single_put_refuses_a_year_not_over_too(client: httpx.AsyncClient, tokens: Tokens) -> None:
    home = await create_institution(client, tokens)
    response = await client.put(
        f"{INSTITUTIONS}/{home['id']}/year-stats/{today_in_china().year}",
        json=FIGURES,
        headers=tokens.headers(Role.county_admin, HULI),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "year_not_past"


async def test_scope_a_platform_within_its_city_a_county_within_its_own_and_no_institution(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    home = await create_institution(client, tokens)
    xiamen = tokens.headers(Role.city_platform, XIAMEN, sub="client:xm_city_platform")
    assert (await post(client, xiamen, record("S-1", home["id"], 2020))).json()["results"][0]["outcome"] == (
        "created"
    )
    fuzhou = tokens.headers(Role.city_platform, "350100", sub="client:fz_city_platform")
    assert (await post(client, fuzhou, record("S-2", home["id"], 2021))).json()["results"][0]["code"] == (
        "institution_not_found"
    )
    siming = tokens.headers(Role.county_admin, SIMING)
    assert (await post(client, siming, record("S-3", home["id"], 2022))).json()["results"][0]["code"] == (
        "institution_not_found"
    )
    own = tokens.headers(Role.institution_admin, HULI, institution_id=uuid.UUID(home["id"]))
    assert (await post(client, own, record("S-4", home["id"], 2023))).status_code == 403


async def test_a_batch_above_the_limit_is_refused_whole(client: httpx.AsyncClient, tokens: Tokens) -> None:
    home = await create_institution(client, tokens)
    records = [record(f"B-{i}", home["id"], 2016) for i in range(1001)]
    response = await post(client, province(tokens), *records)
    assert response.status_code == 422
    assert response.json()["code"] == "batch_too_large"
