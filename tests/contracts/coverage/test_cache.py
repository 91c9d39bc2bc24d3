"""The coverage's response cache (libs/common/response_cache.py, issue 16l). The coverage is made of the
agreements (change-tracked: this service's feed head), the snapshot of the registry's institutions (kept
from the registry's feed by a cursor, not in this service's feed) and today's date (Asia/Shanghai: what
is in force, what expires soon), so its version is all three.

Never stale: the coverage is read twice (the second from the cache), then each thing it is made of is
changed — an institution registered and deactivated in the registry (the snapshot only), an agreement
signed and terminated (ORM), an agreement imported by a city platform (bulk), and the day turning with no
write at all — and the coverage read at once is made afresh with the figures the change implies (derived
here from the agreements' dates and the institutions written). Never shared: province, city and county
views get their own pages. ETag and 304; ``Cache-Control: no-cache`` makes the page afresh.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from libs.common.auth import Role
from libs.common.response_cache import OUTCOME_HEADER
from libs.common.testing import Tokens
from services.contracts.clock import ManualClock
from tests.contracts.agreements.test_bulk import BULK, batch, platform, record
from tests.contracts.flows import admin_of, signed, transition
from tests.contracts.registry_data import RegistryData

COVERAGE = "/api/v1/contracts/coverage"
YANPING, JIANYANG, NANPING = "350702", "350703", "350700"


async def read(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> httpx.Response:
    response = await client.get(COVERAGE, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response


async def primed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    first = await read(client, headers, **params)
    second = await read(client, headers, **params)
    assert second.headers[OUTCOME_HEADER] == "hit"
    assert second.content == first.content
    return dict(second.json())


async def fresh(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await read(client, headers, **params)
    assert response.headers[OUTCOME_HEADER] == "miss"
    skipped = await read(client, {**headers, "Cache-Control": "no-cache"}, **params)
    assert skipped.headers[OUTCOME_HEADER] == "bypass"
    assert skipped.content == response.content
    return dict(response.json())


def figures(body: dict[str, Any]) -> tuple[int, int, int, int]:
    """(institutions, covered, signed pairs, expiring within 30 days)"""
    return body["institutions"], body["covered"], body["signed_pairs"], body["expiring"]["within_30_days"]


async def test_the_coverage_is_fresh_after_each_thing_it_is_made_of_changes(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, clock: ManualClock
) -> None:
    county = tokens.headers(Role.county_admin, YANPING)
    hospital = await registry.medical(YANPING)
    assert figures(await primed(client, county)) == (0, 0, 0, 0)

    home = await registry.elderly(YANPING)  # the registry only: the snapshot's cursor moves
    assert figures(await fresh(client, county)) == (1, 0, 0, 0)

    await primed(client, county)
    agreement = await signed(client, tokens, hospital, home, start_date="2026-01-01", end_date="2026-12-31")
    assert figures(await fresh(client, county)) == (1, 1, 1, 0)

    await primed(client, county)
    ended = await transition(
        client, agreement, "terminate", admin_of(tokens, hospital), json={"reason": "合作终止"}
    )
    assert ended.status_code == 200, ended.text
    assert figures(await fresh(client, county)) == (1, 0, 0, 0)

    # a city platform's import of an agreement in force until 2026-04-10: 25 days after "today" (03-16)
    await primed(client, county)
    imported = record(
        hospital,
        home,
        "C-1",
        start_date="2025-01-01",
        end_date="2026-04-10",
        submitted_by_institution_id=home["id"],
        submitted_at="2024-12-01T09:00:00+08:00",
        countersigned_at="2024-12-05T09:00:00+08:00",
        activated_at="2025-01-01T00:00:00+08:00",
    )
    response = await client.post(BULK, json=batch(imported), headers=platform(tokens, NANPING))
    assert response.json()["results"][0]["outcome"] == "created", response.text
    assert figures(await fresh(client, county)) == (1, 1, 1, 1)

    # the day turns, nothing is written: on 04-11 the agreement is no longer in force
    before = await primed(client, county)
    clock.set_today(date(2026, 4, 11))
    after = await fresh(client, county)
    assert figures(after) == (1, 0, 0, 0)
    assert (before["as_of"], after["as_of"]) == ("2026-03-16", "2026-04-11")

    await primed(client, county)
    await registry.deactivate(home)  # the registry only again
    assert figures(await fresh(client, county)) == (0, 0, 0, 0)


async def test_scope_views_never_share_a_page(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    views = {
        "province": (tokens.headers(Role.province_admin), {"region_code": NANPING}),
        "city": (tokens.headers(Role.city_admin, NANPING), {}),
        "county": (tokens.headers(Role.county_admin, YANPING), {}),
        "other county": (tokens.headers(Role.county_admin, JIANYANG), {}),
    }
    before = {name: await primed(client, h, **p) for name, (h, p) in views.items()}
    assert before["county"]["region_code"] == YANPING
    assert before["other county"]["region_code"] == JIANYANG
    assert before["city"]["region_code"] == before["province"]["region_code"] == NANPING

    await registry.elderly(YANPING)
    after = {name: (await read(client, h, **p)).json() for name, (h, p) in views.items()}
    for name in ("province", "city", "county"):
        assert after[name]["institutions"] == before[name]["institutions"] + 1, name
    assert after["other county"]["institutions"] == before["other county"]["institutions"]
    assert after["county"]["region_code"] == YANPING


async def test_etag_and_not_modified_until_a_change(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    county = tokens.headers(Role.county_admin, YANPING)
    first = await read(client, county)
    etag = first.headers["etag"]
    unchanged = await client.get(COVERAGE, headers={**county, "If-None-Match": etag})
    assert (unchanged.status_code, unchanged.content) == (304, b"")
    await registry.elderly(YANPING)
    changed = await client.get(COVERAGE, headers={**county, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["institutions"] == first.json()["institutions"] + 1


async def test_parameters_are_part_of_the_key(client: httpx.AsyncClient, tokens: Tokens) -> None:
    city = tokens.headers(Role.city_admin, NANPING)
    by_county = await primed(client, city, group_by="county")
    by_city = await read(client, city, group_by="city")
    assert by_city.headers[OUTCOME_HEADER] == "miss"
    assert (by_county["group_by"], by_city.json()["group_by"]) == ("county", "city")
    limited = await read(client, city, group_by="county", uncovered_limit=0)
    assert limited.headers[OUTCOME_HEADER] == "miss"
