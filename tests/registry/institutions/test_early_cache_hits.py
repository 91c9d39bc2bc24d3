"""Cached pages answered before the dependencies (libs/common/cached_routes.py, issue 16j): the
institution list, nearby institutions and registry stats.

Each request through a marked route is watched (:func:`early`): whether the early lookup answered it.
The early answer is the normal path's hit byte for byte; it is never another view's page; a token the
verifier refuses, no token, or a permission not granted is answered 401/403 problem+json by the normal
path although the page of that very query and view is cached; a refused query (422) is never answered
early however often it comes; a failing head read falls through. Freshness after every write path:
tests/registry/institutions/test_list_cache.py (its hits must be early ones).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from prometheus_client.parser import text_string_to_metric_families

from libs.common import feed_head, response_cache
from libs.common.auth import Role
from libs.common.cached_routes import EarlyCacheHits
from libs.common.response_cache import OUTCOME_HEADER
from libs.common.routing import ServiceRouter
from libs.common.testing import Tokens
from services.registry.permissions import POLICY
from tests.registry.factories import INSTITUTIONS, create_institution

MARK = "早答测试"
QUERY: dict[str, Any] = {"q": MARK, "limit": 50}
HULI, SIMING = "350206", "350203"
STATS = "/api/v1/registry/stats"
NEARBY = {"latitude": 24.512, "longitude": 118.146, "radius_km": 5, "limit": 50}
#: headers every answer carries that differ per request
PER_REQUEST = {"x-request-id"}


@pytest.fixture(autouse=True)
def early(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Per request through a marked route: answered early (True) or by the normal path (False)."""
    answered: list[bool] = []
    original = EarlyCacheHits.hit

    async def watched(self: EarlyCacheHits, request: Request) -> Any:
        response = await original(self, request)
        answered.append(response is not None)
        return response

    monkeypatch.setattr(EarlyCacheHits, "hit", watched)
    return answered


def county(tokens: Tokens, region: str = HULI, **kwargs: Any) -> dict[str, str]:
    return tokens.headers(Role.county_admin, region, **kwargs)


def comparable(response: httpx.Response) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k not in PER_REQUEST}
    return response.status_code, response.content, headers


async def list_page(client: httpx.AsyncClient, headers: dict[str, str], params: Any = None) -> httpx.Response:
    return await client.get(INSTITUTIONS, params=QUERY if params is None else params, headers=headers)


async def test_an_early_hit_is_the_normal_paths_hit_byte_for_byte(
    client: httpx.AsyncClient, tokens: Tokens, early: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    await create_institution(client, tokens, name=f"{MARK}护理院")
    made = await list_page(client, county(tokens))
    assert (made.status_code, made.headers[OUTCOME_HEADER], early) == (200, "miss", [False])
    fast = await list_page(client, county(tokens))
    assert (fast.headers[OUTCOME_HEADER], early[-1]) == ("hit", True)
    tag = fast.headers["etag"]
    fast_304 = await list_page(client, {**county(tokens), "If-None-Match": tag})
    assert (fast_304.status_code, fast_304.content, early[-1]) == (304, b"", True)

    async def never(_self: EarlyCacheHits, _request: Request) -> None:
        return None

    monkeypatch.setattr(EarlyCacheHits, "hit", never)  # the hit after the dependencies, as before
    normal = await list_page(client, county(tokens))
    normal_304 = await list_page(client, {**county(tokens), "If-None-Match": tag})
    assert normal.headers[OUTCOME_HEADER] == "hit"
    assert comparable(fast) == comparable(normal)
    assert comparable(fast_304) == comparable(normal_304)
    assert fast.headers["etag"] == tag
    assert fast.headers["cache-control"] == "private, no-cache"
    assert fast.headers["content-type"] == "application/json"
    assert "x-request-id" in fast.headers  # the app's middlewares applied (request id, CORS's Vary)
    assert fast.headers["vary"] == "Origin"
    assert [i["name"] for i in fast.json()["items"]] == [f"{MARK}护理院"]


async def test_early_hits_are_counted_under_the_routes_template(
    client: httpx.AsyncClient, tokens: Tokens, early: list[bool]
) -> None:
    await primed_list(client, tokens, early)
    before = await requests_counted(client)
    for _ in range(3):
        assert (await list_page(client, county(tokens))).status_code == 200
    assert early[-3:] == [True, True, True]
    assert await requests_counted(client) == before + 3


async def requests_counted(client: httpx.AsyncClient) -> float:
    """yiyang_http_requests_total of GET /api/v1/registry/institutions answered 200."""
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "yiyang_http_requests_total"
                and labels.get("route") == INSTITUTIONS
                and labels.get("method") == "GET"
                and labels.get("status") == "200"
            ):
                return float(sample.value)
    return 0.0


