"""The response cache (libs/common/response_cache.py, issue 16l) of the orders report and the
satisfaction report: both are made of change-tracked tables only (order, order item, rating, provider)
plus constants (status labels, division names, the 95% bar), so they are kept while the feed head stays.

Never stale: each report is read twice (the second from the cache), then every write path of every table
it reads is taken — placing an order and moving it (ORM), the city platform's bulk upsert (a new order, an
order's items replaced), the past orders' history import (an order and its rating), rating an order, and
the provider's name (single PUT and bulk settings, after the registry renamed it) — and the report read
at once must be made afresh (``miss``) with the figure the write implies (counted here from what was
written, not from the endpoint). Never shared: province, city and county views of one query each get their
own page. ETag and 304; ``Cache-Control: no-cache`` makes the page afresh.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import Request

from libs.common.auth import Role
from libs.common.cached_routes import EarlyCacheHits
from libs.common.response_cache import OUTCOME_HEADER
from tests.homecare.providers.test_bulk import bulk as providers_bulk
from tests.homecare.providers.test_bulk import record as provider_record
from tests.homecare.sync.test_bulk import _bulk as sync_bulk
from tests.homecare.sync.test_bulk import _recipient
from tests.homecare.sync.test_history import _import, past_order
from tests.homecare.world import HC, HULI, REGISTRY, SIMING, XIAMEN, Crew, World, crew, to_status

ORDERS = f"{HC}/reports/orders"
SATISFACTION = f"{HC}/reports/satisfaction"


async def read(world: World, url: str, headers: dict[str, str], **params: Any) -> httpx.Response:
    response = await world.client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response


async def primed(world: World, url: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    """The report read twice: the second answer is the cached page, byte for byte."""
    first = await read(world, url, headers, **params)
    second = await read(world, url, headers, **params)
    assert second.headers[OUTCOME_HEADER] == "hit"
    assert second.content == first.content
    return dict(second.json())


async def fresh(world: World, url: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    """The report right after a write: made afresh, and equal to the page made with the cache skipped."""
    response = await read(world, url, headers, **params)
    assert response.headers[OUTCOME_HEADER] == "miss"
    skipped = await read(world, url, {**headers, "Cache-Control": "no-cache"}, **params)
    assert skipped.headers[OUTCOME_HEADER] == "bypass"
    assert skipped.content == response.content
    return dict(response.json())


def counts(report: dict[str, Any]) -> dict[str, int]:
    return {row["key"]: row["count"] for row in report["rows"]}


def ratings(report: dict[str, Any], key: str) -> tuple[int, int]:
    row = next((r for r in report["rows"] if r["key"] == key), None)
    return (0, 0) if row is None else (row["ratings"], row["satisfied"])


async def _rated(world: World, c: Crew, score: int) -> None:
    order = await world.order(c.provider, c.recipient["id"], start=datetime.now(UTC) + timedelta(days=1))
    await to_status(world, c, order, "completed")
    response = await world.act(order["id"], "rate", world.admin(c.provider), {"score": score})
    assert response.status_code == 200, response.text


async def test_the_orders_report_is_fresh_after_each_write_path_of_orders_and_items(world: World) -> None:
    c = await crew(world)
    mine = world.admin(c.provider)
    assert counts(await primed(world, ORDERS, mine, group_by="status")) == {}

    placed = await world.order(c.provider, c.recipient["id"], items=["HC01", "HC05"])  # ORM insert
    assert counts(await fresh(world, ORDERS, mine, group_by="status")) == {"submitted": 1}
    assert counts(await primed(world, ORDERS, mine, group_by="item")) == {"HC01": 1, "HC05": 1}
    await primed(world, ORDERS, mine, group_by="status")

    cancelled = await world.act(placed["id"], "cancel", mine, {})  # ORM update
    assert cancelled.status_code == 200, cancelled.text
    assert counts(await fresh(world, ORDERS, mine, group_by="status")) == {"cancelled": 1}

    # the city platform's bulk upsert: a new order, then its items replaced (a bulk UPDATE and DELETE)
    registered = await sync_bulk(
        world, "recipients", [_recipient("R-cache", institution_id=str(c.provider.id))]
    )
    assert registered.status_code == 200, registered.text
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    synced = {
        "external_id": "O-cache",
        "institution_id": str(c.provider.id),
        "recipient_external_id": "R-cache",
        "item_codes": ["HC01"],
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(hours=2)).isoformat(),
    }
    await primed(world, ORDERS, mine, group_by="item")
    created = await sync_bulk(world, "orders", [synced])
    assert created.json()["results"][0]["outcome"] == "created", created.text
    assert counts(await fresh(world, ORDERS, mine, group_by="item")) == {"HC01": 2, "HC05": 1}
    replaced = await sync_bulk(world, "orders", [{**synced, "item_codes": ["HC05"]}])
    assert replaced.json()["results"][0]["outcome"] == "updated", replaced.text
    assert counts(await fresh(world, ORDERS, mine, group_by="item")) == {"HC01": 1, "HC05": 2}

    # the past orders' history import (bulk INSERT of an order already rated)
    await primed(world, ORDERS, mine, group_by="status")
    imported = await _import(world, [past_order(c, "H-cache")])
    assert imported.json()["results"][0]["outcome"] == "created", imported.text
    by_status = counts(await fresh(world, ORDERS, mine, group_by="status"))
    assert by_status == {"cancelled": 1, "submitted": 1, "rated": 1}


async def test_the_satisfaction_report_is_fresh_after_each_write_path_of_ratings_and_names(
    world: World,
) -> None:
    c = await crew(world)
    mine = world.admin(c.provider)
    key = str(c.provider.id)
    before = await primed(world, SATISFACTION, mine, group_by="provider")
    assert ratings(before, key) == (0, 0)

    await _rated(world, c, 3)  # rating an order (ORM): 3 is below the satisfied score (≥ 4)
    assert ratings(await fresh(world, SATISFACTION, mine, group_by="provider"), key) == (1, 0)
    await primed(world, SATISFACTION, mine, group_by="provider")

    imported = await _import(world, [past_order(c, "H-rated")])  # a past order rated 5 (bulk INSERT)
    assert imported.json()["results"][0]["outcome"] == "created", imported.text
    report = await fresh(world, SATISFACTION, mine, group_by="provider")
    assert ratings(report, key) == (2, 1)
    assert report["rows"][0]["label"] == c.provider.name

    # the provider's name is homecare's copy of the registry's: renamed there, then copied by the
    # provider's settings — the single PUT, then the province's bulk settings
    for new_name, write in (("缓存测试医院甲", "single"), ("缓存测试医院乙", "bulk")):
        await rename(world, c, new_name)
        await primed(world, SATISFACTION, mine, group_by="provider")
        if write == "single":
            url = f"{HC}/providers/{c.provider.id}"
            etag = (await world.client.get(url, headers=mine)).headers["etag"]
            put = await world.client.put(
                url, json={"visit_fee_yuan": "55.00"}, headers={**mine, "If-Match": etag}
            )
            assert put.status_code == 200, put.text
        else:
            response = await providers_bulk(world, [provider_record(c.provider.id, visit_fee_yuan="45.00")])
            assert response.json()["results"][0]["outcome"] == "updated", response.text
        assert (await fresh(world, SATISFACTION, mine, group_by="provider"))["rows"][0]["label"] == new_name


async def rename(world: World, c: Crew, name: str) -> None:
    url = f"{REGISTRY}/institutions/{c.provider.id}"
    headers = world.tokens.headers(Role.county_admin, c.provider.region_code)
    etag = (await world.registry.get(url, headers=headers)).headers["etag"]
    response = await world.registry.patch(url, json={"name": name}, headers={**headers, "If-Match": etag})
    assert response.status_code == 200, response.text


async def test_scope_views_never_share_a_page(world: World) -> None:
    c = await crew(world)
    views = {
        "province": world.province(),
        "city": world.city(XIAMEN),
        "county": world.county(HULI),
        "other county": world.county(SIMING),
    }
    before = {name: counts(await primed(world, ORDERS, h, group_by="region")) for name, h in views.items()}
    # each view's page holds its own scope's regions only, although the province's was cached first
    assert set(before["county"]) <= {HULI}
    assert set(before["other county"]) <= {SIMING}
    assert all(k.startswith("3502") for k in before["city"])

    await world.order(c.provider, c.recipient["id"])  # an order in 湖里
    after = {
        name: counts((await read(world, ORDERS, h, group_by="region")).json()) for name, h in views.items()
    }
    for name in ("province", "city", "county"):
        assert after[name].get(HULI, 0) == before[name].get(HULI, 0) + 1, name
    assert after["other county"] == before["other county"]
    assert HULI not in after["other county"]


async def test_etag_and_not_modified_until_a_write(world: World) -> None:
    c = await crew(world)
    mine = world.admin(c.provider)
    first = await read(world, ORDERS, mine, group_by="status")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    unchanged = await world.client.get(
        ORDERS, params={"group_by": "status"}, headers={**mine, "If-None-Match": etag}
    )
    assert unchanged.status_code == 304
    assert unchanged.content == b""

    await world.order(c.provider, c.recipient["id"])
    changed = await world.client.get(
        ORDERS, params={"group_by": "status"}, headers={**mine, "If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert counts(changed.json()) == {"submitted": 1}


async def test_parameters_are_part_of_the_key(world: World) -> None:
    c = await crew(world)
    mine = world.admin(c.provider)
    await world.order(c.provider, c.recipient["id"])
    await primed(world, ORDERS, mine, group_by="status")
    # another filter is another page (not the cached one), with its own figures
    cancelled_only = await read(world, ORDERS, mine, group_by="status", status="cancelled")
    assert cancelled_only.headers[OUTCOME_HEADER] == "miss"
    assert counts(cancelled_only.json()) == {}
    tomorrow = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    later = await read(world, SATISFACTION, mine, group_by="provider", **{"from": tomorrow})
    assert later.headers[OUTCOME_HEADER] == "miss"


async def test_a_repeated_report_is_answered_before_the_dependencies_and_fresh_after_a_write(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both reports are marked for early hits (libs/common/cached_routes.py): the second request of a
    query is answered early, the same bytes; after a write the early lookup falls through and the normal
    path makes the page afresh; a caller without reports:read is refused although the page is cached."""
    answered: list[bool] = []
    original = EarlyCacheHits.hit

    async def watched(self: EarlyCacheHits, request: Request) -> Any:
        response = await original(self, request)
        answered.append(response is not None)
        return response

    monkeypatch.setattr(EarlyCacheHits, "hit", watched)
    c = await crew(world)
    mine = world.admin(c.provider)
    for url in (ORDERS, SATISFACTION):
        answered.clear()
        first = await read(world, url, mine, group_by="region")
        second = await read(world, url, mine, group_by="region")
        assert answered == [False, True]
        assert second.headers[OUTCOME_HEADER] == "hit"
        assert second.content == first.content
    await world.order(c.provider, c.recipient["id"])
    answered.clear()
    after = await read(world, ORDERS, mine, group_by="region")
    assert answered == [False]
    assert after.headers[OUTCOME_HEADER] == "miss"
    assert counts(after.json()) == {HULI: 1}
    nurse = await world.client.get(
        ORDERS, params={"group_by": "region"}, headers=world.staff(c.provider, c.nurse)
    )
    assert nurse.status_code == 403, nurse.text
