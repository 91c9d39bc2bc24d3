"""The demo's reference data (indicators.md: the 2025 targets with their seed documents as source; round
population figures marked source = demo, Fujian ≈ 41.8 million residents, ≈ 11 % aged 65+)."""

from __future__ import annotations

from decimal import Decimal

import httpx
from fastapi import FastAPI

from demo.indicators import seed_reference
from libs.common import divisions
from libs.common.database import session_scope
from libs.common.testing import Tokens
from tests.indicators.reference.helpers import BASE, admin, listing


async def test_the_demo_seeds_the_2025_targets_and_round_population_once(
    client: httpx.AsyncClient, reference_app: FastAPI, tokens: Tokens
) -> None:
    before = (await client.get(f"{BASE}/targets/versions", headers=admin(tokens))).json()["items"]
    assert before == []  # every test's load is rolled back: the table was never loaded
    async with session_scope(reference_app.state.database) as session:
        assert await seed_reference(session) > 0
    async with session_scope(reference_app.state.database) as session:
        assert await seed_reference(session) == 0  # idempotent: nothing added the second time

    people = (await listing(client, tokens, "population", year=2025))["items"]
    counties = {d.code for d in divisions.all_divisions() if divisions.is_county(d.code)}
    assert {p["region_code"] for p in people} == counties  # every county, 平潭 included
    assert {p["source"] for p in people} == {"demo"}
    residents = sum(p["residents"] for p in people)
    aged = sum(p["aged_65_plus"] for p in people)
    assert abs(residents - 41_800_000) <= 0.01 * 41_800_000
    assert abs(Decimal(aged) / residents - Decimal("0.11")) <= Decimal("0.005")
    assert all(p["residents"] % 1000 == 0 and p["aged_65_plus"] % 100 == 0 for p in people)

    targets = {
        (t["indicator"], t["due_date"]): t for t in (await listing(client, tokens, "targets"))["items"]
    }
    expected = {
        # (indicator, due): (each county, comparison, value, source)
        ("public_integrated_beds_per_10k", "2025-12-31"): (True, "gte", Decimal(1), "002 附件1"),
        ("agreement_coverage", "2025-12-31"): (True, "gte", Decimal(1), "002"),
        ("large_homes_integrated", "2025-12-31"): (False, "gte", Decimal(1), "002"),
        ("hospice_counties", "2025-12-31"): (True, "gte", Decimal(1), "002 附件1"),
        ("elder_friendly_rate", "2023-12-31"): (False, "gte", Decimal("0.8"), "002 附件1"),
        ("elder_friendly_rate", "2025-12-31"): (False, "gte", Decimal("0.85"), "002 附件1"),
        ("home_bed_providers", "2025-12-31"): (True, "gte", Decimal(1), "002"),
        ("health_management_rate", "2025-12-31"): (False, "gte", Decimal("0.75"), "002"),
        ("home_bed_satisfaction", "2025-12-31"): (False, "gte", Decimal("0.95"), "000"),
    }
    assert {
        k: (t["each_county"], t["comparison"], Decimal(t["value"]), t["source"]) for k, t in targets.items()
    } == expected
    assert {t["region_code"] for t in targets.values()} == {"350000"}
