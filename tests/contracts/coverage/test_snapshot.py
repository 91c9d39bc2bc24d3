"""The coverage's snapshot of the registry's elderly-care institutions (contracts/coverage/snapshot.py):
followed from the registry's real feed, idempotent beside another poller, caught up on a request only when
older than its allowed age, and a registry that fails while it must catch up answers 502 as before."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from libs.common.auth import Role
from libs.common.database import Database
from libs.common.http_client import StaticTokenSource
from libs.common.testing import Tokens
from services.contracts.clients.registry import FeedPage, RegistryClient
from services.contracts.coverage.snapshot import RegistrySnapshot, SnapshotCursor, SnapshotInstitution
from tests.contracts.registry_data import RegistryData

COVERAGE = "/api/v1/contracts/coverage"
COUNTY = "350922"  # 古田县: no other coverage test counts it


class CountingClient(RegistryClient):
    """The real registry client, counting its feed reads; ``replay`` answers a page read before."""

    def __init__(self, inner: RegistryClient) -> None:
        super().__init__(inner._http, inner._tokens, max_concurrency=1)
        self.calls = 0
        self.replay: FeedPage | None = None
        self.on_call: asyncio.Event | None = None

    async def feed_page(self, *, after: str | None, limit: int, entity_types: Collection[str]) -> FeedPage:
        self.calls += 1
        if self.on_call is not None and self.calls >= 2:
            self.on_call.set()
        if self.replay is not None:
            return self.replay
        return await super().feed_page(after=after, limit=limit, entity_types=entity_types)


class StaleSnapshot(RegistrySnapshot):
    """A poller that read the stored cursor before another one moved it."""

    def __init__(self, client: RegistryClient, stale: str | None) -> None:
        super().__init__(client, max_age_seconds=0)
        self.stale = stale

    async def stored_cursor(self, database: Database) -> str | None:
        return self.stale


def _real_client(app: FastAPI) -> RegistryClient:
    snapshot: RegistrySnapshot = app.state.registry_snapshot
    return snapshot.client


async def _rows(database: Database, region_code: str) -> dict[uuid.UUID, tuple[str, bool]]:
    async with database.session(write=False) as session:
        rows = await session.execute(
            select(SnapshotInstitution.id, SnapshotInstitution.kind, SnapshotInstitution.active).where(
                SnapshotInstitution.region_code == region_code
            )
        )
        return {row.id: (row.kind, row.active) for row in rows}


async def test_the_snapshot_follows_the_registrys_feed(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, contracts_app: FastAPI
) -> None:
    home = await registry.elderly(COUNTY)
    integrated = await registry.integrated(COUNTY)
    hospital = await registry.medical(COUNTY)
    headers = tokens.headers(Role.county_admin, COUNTY)
    body = (await client.get(COVERAGE, headers=headers)).json()
    assert (body["institutions"], body["covered"], body["uncovered_total"]) == (2, 1, 1)
    assert [u["id"] for u in body["uncovered"]] == [home["id"]]
    # only the kinds the coverage counts are kept (the hospital is not)
    database: Database = contracts_app.state.database
    kept = await _rows(database, COUNTY)
    assert set(kept) == {uuid.UUID(home["id"]), uuid.UUID(integrated["id"])}
    assert uuid.UUID(hospital["id"]) not in kept

    await registry.deactivate(home)  # the next request reads the deactivation
    body = (await client.get(COVERAGE, headers=headers)).json()
    assert (body["institutions"], body["covered"], body["uncovered_total"], body["uncovered"]) == (
        1,
        1,
        0,
        [],
    )
    assert (await _rows(database, COUNTY))[uuid.UUID(home["id"])] == ("elderly_care", False)


async def test_a_page_applied_by_another_poller_is_dropped(
    client: httpx.AsyncClient, registry: RegistryData, contracts_app: FastAPI
) -> None:
    database: Database = contracts_app.state.database
    counting = CountingClient(_real_client(contracts_app))
    snapshot = RegistrySnapshot(counting, max_age_seconds=0)
    await snapshot.catch_up(database)
    home = await registry.elderly(COUNTY)
    before = await snapshot.stored_cursor(database)
    page = await counting.feed_page(after=before, limit=1000, entity_types=("institution",))
    assert [item.entity_id for item in page.items] == [uuid.UUID(home["id"])]
    assert await snapshot.poll_once(database) == (1, False)
    applied = await snapshot.stored_cursor(database)
    assert applied == page.next_cursor != before

    async with database.session(write=False) as session:
        count = await session.scalar(select(func.count()).select_from(SnapshotInstitution))
    # the same page again, as a poller that read it from the old cursor: not applied, the cursor stays
    counting.replay = page
    late = StaleSnapshot(counting, before)
    assert await late.poll_once(database) == (1, True)  # dropped: read on from the stored cursor
    assert await snapshot.stored_cursor(database) == applied
    # applied twice from its own cursor: the same rows
    first = await _rows(database, COUNTY)
    assert await snapshot.poll_once(database) == (1, False)
    assert await _rows(database, COUNTY) == first
    async with database.session(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(SnapshotInstitution)) == count
        cursor = await session.get(SnapshotCursor, "registry")
        assert cursor is not None
        assert (cursor.cursor, cursor.last_seq) == (applied, page.items[-1].seq)


async def test_a_recent_snapshot_is_not_caught_up_per_request(
    client: httpx.AsyncClient, registry: RegistryData, contracts_app: FastAPI
) -> None:
    database: Database = contracts_app.state.database
    counting = CountingClient(_real_client(contracts_app))
    recent = RegistrySnapshot(counting, max_age_seconds=3600)
    await recent.ensure_fresh(database)
    calls = counting.calls
    assert calls >= 1
    await registry.elderly(COUNTY)
    await recent.ensure_fresh(database)
    await recent.ensure_fresh(database)
    assert counting.calls == calls  # within its age: no call to the registry
    assert await _rows(database, COUNTY) == {}

    every_time = RegistrySnapshot(counting, max_age_seconds=0)
    await every_time.ensure_fresh(database)
    await every_time.ensure_fresh(database)
    assert counting.calls == calls + 2  # one read each: the new institution, then nothing more
    assert len(await _rows(database, COUNTY)) == 1


async def test_the_background_loop_catches_up_until_stopped(
    client: httpx.AsyncClient, registry: RegistryData, contracts_app: FastAPI
) -> None:
    database: Database = contracts_app.state.database
    home = await registry.elderly(COUNTY)
    counting = CountingClient(_real_client(contracts_app))
    stop = asyncio.Event()
    counting.on_call = stop  # stop once the loop polls a second time
    snapshot = RegistrySnapshot(counting, max_age_seconds=60)
    await asyncio.wait_for(snapshot.follow(contracts_app, 0.01, stop), timeout=30)
    assert counting.calls >= 2
    assert uuid.UUID(home["id"]) in await _rows(database, COUNTY)
    assert snapshot.is_fresh()


def _failing(contracts_app: FastAPI, respond: Any) -> RegistrySnapshot:
    http = httpx.AsyncClient(transport=httpx.MockTransport(respond), base_url="http://gateway")
    return RegistrySnapshot(RegistryClient(http, StaticTokenSource("t")), max_age_seconds=0)


async def test_a_registry_failing_while_catching_up_is_a_502(
    client: httpx.AsyncClient, tokens: Tokens, contracts_app: FastAPI
) -> None:
    kept = contracts_app.state.registry_snapshot
    headers = tokens.headers(Role.county_admin, COUNTY)
    try:
        contracts_app.state.registry_snapshot = _failing(contracts_app, lambda _r: httpx.Response(503))
        down = await client.get(COVERAGE, headers=headers)
        assert (down.status_code, down.json()["code"]) == (502, "upstream_error")
        assert down.headers["content-type"].startswith("application/problem+json")

        contracts_app.state.registry_snapshot = _failing(contracts_app, lambda _r: httpx.Response(403))
        refused = await client.get(COVERAGE, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (502, "registry_refused")

        def timeout(request: httpx.Request) -> httpx.Response:
            raise httpx.ReadTimeout("slow", request=request)

        contracts_app.state.registry_snapshot = _failing(contracts_app, timeout)
        slow = await client.get(COVERAGE, headers=headers)
        assert (slow.status_code, slow.json()["code"]) == (504, "upstream_timeout")

        garbled = {
            "items": [
                {
                    "seq": 1,
                    "entity_type": "institution",
                    "entity_id": str(uuid.uuid4()),
                    "op": "upsert",
                    "changed_at": "2026-03-16T01:00:00Z",
                    "data": {"kind": "elderly_care"},  # no name nor county
                }
            ],
            "next_cursor": "x",
            "has_more": False,
        }
        contracts_app.state.registry_snapshot = _failing(
            contracts_app, lambda _r: httpx.Response(200, json=garbled)
        )
        bad = await client.get(COVERAGE, headers=headers)
        assert (bad.status_code, bad.json()["code"]) == (502, "registry_bad_response")
    finally:
        contracts_app.state.registry_snapshot = kept
