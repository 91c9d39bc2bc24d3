"""The response cache (libs/common/response_cache.py, issue 16f) of the institution list, nearby
institutions and registry stats — all three read the institution table only.

Never stale: the page is read, read again (now from the cache), then every write path that can change it
is taken — single create, PATCH, deactivate/reactivate, 备案 accepted and revoked (the medical unit), the
past filings' bulk import, the city platforms' bulk upsert, the spreadsheet import, the province naming a
示范 (the national year), and a write no request of this app made (another replica, a job) — and the page
read at once must be made afresh (not the cached one) and equal the page made with the cache skipped.
Each write is watched statement by statement: a transaction that writes the institution table also
inserts its change-feed entry, which is what moves the version the cache is keyed by.

Every hit of this module's routes is answered before the route's dependencies
(libs/common/cached_routes.py, 16j): :func:`primed` and :func:`assert_fresh` check that the hits they see
were answered early — so each write path above is also checked against the early answer.

Never leaks: callers of other scopes or views with the same query get their own page, also when the
first one's is cached; a token whose scope changed gets the new scope's page; parameters are normalised
(``active=1`` is ``active=true``). ETag and 304, the setting that turns the cache off, and a page made
while the feed moved (answered, not kept). Nearby and stats: fresh after a write, per scope.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import event, update
from sqlalchemy.engine import Engine

from libs.common import response_cache
from libs.common.auth import Role
from libs.common.cached_routes import EarlyCacheHits
from libs.common.database import session_scope
from libs.common.response_cache import OUTCOME_HEADER, ResponseCache
from libs.common.testing import Tokens
from services.registry.institutions.models import Institution
from tests.registry.demonstration.flow import Flow
from tests.registry.factories import FILINGS, INSTITUTIONS, create_institution, institution_body
from tests.registry.filings.test_router import file_complete
from tests.registry.institutions.test_bulk_upsert import BULK, platform
from tests.registry.institutions.test_spreadsheet import as_csv, row, upload

MARK = "缓存测试"
STATS = "/api/v1/registry/stats"
QUERY: dict[str, Any] = {"q": MARK, "limit": 200}
HULI, SIMING = "350206", "350203"
SKIP = {"Cache-Control": "no-store"}
# a statement writing the institution table itself (not institution_name_gram, institution_year_stat),
# schema-qualified or not, quoted or not
_INSTITUTION_WRITE = re.compile(r'^(insert into|update|delete from) ("?\w+"?\.)?"?institution"?[ (]')
_FEED_INSERT = re.compile(r'^insert into ("?\w+"?\.)?"?change_record"?[ (]')


#: per request through a marked route: answered before its dependencies (True) or by the normal path
EARLY: list[bool] = []


@pytest.fixture(autouse=True)
def early_answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    original = EarlyCacheHits.hit

    async def watched(self: EarlyCacheHits, request: Request) -> Any:
        response = await original(self, request)
        EARLY.append(response is not None)
        return response

    EARLY.clear()
    monkeypatch.setattr(EarlyCacheHits, "hit", watched)
    yield EARLY
    EARLY.clear()


def province(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(Role.province_admin, "350000")


def county(tokens: Tokens, region: str = HULI, **kwargs: Any) -> dict[str, str]:
    return tokens.headers(Role.county_admin, region, **kwargs)


async def get(
    client: httpx.AsyncClient, headers: dict[str, str], params: dict[str, Any] | None = None
) -> httpx.Response:
    response = await client.get(INSTITUTIONS, params=QUERY if params is None else params, headers=headers)
    assert response.status_code == 200, response.text
    return response


async def primed(
    client: httpx.AsyncClient, headers: dict[str, str], params: dict[str, Any] | None = None
) -> bytes:
    """The page, asked twice: the second answer comes from the cache and is the same."""
    first = await get(client, headers, params)
    second = await get(client, headers, params)
    assert second.headers[OUTCOME_HEADER] == "hit"
    assert EARLY[-1] is True, "a hit answered after the dependencies"
    assert second.content == first.content
    return second.content


async def assert_fresh(
    client: httpx.AsyncClient, headers: dict[str, str], before: bytes, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The page right after a write: made afresh, the same as with the cache skipped, and not ``before``."""
    after = await get(client, headers, params)
    assert after.headers[OUTCOME_HEADER] == "miss"
    assert EARLY[-1] is False
    uncached = await get(client, {**headers, **SKIP}, params)
    assert uncached.headers[OUTCOME_HEADER] == "bypass"
    assert after.content == uncached.content
    assert after.content != before
    again = await get(client, headers, params)
    assert again.headers[OUTCOME_HEADER] == "hit"
    assert EARLY[-1] is True, "a hit answered after the dependencies"
    assert again.content == after.content
    return dict(after.json())