async def test_the_raw_query_is_its_key_and_a_cache_skip_is_not_answered_early(
    client: httpx.AsyncClient, tokens: Tokens, early: list[bool]
) -> None:
    await create_institution(client, tokens, name=f"{MARK}护理院")
    page = await list_page(client, county(tokens), f"q={MARK}&limit=50")
    assert (await list_page(client, county(tokens), f"q={MARK}&limit=50")).content == page.content
    assert early[-1] is True
    # the same page asked in another order: the normal path's hit first (its parameters read), then early
    reordered = await list_page(client, county(tokens), f"limit=50&q={MARK}")
    assert (reordered.headers[OUTCOME_HEADER], early[-1]) == ("hit", False)
    assert (await list_page(client, county(tokens), f"limit=50&q={MARK}")).content == page.content
    assert early[-1] is True
    for directive in ("no-cache", "no-store"):
        skipped = await list_page(client, {**county(tokens), "Cache-Control": directive})
        assert (skipped.headers[OUTCOME_HEADER], early[-1]) == ("bypass", False)
        assert skipped.content == page.content


async def test_views_never_share_early_pages(
    client: httpx.AsyncClient, tokens: Tokens, early: list[bool]
) -> None:
    mine = await create_institution(client, tokens, name=f"{MARK}湖里护理院")
    await create_institution(
        client, tokens, name=f"{MARK}思明护理院", region_code=SIMING, address="厦门市思明区测试路1号"
    )
    own = tokens.headers(Role.institution_admin, HULI, institution_id=uuid.UUID(mine["id"]))
    expected = {
        "province": (
            tokens.headers(Role.province_admin, "350000"),
            [f"{MARK}思明护理院", f"{MARK}湖里护理院"],
        ),
        "huli": (county(tokens, HULI), [f"{MARK}湖里护理院"]),
        "siming": (county(tokens, SIMING), [f"{MARK}思明护理院"]),
        "institution": (own, [f"{MARK}湖里护理院"]),
    }
    for name, (headers, names) in expected.items():  # each view's first answer: the normal path's
        first = await list_page(client, headers)
        assert (first.headers[OUTCOME_HEADER], early[-1]) == ("miss", False), name
        assert sorted(i["name"] for i in first.json()["items"]) == sorted(names), name
    for _ in range(2):  # then each view's own page, early
        for name, (headers, names) in expected.items():
            again = await list_page(client, headers)
            assert early[-1] is True, name
            assert sorted(i["name"] for i in again.json()["items"]) == sorted(names), name
    # one token's subject with another region: another key, its own page made by the normal path
    moved = await list_page(client, county(tokens, "350205", sub=f"county_admin:{HULI}:"))
    assert (moved.headers[OUTCOME_HEADER], early[-1]) == ("miss", False)
    assert moved.json()["items"] == []


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "missing_token"),
        ("Bearer not-a-token", "invalid_token"),
        ("Basic Y291bnR5OnNlY3JldA==", "missing_token"),
        ("Bearer ", "missing_token"),
        ("expired", None),
    ],
)
async def test_a_refused_token_is_401_although_the_page_is_cached(
    client: httpx.AsyncClient, tokens: Tokens, early: list[bool], authorization: str | None, code: str | None
) -> None:
    await primed_list(client, tokens, early)
    if authorization == "expired":  # the same view as the cached page's, expired beyond the clock skew
        authorization = f"Bearer {tokens.token(Role.county_admin, HULI, ttl=timedelta(minutes=-10))}"
    headers = {} if authorization is None else {"Authorization": authorization}
    refused = await list_page(client, headers)
    assert refused.status_code == 401, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert OUTCOME_HEADER not in refused.headers
    if code is not None:
        assert refused.json()["code"] == code
    assert early[-1] is False


