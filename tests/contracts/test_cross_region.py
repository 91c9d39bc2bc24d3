"""Cross-region agreements (issue 13): a 思明 hospital's agreement with a 湖里 home is read by the officials
of either party's county, counted in each party's county, written only where the rules put it.

The rule (issue 13): "Officials of either party's region read it; each party's county counts it." —
ARCHITECTURE.md: the agreement belongs to its elderly-care party's county, out-of-scope reads answer 404
and out-of-scope writes 403; rules.md: 签约对数 counts distinct (medical, elderly-care) pairs in force,
coverage counts elderly-care institutions of the region.
"""

from __future__ import annotations

from typing import Any

import httpx

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.contracts.flows import AGREEMENTS, signed, transition
from tests.contracts.registry_data import RegistryData
from tests.contracts.visits.test_router import staff_of, visit_body

SIMING, HULI, HAICANG, XIAMEN = "350203", "350206", "350205", "350200"
CHANGES = "/api/v1/contracts/changes"
COVERAGE = "/api/v1/contracts/coverage"


def _officials(tokens: Tokens) -> dict[str, dict[str, str]]:
    return {
        "siming": tokens.headers(Role.county_admin, SIMING),
        "huli": tokens.headers(Role.county_admin, HULI),
        "haicang": tokens.headers(Role.county_admin, HAICANG),
        "xiamen": tokens.headers(Role.city_admin, XIAMEN),
        "xiamen_platform": tokens.headers(Role.city_platform, XIAMEN),
    }


async def _cross_region(client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens) -> dict[str, Any]:
    hospital, home = await registry.medical(SIMING), await registry.elderly(HULI)
    return {
        "hospital": hospital,
        "home": home,
        "agreement": await signed(client, tokens, hospital, home, start_date="2026-03-01"),
    }


async def _feed_entries(client: httpx.AsyncClient, headers: dict[str, str], entity_id: str) -> list[int]:
    seqs: list[int] = []
    cursor = None
    while True:
        params = {"limit": 1000, **({"after": cursor} if cursor else {})}
        response = await client.get(CHANGES, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        seqs += [entry["seq"] for entry in page["items"] if entry["entity_id"] == entity_id]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return seqs


async def test_either_partys_county_reads_it_a_third_does_not_the_city_once(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    world = await _cross_region(client, registry, tokens)
    agreement_id, hospital_id = world["agreement"]["id"], world["hospital"]["id"]
    sees = {"siming": True, "huli": True, "haicang": False, "xiamen": True, "xiamen_platform": True}
    for name, headers in _officials(tokens).items():
        expected = 200 if sees[name] else 404
        for path in ("", "/print", "/visits"):
            got = await client.get(f"{AGREEMENTS}/{agreement_id}{path}", headers=headers)
            assert got.status_code == expected, (name, path, got.text)
        shortfall = await client.get(
            f"{AGREEMENTS}/{agreement_id}/visits/shortfall",
            params={"period_start": "2026-03-01", "period_end": "2026-03-15"},
            headers=headers,
        )
        assert shortfall.status_code == expected, (name, shortfall.text)
        # one row per agreement, never one per matching party
        listed = await client.get(AGREEMENTS, params={"institution_id": hospital_id}, headers=headers)
        assert [i["id"] for i in listed.json()["items"]] == ([agreement_id] if sees[name] else []), name
        entries = await _feed_entries(client, headers, agreement_id)
        assert (len(entries) > 0) is sees[name], name
        assert len(entries) == len(set(entries)), name

    # every reader of the agreement receives the same entries, each once
    officials = _officials(tokens)
    huli = await _feed_entries(client, officials["huli"], agreement_id)
    assert await _feed_entries(client, officials["siming"], agreement_id) == huli
    assert await _feed_entries(client, officials["xiamen_platform"], agreement_id) == huli


async def test_the_region_filter_matches_either_partys_county(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    world = await _cross_region(client, registry, tokens)
    agreement_id, hospital_id = world["agreement"]["id"], world["hospital"]["id"]
    city = _officials(tokens)["xiamen"]
    for region, expected in (
        (SIMING, [agreement_id]),
        (HULI, [agreement_id]),
        (HAICANG, []),
        (XIAMEN, [agreement_id]),
    ):
        listed = await client.get(
            AGREEMENTS, params={"region_code": region, "institution_id": hospital_id}, headers=city
        )
        assert [i["id"] for i in listed.json()["items"]] == expected, region


async def test_a_visit_reaches_the_feed_of_the_hospitals_county(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    world = await _cross_region(client, registry, tokens)
    logged = await client.post(
        f"{AGREEMENTS}/{world['agreement']['id']}/visits",
        json=visit_body("2026-03-10"),
        headers=staff_of(tokens, world["hospital"]),
    )
    assert logged.status_code == 201, logged.text
    officials = _officials(tokens)
    visit_id = logged.json()["id"]
    assert len(await _feed_entries(client, officials["siming"], visit_id)) == 1
    assert len(await _feed_entries(client, officials["huli"], visit_id)) == 1
    assert len(await _feed_entries(client, officials["xiamen_platform"], visit_id)) == 1
    assert await _feed_entries(client, officials["haicang"], visit_id) == []


async def test_each_partys_county_counts_the_pair_and_the_city_once(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    officials = _officials(tokens)
    names = ("siming", "huli", "haicang", "xiamen")

    async def coverage() -> dict[str, dict[str, Any]]:
        bodies = {}
        for name in names:
            response = await client.get(COVERAGE, headers=officials[name])
            assert response.status_code == 200, response.text
            bodies[name] = response.json()
        return bodies

    before = await coverage()
    await _cross_region(client, registry, tokens)
    after = await coverage()
    pairs = {name: after[name]["signed_pairs"] - before[name]["signed_pairs"] for name in names}
    assert pairs == {"siming": 1, "huli": 1, "haicang": 0, "xiamen": 1}
    # the home is 湖里's (and 厦门's) and newly covered; 思明 has no new home to cover
    homes = {name: (after[name]["institutions"] - before[name]["institutions"],
                    after[name]["covered"] - before[name]["covered"]) for name in names}  # fmt: skip
    assert homes == {"siming": (0, 0), "huli": (1, 1), "haicang": (0, 0), "xiamen": (1, 1)}


async def test_filing_stays_with_the_homes_county(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    agreement = (await _cross_region(client, registry, tokens))["agreement"]
    officials = _officials(tokens)
    hospital_county = await transition(
        client, agreement, "file", officials["siming"], json={"note": "思明备案"}
    )
    assert (hospital_county.status_code, hospital_county.json()["code"]) == (403, "out_of_scope")
    third = await transition(client, agreement, "file", officials["haicang"], json={"note": "海沧备案"})
    assert third.status_code == 404
    homes_county = await transition(client, agreement, "file", officials["huli"], json={"note": "湖里备案"})
    assert homes_county.status_code == 200, homes_county.text
    assert homes_county.json()["filed_at"] is not None