@contextmanager
def feed_watched(app: FastAPI) -> Iterator[list[str]]:
    """The statements run meanwhile; on leaving, each write of the institution table must come with an
    INSERT into change_record after it (the feed entry committed with it)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        seen.append(" ".join(statement.split()).lower())

    engine = app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
    writes = [i for i, s in enumerate(seen) if _INSTITUTION_WRITE.match(s)]
    assert writes, "the write path wrote no institution row"
    feed = [i for i, s in enumerate(seen) if _FEED_INSERT.match(s)]
    assert feed, "an institution write without its change-feed entry after it"
    assert max(feed) > max(writes), "an institution write without its change-feed entry after it"


# ------------------------------------------------------------------------------ never stale


async def test_a_created_institution_is_on_the_next_page(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    before = await primed(client, province(tokens))
    with feed_watched(registry_app):
        await create_institution(client, tokens, name=f"{MARK}新建护理院")
    page = await assert_fresh(client, province(tokens), before)
    assert [item["name"] for item in page["items"]] == [f"{MARK}新建护理院"]


async def test_patch_deactivate_and_reactivate_are_on_the_next_page(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    created = await create_institution(client, tokens, name=f"{MARK}修改护理院")
    url = f"{INSTITUTIONS}/{created['id']}"
    before = await primed(client, province(tokens))
    with feed_watched(registry_app):
        patched = await client.patch(
            url, json={"beds_elderly_care": 150}, headers={**county(tokens), "If-Match": '"1"'}
        )
    assert patched.status_code == 200, patched.text
    page = await assert_fresh(client, province(tokens), before)
    assert page["items"][0]["beds_elderly_care"] == 150

    before = await primed(client, province(tokens))
    with feed_watched(registry_app):
        off = await client.post(f"{url}/deactivate", headers={**county(tokens), "If-Match": '"2"'})
    assert off.status_code == 200, off.text
    page = await assert_fresh(client, province(tokens), before)
    assert page["items"][0]["active"] is False

    before = await primed(client, province(tokens))
    with feed_watched(registry_app):
        on = await client.post(f"{url}/reactivate", headers={**county(tokens), "If-Match": '"3"'})
    assert on.status_code == 200, on.text
    page = await assert_fresh(client, province(tokens), before)
    assert page["items"][0]["active"] is True


async def test_filing_accepted_and_revoked_change_the_medical_unit_on_the_next_page(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    home = await create_institution(client, tokens, name=f"{MARK}备案护理院")
    before = await primed(client, province(tokens))
    with feed_watched(registry_app):
        filing = await file_complete(client, tokens, home)
    assert filing["state"] == "accepted"
    page = await assert_fresh(client, province(tokens), before)
    assert page["items"][0]["has_medical_unit"] is True

    before = await primed(client, province(tokens))
    with feed_watched(registry_app):
        revoked = await client.post(
            f"{FILINGS}/{filing['id']}/revoke",
            json={"reason": "现场核查不符合备案条件"},
            headers={**county(tokens), "If-Match": '"1"'},
        )
    assert revoked.status_code == 200, revoked.text
    page = await assert_fresh(client, province(tokens), before)
    assert page["items"][0]["has_medical_unit"] is False


async def test_past_filings_bulk_import_is_on_the_next_page(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    home = await create_institution(client, tokens, name=f"{MARK}补录备案护理院")
    before = await primed(client, province(tokens))
    record = {
        "external_id": "CACHE-1",
        "institution_id": home["id"],
        "unit_kind": "infirmary",
        "unit_name": "缓存测试医务室",
        "person_in_charge": "王医生",
        "doctors": 1,
        "nurses": 2,
        "documents": ["application_form", "premises_proof", "staff_qualifications", "rules"],
        "accepted_at": "2019-03-01T10:00:00+08:00",
        "filing_no": f"YB3502062019{uuid.uuid4().int % 10**6:06d}",
    }
    with feed_watched(registry_app):
        response = await client.post(
            f"{FILINGS}/bulk",
            json={"source_system": "xm-legacy", "records": [record]},
            headers=province(tokens),
        )
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["outcome"] == "created"
    page = await assert_fresh(client, province(tokens), before)
    assert page["items"][0]["has_medical_unit"] is True


async def test_city_platform_bulk_upsert_creates_and_updates_on_the_next_page(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    body = {"external_id": "CACHE-XM-1", **institution_body(name=f"{MARK}平台机构", beds_elderly_care=90)}

    def batch(beds: int) -> dict[str, Any]:
        return {"source_system": "xm-ijiankang", "records": [{**body, "beds_elderly_care": beds}]}

    before = await primed(client, province(tokens))
    with feed_watched(registry_app):
        created = await client.post(BULK, json=batch(90), headers=platform(tokens))
    assert created.status_code == 200, created.text
    assert created.json()["results"][0]["outcome"] == "created", created.text
    page = await assert_fresh(client, province(tokens), before)
    assert page["items"][0]["beds_elderly_care"] == 90

    before = await primed(client, province(tokens))
    with feed_watched(registry_app):
        updated = await client.post(BULK, json=batch(95), headers=platform(tokens))
    assert updated.json()["results"][0]["outcome"] == "updated", updated.text
    page = await assert_fresh(client, province(tokens), before)
    assert page["items"][0]["beds_elderly_care"] == 95


async def test_spreadsheet_import_is_on_the_next_page(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    before = await primed(client, province(tokens))
    with feed_watched(registry_app):
        response = await upload(client, county(tokens), as_csv([row(f"{MARK}导入护理院")]), "list.csv")
    assert response.status_code in (200, 201), response.text
    page = await assert_fresh(client, province(tokens), before)
    assert [item["name"] for item in page["items"]] == [f"{MARK}导入护理院"]


async def test_naming_a_demonstration_institution_is_on_the_next_page(
    flow: Flow, tokens: Tokens, registry_app: FastAPI
) -> None:
    # the flow writes its institution straight into the test's transaction (no name grams): not by name
    params = {"region_code": HULI, "kind": "integrated", "limit": 200}
    batch = await flow.batch()
    institution = str(await flow.institution(name=f"{MARK}示范机构"))
    applied = await flow.apply_institution(batch["id"], uuid.UUID(institution))
    application = await flow.drive(applied, "province_approved")
    before = await primed(flow.client, province(tokens), params)
    shown = {i["id"]: i for i in httpx.Response(200, content=before).json()["items"]}
    assert shown[institution]["national_demonstration_year"] is None
    for action in ("send-to-nation", "national-result"):
        application = await flow.step(application, action)
    with feed_watched(registry_app):
        named = await flow.step(application, "name")
    assert named["state"] == "named"
    page = await assert_fresh(flow.client, province(tokens), before, params)
    shown = {i["id"]: i for i in page["items"]}
    assert shown[institution]["national_demonstration_year"] == 2026


async def test_a_write_this_app_never_served_still_refreshes_the_page(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    """Another replica (or a job) writes: this process learns it from the feed head alone."""
    created = await create_institution(client, tokens, name=f"{MARK}他处修改护理院")
    before = await primed(client, province(tokens))
    with feed_watched(registry_app):
        async with session_scope(registry_app.state.database) as session:
            institution = await session.get(Institution, uuid.UUID(created["id"]))
            assert institution is not None
            institution.beds_elderly_care = 77
    page = await assert_fresh(client, province(tokens), before)
    assert page["items"][0]["beds_elderly_care"] == 77


async def test_a_bulk_statement_without_its_feed_entry_is_what_the_watch_catches(
    registry_app: FastAPI, client: httpx.AsyncClient, tokens: Tokens
) -> None:
    """The watch above is not vacuous: an UPDATE with no feed entry fails it."""
    await create_institution(client, tokens, name=f"{MARK}无条目护理院")
    statement = update(Institution).where(Institution.name == f"{MARK}无条目护理院").values(residents=1)
    with pytest.raises(AssertionError, match="without its change-feed entry"):  # noqa: PT012
        with feed_watched(registry_app):
            async with registry_app.state.database.session() as session:
                await session.execute(statement)
                await session.commit()


# ------------------------------------------------------------------------------ never leaks


async def test_two_counties_with_the_same_query_get_their_own_pages(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    await create_institution(client, tokens, name=f"{MARK}湖里护理院")
    await create_institution(
        client, tokens, name=f"{MARK}思明护理院", region_code=SIMING, address="厦门市思明区测试路1号"
    )
    huli = await primed(client, county(tokens, HULI))
    siming = await get(client, county(tokens, SIMING))
    assert siming.headers[OUTCOME_HEADER] == "miss"
    assert [i["name"] for i in httpx.Response(200, content=huli).json()["items"]] == [f"{MARK}湖里护理院"]
    assert [i["name"] for i in siming.json()["items"]] == [f"{MARK}思明护理院"]
    # and each one's cached page stays its own
    assert (await get(client, county(tokens, HULI))).content == huli
    assert (await get(client, county(tokens, SIMING))).content == siming.content


async def test_an_institution_user_never_gets_the_countys_page(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    mine = await create_institution(client, tokens, name=f"{MARK}本机构")
    await create_institution(client, tokens, name=f"{MARK}邻机构")
    await primed(client, county(tokens))
    own = tokens.headers(Role.institution_admin, HULI, institution_id=uuid.UUID(mine["id"]))
    page = await get(client, own)
    assert page.headers[OUTCOME_HEADER] == "miss"
    assert [i["name"] for i in page.json()["items"]] == [f"{MARK}本机构"]


async def test_a_token_whose_scope_changed_gets_the_new_scopes_page(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    await create_institution(client, tokens, name=f"{MARK}湖里护理院")
    await primed(client, county(tokens, HULI, sub="user:moved"))
    moved = await get(client, county(tokens, SIMING, sub="user:moved"))
    assert moved.headers[OUTCOME_HEADER] == "miss"
    assert moved.json()["items"] == []


async def test_callers_of_one_view_share_the_page_and_equal_parameters_are_one_key(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    await create_institution(client, tokens, name=f"{MARK}共享护理院")
    params = {"q": MARK, "active": "true", "limit": 50}
    page = await primed(client, county(tokens, sub="user:one"), params)
    other = await get(client, county(tokens, sub="user:two"), {"limit": "50", "active": "1", "q": MARK})
    assert other.headers[OUTCOME_HEADER] == "hit"
    assert other.content == page
    smaller = await get(client, county(tokens, sub="user:two"), {**params, "limit": 1})
    assert smaller.headers[OUTCOME_HEADER] == "miss"
    assert smaller.json()["limit"] == 1


# ------------------------------------------------------------------------------ ETag, 304, off


async def test_a_matching_if_none_match_is_304_until_the_page_changes(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    created = await create_institution(client, tokens, name=f"{MARK}标签护理院")
    first = await get(client, province(tokens))
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "private, no-cache"
    asked = {**province(tokens), "If-None-Match": tag}
    unchanged = await client.get(INSTITUTIONS, params=QUERY, headers=asked)
    assert (unchanged.status_code, unchanged.content, unchanged.headers["etag"]) == (304, b"", tag)
    patched = await client.patch(
        f"{INSTITUTIONS}/{created['id']}",
        json={"residents": 81},
        headers={**county(tokens), "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    changed = await client.get(INSTITUTIONS, params=QUERY, headers=asked)
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    assert changed.json()["items"][0]["residents"] == 81
    # another view's tag names other bytes: not a 304
    other = await client.get(INSTITUTIONS, params=QUERY, headers={**county(tokens), "If-None-Match": tag})
    assert other.status_code == 200


async def test_turned_off_every_page_is_made_afresh_with_its_etag(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    await create_institution(client, tokens, name=f"{MARK}关闭护理院")
    registry_app.state.response_cache = ResponseCache(max_entries=1000, max_bytes=10**6, enabled=False)
    first = await get(client, province(tokens))
    second = await get(client, province(tokens))
    assert [first.headers[OUTCOME_HEADER], second.headers[OUTCOME_HEADER]] == ["off", "off"]
    assert first.content == second.content
    assert second.headers["etag"] == first.headers["etag"]
    assert len(registry_app.state.response_cache) == 0


async def test_a_page_made_while_the_feed_moved_is_answered_but_not_kept(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # stats (cached_page: the head read before the page and after it)
    await create_institution(client, tokens, name=f"{MARK}并发护理院")
    heads = iter([10**9, 10**9 + 1, 10**9 + 1, 10**9 + 1])

    async def moving_head(_session: Any) -> int:
        return next(heads)

    monkeypatch.setattr(response_cache, "feed_head", moving_head)
    params = {"group_by": "county"}
    first = await client.get(STATS, params=params, headers=province(tokens))
    assert first.headers[OUTCOME_HEADER] == "miss"
    assert len(response_cache.cache_of_app(registry_app)) == 0
    second = await client.get(STATS, params=params, headers=province(tokens))  # made at 10**9 + 1, kept
    assert second.headers[OUTCOME_HEADER] == "miss"
    assert second.content == first.content
    assert len(response_cache.cache_of_app(registry_app)) == 1


async def real_head(app: FastAPI) -> int:
    async with session_scope(app.state.database, write=False) as session:
        return await response_cache.feed_head(session)


@contextmanager
def selects_counted() -> Iterator[list[str]]:
    """The SELECT statements run meanwhile (on any engine: reads may go to the read engine)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        if statement.lstrip().lower().startswith("select"):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