async def test_a_permission_withdrawn_is_403_although_the_page_is_cached(
    client: httpx.AsyncClient, tokens: Tokens, early: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    await primed_list(client, tokens, early)
    monkeypatch.setitem(
        POLICY.grants, Role.county_admin, POLICY.grants[Role.county_admin] - {"institutions:read"}
    )
    refused = await list_page(client, county(tokens))
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "permission_denied"
    assert early[-1] is False


async def test_a_role_without_the_permission_is_403_on_stats(
    client: httpx.AsyncClient, tokens: Tokens, early: list[bool]
) -> None:
    mine = await create_institution(client, tokens, name=f"{MARK}统计护理院")
    for _ in range(2):
        assert (await client.get(STATS, headers=county(tokens))).status_code == 200
    assert early[-1] is True
    own = tokens.headers(Role.institution_admin, HULI, institution_id=uuid.UUID(mine["id"]))
    refused = await client.get(STATS, headers=own)
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert early[-1] is False


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=201", "region_code=abc", "kind=spaceship", "cursor=bm90LWEtY3Vyc29y", "active=maybe"],
)
async def test_a_refused_query_is_never_answered_early(
    client: httpx.AsyncClient, tokens: Tokens, early: list[bool], query: str
) -> None:
    await primed_list(client, tokens, early)
    for _ in range(3):
        refused = await list_page(client, county(tokens), f"q={MARK}&{query}")
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert early[-1] is False


async def test_a_failing_head_read_falls_through_to_the_normal_path(
    client: httpx.AsyncClient,
    tokens: Tokens,
    early: list[bool],
    registry_app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = await primed_list(client, tokens, early)

    async def failing() -> int:
        raise OSError("connection reset")

    monkeypatch.setattr(registry_app.state.database, "feed_head", failing)
    answered = await list_page(client, county(tokens))
    assert (answered.status_code, answered.headers[OUTCOME_HEADER], early[-1]) == (200, "hit", False)
    assert answered.content == page


async def test_nearby_and_stats_are_answered_early_and_fresh_after_a_write(
    client: httpx.AsyncClient, tokens: Tokens, early: list[bool]
) -> None:
    created = await create_institution(client, tokens, name=f"{MARK}附近护理院")
    for path, params in ((f"{INSTITUTIONS}/nearby", NEARBY), (STATS, {"group_by": "county"})):
        first = await client.get(path, params=params, headers=county(tokens))
        second = await client.get(path, params=params, headers=county(tokens))
        assert (second.status_code, second.headers[OUTCOME_HEADER], early[-1]) == (200, "hit", True), path
        assert second.content == first.content
    off = await client.post(
        f"{INSTITUTIONS}/{created['id']}/deactivate", headers={**county(tokens), "If-Match": '"1"'}
    )
    assert off.status_code == 200, off.text
    for path, params in ((f"{INSTITUTIONS}/nearby", NEARBY), (STATS, {"group_by": "county"})):
        after = await client.get(path, params=params, headers=county(tokens))
        assert (after.headers[OUTCOME_HEADER], early[-1]) == ("miss", False), path
        again = await client.get(path, params=params, headers=county(tokens))
        assert (again.headers[OUTCOME_HEADER], early[-1]) == ("hit", True), path
        assert again.content == after.content
        skipped = await client.get(
            path, params=params, headers={**county(tokens), "Cache-Control": "no-store"}
        )
        assert skipped.content == after.content
    nearby = (await client.get(f"{INSTITUTIONS}/nearby", params=NEARBY, headers=county(tokens))).json()
    assert created["id"] not in {i["institution"]["id"] for i in nearby}  # active ones only


def test_a_marked_route_without_one_permission_is_refused_when_built() -> None:
    from libs.common.cached_routes import early_cache_hits

    router = ServiceRouter()

    @early_cache_hits
    async def unguarded() -> dict[str, str]:
        return {}

    with pytest.raises(ValueError, match="exactly one Policy.require"):
        router.get("/unguarded")(unguarded)


async def primed_list(client: httpx.AsyncClient, tokens: Tokens, early: list[bool]) -> bytes:
    """The county's page of QUERY, answered early once (so the page and its raw key are cached)."""
    await create_institution(client, tokens, name=f"{MARK}护理院")
    first = await list_page(client, county(tokens))
    second = await list_page(client, county(tokens))
    assert (first.status_code, second.status_code, early[-1]) == (200, 200, True)
    assert second.content == first.content
    return second.content


async def test_the_drivers_head_is_the_sessions_and_its_connection_goes_back(
    registry_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = registry_app.state.database  # the app's own (no test transaction): a pooled connection
    pool = database.read_engine.sync_engine.pool
    async with database.session(write=False) as session:
        expected = await response_cache.feed_head(session)
    assert await database.feed_head() == expected
    assert pool.checkedout() == 0

    async def broken(_driver: Any) -> int:
        raise OSError("connection reset")

    monkeypatch.setattr(feed_head, "_read", broken)
    with pytest.raises(OSError, match="connection reset"):
        # the read itself (on SQLite Database.feed_head reads only after a commit: SqliteHeadProbe)
        await feed_head.read_feed_head(database.read_engine)
    assert pool.checkedout() == 0  # invalidated, not kept out nor put back as it was
