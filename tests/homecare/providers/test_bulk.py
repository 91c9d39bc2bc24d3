"""Bulk provider settings (``POST /providers/bulk``, issue 14) obey the single PUTs' rules.

From rules.md (providers are licensed medical institutions that already run home services — 互联网+护理
or 家庭病床 — and set their own prices within the province's guidance), ARCHITECTURE (scope: a city
platform writes within its city, out-of-scope writes 403 / rejected per record) and libs/common/bulk.py.
"""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.homecare.world import HC, World

BULK = f"{HC}/providers/bulk"
SOURCE = "fj-provinces"
DATA = Path(__file__).resolve().parents[3] / "services" / "homecare" / "data" / "nursing_catalog_inferred.csv"


def record(institution_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": f"P-{institution_id}",
        "institution_id": str(institution_id),
        "visit_fee_yuan": "50.00",
        "items": [{"item_code": "HC01", "price_yuan": "60.00"}, {"item_code": "HC05", "price_yuan": "50.00"}],
    }
    body.update(overrides)
    return body


async def bulk(world: World, records: list[dict[str, Any]], headers: dict[str, str] | None = None) -> Any:
    response = await world.client.post(
        BULK, json={"source_system": SOURCE, "records": records}, headers=headers or world.province()
    )
    return response


async def test_providers_and_their_prices_are_written_and_a_replay_changes_nothing(world: World) -> None:
    inst = await world.institution()
    body = record(inst.id)
    first = await bulk(world, [body])
    assert first.status_code == 200, first.text
    result = first.json()["results"][0]
    assert (result["outcome"], result["id"]) == ("created", str(inst.id))
    detail = (await world.client.get(f"{HC}/providers/{inst.id}", headers=world.admin(inst))).json()
    assert detail["visit_fee_yuan"] == "50.00"
    assert detail["home_bed_service"] is True  # from the registry, as the single PUT takes it
    assert {i["item_code"]: i["price_yuan"] for i in detail["items"]} == {"HC01": "60.00", "HC05": "50.00"}
    again = (await bulk(world, [body])).json()
    assert again["counts"] == {"created": 0, "updated": 0, "unchanged": 1, "rejected": 0}
    changed = (
        await bulk(world, [record(inst.id, items=[{"item_code": "HC01", "price_yuan": "70.00"}])])
    ).json()
    assert changed["results"][0]["outcome"] == "updated"
    detail = (await world.client.get(f"{HC}/providers/{inst.id}", headers=world.admin(inst))).json()
    assert {i["item_code"]: i["price_yuan"] for i in detail["items"]} == {"HC01": "70.00", "HC05": "50.00"}
    feed = (await world.client.get(f"{HC}/changes", params={"limit": 200}, headers=world.province())).json()
    entries = [
        e
        for e in feed["items"]
        if e["entity_type"] == "provider" and e["data"]["institution_id"] == str(inst.id)
    ]
    assert len(entries) == 1


async def test_a_home_bed_provider_that_offers_no_internet_nursing_may_be_a_provider(world: World) -> None:
    """The single PUT and the bulk agree: a medical institution running home beds may hold settings."""
    beds_only = await world.institution(provider=False, home_bed=True)
    single = await world.client.put(
        f"{HC}/providers/{beds_only.id}", json={"visit_fee_yuan": "30"}, headers=world.admin(beds_only)
    )
    assert single.status_code == 201, single.text
    other = await world.institution(provider=False, home_bed=True)
    assert (await bulk(world, [record(other.id)])).json()["results"][0]["outcome"] == "created"


async def _priced_catalog(world: World) -> None:
    with DATA.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*rows[0], "price_min_yuan", "price_max_yuan"])
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "price_min_yuan": "60", "price_max_yuan": "120"})
    response = await world.client.post(
        f"{HC}/catalog/versions",
        data={"code": f"priced-{uuid.uuid4().hex[:6]}", "source": "test"},
        files={"file": ("c.csv", out.getvalue().encode(), "text/csv")},
        headers=world.province(),
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("not flagged", "not_an_internet_nursing_provider"),
        ("elderly-care home", "not_an_internet_nursing_provider"),
        ("unknown institution", "not_an_internet_nursing_provider"),
        ("unknown item", "catalog_item_unknown"),
        ("price outside guidance", "price_outside_guidance"),
        ("item twice", "duplicate_item"),
        ("negative fee", "validation_failed"),
    ],
)
async def test_a_record_the_single_puts_would_refuse_is_rejected_and_writes_nothing(
    world: World, case: str, code: str
) -> None:
    good = await world.institution()
    inst = await world.institution()
    body = record(inst.id)
    if case == "not flagged":
        inst = await world.institution(provider=False, home_bed=False)
        body = record(inst.id)
    elif case == "elderly-care home":
        inst = await world.institution(kind="elderly_care")
        body = record(inst.id)
    elif case == "unknown institution":
        body = record(uuid.uuid4())
    elif case == "unknown item":
        body["items"] = [{"item_code": "ZZ99", "price_yuan": "10.00"}]
    elif case == "price outside guidance":
        await _priced_catalog(world)
        body["items"] = [{"item_code": "HC01", "price_yuan": "200.00"}]
    elif case == "item twice":
        body["items"] = [
            {"item_code": "HC01", "price_yuan": "60.00"},
            {"item_code": "HC01", "price_yuan": "61.00"},
        ]
    elif case == "negative fee":
        body["visit_fee_yuan"] = "-1"
    good_body = record(good.id, items=[{"item_code": "HC01", "price_yuan": "80.00"}])
    response = await bulk(world, [body, good_body])
    assert response.status_code == 200, response.text
    rejected, accepted = response.json()["results"]
    assert (rejected["outcome"], rejected["code"]) == ("rejected", code), (case, rejected)
    assert accepted["outcome"] == "created", accepted
    if case == "price outside guidance":
        assert rejected["errors"][0]["field"] == "records.0.items.0.price_yuan"
    missing = await world.client.get(f"{HC}/providers/{body['institution_id']}", headers=world.province())
    assert missing.status_code == 404  # nothing written for the rejected record


async def test_a_city_platform_writes_within_its_city_only(world: World) -> None:
    xiamen = await world.institution()
    fuzhou = await world.institution(region_code="350102")
    response = await bulk(world, [record(xiamen.id), record(fuzhou.id)], world.platform())
    assert [(r["outcome"], r["code"]) for r in response.json()["results"]] == [
        ("created", None),
        ("rejected", "out_of_scope"),
    ]


@pytest.mark.parametrize("who", ["city", "county", "institution"])
async def test_officials_below_the_province_and_institutions_cannot_bulk_write(
    world: World, who: str
) -> None:
    inst = await world.institution()
    headers = {"city": world.city(), "county": world.county(), "institution": world.admin(inst)}[who]
    response = await bulk(world, [record(inst.id)], headers)
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


async def test_the_protocol_refuses_a_batch_too_large_and_the_same_institution_twice(world: World) -> None:
    inst = await world.institution()
    twice = await bulk(world, [record(inst.id), {**record(inst.id), "external_id": "other"}])
    assert [r["code"] for r in twice.json()["results"]] == [None, "duplicate_in_batch"]
    too_many = await bulk(world, [{"external_id": str(n)} for n in range(1001)])
    assert (too_many.status_code, too_many.json()["code"]) == (422, "batch_too_large")
