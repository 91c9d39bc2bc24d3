"""The change feed: every create, update and delete, in commit order, scoped, resumable."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.auth import Role
from libs.common.database import session_scope
from libs.common.models import ChangeRecord
from libs.common.testing import Tokens, live_client
from tests.common.sample_app import Note

NOTES = "/api/v1/sample/notes"
CHANGES = "/api/v1/sample/changes"


async def _all_changes(
    client: httpx.AsyncClient, headers: dict[str, str], after: str | None = None
) -> tuple[list[dict[str, Any]], str]:
    entries: list[dict[str, Any]] = []
    while True:
        params: dict[str, str | int] = {"limit": 5}
        if after:
            params["after"] = after
        response = await client.get(CHANGES, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        entries += page["items"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return entries, after


async def test_create_update_delete_appear_in_order_without_personal_fields(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = tokens.headers(Role.county_admin, "350206")
    _, start = await _all_changes(client, headers)
    created = await client.post(
        NOTES, json={"title": "feed", "region_code": "350206", "secret": "13812345678"}, headers=headers
    )
    url = f"{NOTES}/{created.json()['id']}"
    updated = await client.patch(url, json={"title": "feed-2"}, headers={**headers, "If-Match": '"1"'})
    await client.delete(url, headers={**headers, "If-Match": updated.headers["etag"]})
    entries, _ = await _all_changes(client, headers, start)
    assert [(e["op"], e["version"]) for e in entries] == [("upsert", 1), ("upsert", 2), ("delete", 2)]
    assert entries[0]["data"]["title"] == "feed"
    assert "secret" not in entries[0]["data"]
    assert entries[1]["data"]["title"] == "feed-2"
    assert entries[2]["data"] is None
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)


async def test_feed_is_scoped_to_the_callers_region(client: httpx.AsyncClient, tokens: Tokens) -> None:
    province = tokens.headers(Role.province_admin, "350000")
    _, start = await _all_changes(client, province)
    await client.post(NOTES, json={"title": "huli", "region_code": "350206"}, headers=province)
    await client.post(NOTES, json={"title": "gulou", "region_code": "350102"}, headers=province)
    xiamen, _ = await _all_changes(client, tokens.headers(Role.city_platform, "350200"), start)
    assert [e["data"]["title"] for e in xiamen] == ["huli"]


async def test_bad_feed_cursor_is_422(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.get(CHANGES, params={"after": "zzz"}, headers=tokens.headers(Role.province_admin))
    assert (response.status_code, response.json()["code"]) == (422, "invalid_cursor")


async def test_a_follower_under_concurrent_writes_ends_with_the_servers_state(
    sample_app: FastAPI, tokens: Tokens
) -> None:
    """Apply every change while writers run; the mirror equals the table at the end."""
    headers = tokens.headers(Role.province_admin, "350000")
    run = uuid.uuid4().hex[:8]
    async with live_client(sample_app) as client:
        _, cursor = await _all_changes(client, headers)
        mirror: dict[str, dict[str, Any]] = {}

        async def writer(n: int) -> None:
            for i in range(6):
                created = await client.post(
                    NOTES, json={"title": f"m-{run}-{n}-{i}", "region_code": "350206"}, headers=headers
                )
                if i % 2:
                    await client.patch(
                        f"{NOTES}/{created.json()['id']}",
                        json={"title": f"m-{run}-{n}-{i}-x"},
                        headers={**headers, "If-Match": '"1"'},
                    )

        async def follower(done: asyncio.Event) -> None:
            nonlocal cursor
            while True:
                finished = done.is_set()
                entries, cursor = await _all_changes(client, headers, cursor)
                for entry in entries:
                    if entry["op"] == "delete":
                        mirror.pop(entry["entity_id"], None)
                    else:
                        mirror[entry["entity_id"]] = entry["data"]
                if finished:
                    return
                await asyncio.sleep(0)

        done = asyncio.Event()
        follow = asyncio.create_task(follower(done))
        await asyncio.gather(*(writer(n) for n in range(3)))
        done.set()
        await follow
        server = (
            await client.get(NOTES, params={"title_prefix": f"m-{run}", "limit": 200}, headers=headers)
        ).json()
    mine = {k: v["title"] for k, v in mirror.items() if v["title"].startswith(f"m-{run}")}
    assert mine == {item["id"]: item["title"] for item in server["items"]}
    assert len(mine) == 18


async def test_units_of_work_outside_requests_feed_the_change_feed_too(sample_app: FastAPI) -> None:
    """Jobs and seeds use ``session_scope``; what they write must reach the feed like a request's writes."""
    database = sample_app.state.database
    title = f"job-{uuid.uuid4().hex}"
    async with session_scope(database) as session:
        note = Note(title=title, region_code="350206")
        session.add(note)
    async with database.session(write=False) as session:
        entries = (await session.scalars(select(ChangeRecord).where(ChangeRecord.entity_id == note.id))).all()
    assert [(e.op, e.payload["title"] if e.payload else None) for e in entries] == [("upsert", title)]