async def test_the_list_is_kept_at_the_head_its_own_statement_read(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the list (cached_page_at): the head read for the lookup is not the version the page is kept at —
    # the head its statement read beside the rows is, whatever the lookup read (here a stale one)
    await create_institution(client, tokens, name=f"{MARK}快照护理院")
    head = await real_head(registry_app)

    async def stale_head(_session: Any) -> int:
        return head - 1

    monkeypatch.setattr(response_cache, "feed_head", stale_head)
    first = await get(client, province(tokens))
    assert first.headers[OUTCOME_HEADER] == "miss"
    cache = response_cache.cache_of_app(registry_app)
    assert [page.version for page in cache._pages.values()] == [head]
    # answered before the dependencies, at the head the driver reads: the real one, the page's
    second = await get(client, province(tokens))
    assert second.headers[OUTCOME_HEADER] == "hit"
    assert EARLY[-1] is True
    assert second.content == first.content


async def test_the_list_made_afresh_is_one_statement_and_kept(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    await create_institution(client, tokens, name=f"{MARK}一句护理院")
    with selects_counted() as afresh:
        made = await get(client, {**province(tokens), "Cache-Control": "no-cache"})
    assert made.headers[OUTCOME_HEADER] == "bypass"
    assert len(afresh) == 1, afresh  # the page and the feed head, no head read apart
    with selects_counted() as missed:
        other = await get(client, province(tokens), {**QUERY, "limit": 100})
    assert other.headers[OUTCOME_HEADER] == "miss"
    assert len(missed) == 2, missed  # the lookup's head, then the page with its head
    kept = await get(client, province(tokens))  # the page made afresh was kept at its head
    assert kept.headers[OUTCOME_HEADER] == "hit"
    assert kept.content == made.content
    assert made.content == (await get(client, {**province(tokens), **SKIP})).content


async def test_an_empty_list_page_is_kept_when_the_head_did_not_move(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    # no rows, so no head beside them: kept as cached_page keeps a page (head before = head after)
    params = {"q": f"{MARK}没有这家机构", "limit": 50}
    afresh = await get(client, {**province(tokens), "Cache-Control": "no-cache"}, params)
    assert afresh.json()["items"] == []
    assert len(response_cache.cache_of_app(registry_app)) == 0  # made afresh: no head read, not kept
    first = await get(client, province(tokens), params)
    assert first.headers[OUTCOME_HEADER] == "miss"
    second = await get(client, province(tokens), params)
    assert second.headers[OUTCOME_HEADER] == "hit"
    assert second.content == first.content == afresh.content
    await create_institution(client, tokens, name=f"{MARK}没有这家机构")
    after = await get(client, province(tokens), params)
    assert after.headers[OUTCOME_HEADER] == "miss"
    assert len(after.json()["items"]) == 1


# ------------------------------------------------------------------------------ nearby and stats

NEARBY = {"latitude": 24.512, "longitude": 118.146, "radius_km": 5, "limit": 50}


async def test_nearby_is_fresh_after_a_write_and_never_another_countys(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI
) -> None:
    async def nearby(headers: dict[str, str]) -> httpx.Response:
        response = await client.get(f"{INSTITUTIONS}/nearby", params=NEARBY, headers=headers)
        assert response.status_code == 200, response.text
        return response

    created = await create_institution(client, tokens, name=f"{MARK}附近护理院")
    first = await nearby(county(tokens))
    cached = await nearby(county(tokens))
    assert cached.headers[OUTCOME_HEADER] == "hit"
    assert cached.content == first.content
    assert created["id"] in {i["institution"]["id"] for i in first.json()}
    other = await nearby(county(tokens, SIMING))
    assert other.headers[OUTCOME_HEADER] == "miss"
    assert created["id"] not in {i["institution"]["id"] for i in other.json()}
    with feed_watched(registry_app):
        off = await client.post(
            f"{INSTITUTIONS}/{created['id']}/deactivate", headers={**county(tokens), "If-Match": '"1"'}
        )
    assert off.status_code == 200, off.text
    after = await nearby(county(tokens))
    assert after.headers[OUTCOME_HEADER] == "miss"
    assert created["id"] not in {i["institution"]["id"] for i in after.json()}  # active ones only
    assert after.content == (await nearby({**county(tokens), **SKIP})).content


async def test_stats_are_fresh_after_a_write_and_per_scope(client: httpx.AsyncClient, tokens: Tokens) -> None:
    async def stats(headers: dict[str, str]) -> httpx.Response:
        response = await client.get("/api/v1/registry/stats", params={"group_by": "county"}, headers=headers)
        assert response.status_code == 200, response.text
        return response

    before = await stats(county(tokens))
    assert (await stats(county(tokens))).headers[OUTCOME_HEADER] == "hit"
    siming = await stats(county(tokens, SIMING))
    assert siming.headers[OUTCOME_HEADER] == "miss"
    assert siming.content != before.content
    await create_institution(client, tokens, name=f"{MARK}统计护理院")
    after = await stats(county(tokens))
    assert after.headers[OUTCOME_HEADER] == "miss"
    assert after.json()["totals"]["institutions"] == before.json()["totals"]["institutions"] + 1
    assert after.content == (await stats({**county(tokens), **SKIP})).content
