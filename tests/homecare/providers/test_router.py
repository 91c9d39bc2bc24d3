from __future__ import annotations

import csv
import io
from pathlib import Path

from fastapi import FastAPI

from tests.homecare.world import HC, World

DATA = Path(__file__).resolve().parents[3] / "services" / "homecare" / "data" / "nursing_catalog_inferred.csv"


async def _publish_with_prices(world: World) -> None:
    with DATA.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*rows[0], "price_min_yuan", "price_max_yuan"])
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "price_min_yuan": "60", "price_max_yuan": "120"})
    response = await world.client.post(
        f"{HC}/catalog/versions",
        data={"code": "priced-1", "source": "test"},
        files={"file": ("c.csv", out.getvalue().encode(), "text/csv")},
        headers=world.province(),
    )
    assert response.status_code == 201, response.text


async def test_a_provider_sets_prices_within_the_guidance_only(world: World) -> None:
    await _publish_with_prices(world)
    provider = await world.provider(prices={})
    url = f"{HC}/providers/{provider.id}/items/HC01"
    low = await world.client.put(url, json={"price_yuan": "59.99"}, headers=world.admin(provider))
    assert low.status_code == 422
    assert low.json()["code"] == "price_outside_guidance"
    assert low.json()["errors"][0]["field"] == "body.price_yuan"
    high = await world.client.put(url, json={"price_yuan": "120.01"}, headers=world.admin(provider))
    assert high.status_code == 422
    ok = await world.client.put(url, json={"price_yuan": "120.00"}, headers=world.admin(provider))
    assert ok.status_code == 200
    assert ok.json()["orderable"] is True
    stale = await world.client.put(url, json={"price_yuan": "100"}, headers=world.admin(provider))
    assert stale.status_code == 428
    unknown = await world.client.put(
        f"{HC}/providers/{provider.id}/items/ZZ99", json={"price_yuan": "1"}, headers=world.admin(provider)
    )
    assert unknown.status_code == 422


async def test_an_institution_not_flagged_in_the_registry_cannot_become_a_provider(world: World) -> None:
    clinic = await world.institution(provider=False, home_bed=False)
    response = await world.client.put(
        f"{HC}/providers/{clinic.id}", json={"visit_fee_yuan": "30"}, headers=world.admin(clinic)
    )
    assert response.status_code == 422
    assert response.json()["code"] == "not_an_internet_nursing_provider"
    care_home = await world.institution(kind="elderly_care", provider=True)
    response = await world.client.put(
        f"{HC}/providers/{care_home.id}", json={"visit_fee_yuan": "30"}, headers=world.admin(care_home)
    )
    assert response.status_code == 422


async def test_only_the_institutions_own_admin_sets_its_provider_settings(world: World) -> None:
    provider = await world.provider()
    other = await world.provider()
    response = await world.client.put(
        f"{HC}/providers/{provider.id}",
        json={"visit_fee_yuan": "30"},
        headers={**world.admin(other), "If-Match": '"1"'},
    )
    assert response.status_code == 403


async def test_the_visit_fee_ceiling_applies_when_configured(world: World, homecare_app: FastAPI) -> None:
    provider = await world.institution()
    settings = homecare_app.state.settings
    from decimal import Decimal

    previous = settings.visit_fee_ceiling_yuan
    settings.visit_fee_ceiling_yuan = Decimal("60")
    try:
        above = await world.client.put(
            f"{HC}/providers/{provider.id}", json={"visit_fee_yuan": "60.01"}, headers=world.admin(provider)
        )
        assert above.status_code == 422
        assert above.json()["code"] == "visit_fee_above_ceiling"
        at = await world.client.put(
            f"{HC}/providers/{provider.id}", json={"visit_fee_yuan": "60"}, headers=world.admin(provider)
        )
        assert at.status_code == 201
    finally:
        settings.visit_fee_ceiling_yuan = previous


async def test_provider_detail_lists_enabled_items_with_prices(world: World) -> None:
    provider = await world.provider(prices={"HC01": "80.00", "HC38": "45.50"})
    detail = await world.client.get(f"{HC}/providers/{provider.id}", headers=world.platform())
    assert detail.status_code == 200
    assert {i["item_code"]: i["price_yuan"] for i in detail.json()["items"]} == {
        "HC01": "80.00",
        "HC38": "45.50",
    }
    assert detail.json()["visit_fee_yuan"] == "50.00"
