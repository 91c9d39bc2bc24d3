"""The change feed when an entity changes scope, and the commit-order lock on PostgreSQL.

An entity moved to another region must disappear from the mirrors of its old region: the feed writes a
``delete`` tombstone in the old scope before the entry in the new one (libs/common/changes.py).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from libs.common import changes
from libs.common.auth import Role
from libs.common.database import Database
from libs.common.models import ChangeRecord
from libs.common.testing import Tokens
from tests.common.sample_app import Note
from tests.common.test_change_feed import CHANGES, NOTES, _all_changes


def _apply(mirror: dict[str, str], entries: list[dict[str, Any]]) -> None:
    for entry in entries:
        if entry["op"] == "delete":
            mirror.pop(entry["entity_id"], None)
        else:
            mirror[entry["entity_id"]] = entry["data"]["region_code"]


async def test_a_note_moved_to_another_city_leaves_a_tombstone_in_its_old_scope(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    province = tokens.headers(Role.province_admin, "350000")
    readers = {
        "xiamen": tokens.headers(Role.city_platform, "350200"),
        "fuzhou": tokens.headers(Role.city_platform, "350100"),
        "pingtan": tokens.headers(Role.city_platform, "350128"),
        "province": province,
    }
    starts = {name: (await _all_changes(client, headers))[1] for name, headers in readers.items()}
    mirrors: dict[str, dict[str, str]] = {name: {} for name in readers}

    created = await client.post(
        NOTES, json={"title": f"move-{uuid.uuid4().hex[:8]}", "region_code": "350206"}, headers=province
    )
    note_id = created.json()["id"]
    for name, headers in readers.items():
        entries, starts[name] = await _all_changes(client, headers, starts[name])
        _apply(mirrors[name], entries)
    assert note_id in mirrors["xiamen"]
    assert note_id not in mirrors["fuzhou"]

    for step, (region, version) in enumerate((("350104", 1), ("350128", 2))):
        moved = await client.patch(
            f"{NOTES}/{note_id}",
            json={"title": f"moved-{step}-{note_id[:8]}", "region_code": region},
            headers={**province, "If-Match": f'"{version}"'},
        )
        assert moved.status_code == 200, moved.text
        for name, headers in readers.items():
            entries, starts[name] = await _all_changes(client, headers, starts[name])
            _apply(mirrors[name], entries)

    # 厦门 saw it leave, 福州 saw it come and go (平潭 is not 福州's), 平潭 and the province hold it
    assert note_id not in mirrors["xiamen"]
    assert note_id not in mirrors["fuzhou"]
    assert mirrors["pingtan"][note_id] == "350128"
    assert mirrors["province"][note_id] == "350128"

    entries, _ = await _all_changes(client, province, (await _all_changes(client, province))[1])
    assert entries == []


async def test_the_province_sees_the_tombstone_before_the_new_entry(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    province = tokens.headers(Role.province_admin, "350000")
    _, start = await _all_changes(client, province)
    created = await client.post(
        NOTES, json={"title": f"order-{uuid.uuid4().hex[:8]}", "region_code": "350206"}, headers=province
    )
    await client.patch(
        f"{NOTES}/{created.json()['id']}",
        json={"title": f"order-{uuid.uuid4().hex[:8]}", "region_code": "350203"},
        headers={**province, "If-Match": '"1"'},
    )
    entries, _ = await _all_changes(client, province, start)
    assert [(e["op"], e["region_code"], e["version"]) for e in entries] == [
        ("upsert", "350206", 1),
        ("delete", "350206", 2),
        ("upsert", "350203", 2),
    ]


async def test_an_edit_within_the_same_region_writes_no_tombstone(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    province = tokens.headers(Role.province_admin, "350000")
    _, start = await _all_changes(client, province)
    created = await client.post(
        NOTES, json={"title": f"stay-{uuid.uuid4().hex[:8]}", "region_code": "350206"}, headers=province
    )
    await client.patch(
        f"{NOTES}/{created.json()['id']}",
        json={"title": f"stay-{uuid.uuid4().hex[:8]}", "region_code": "350206"},
        headers={**province, "If-Match": '"1"'},
    )
    entries, _ = await _all_changes(client, province, start)
    assert [e["op"] for e in entries] == ["upsert", "upsert"]


async def _records(database: Database, entity_id: uuid.UUID) -> list[tuple[str, str | None]]:
    async with database.session(write=False) as session:
        rows = await session.execute(
            select(ChangeRecord.op, ChangeRecord.region_code)
            .where(ChangeRecord.entity_id == entity_id)
            .order_by(ChangeRecord.seq)
        )
        return [(op, region) for op, region in rows.all()]


async def test_a_move_and_back_within_one_transaction_leaves_no_tombstone(sample_app: FastAPI) -> None:
    database: Database = sample_app.state.database
    note = Note(title=f"back-{uuid.uuid4().hex[:8]}", region_code="350206")
    async with database.session() as session:
        session.add(note)
        await session.flush()
        await changes.write_pending_changes(session)
        await session.commit()
    async with database.session() as session:
        loaded = await session.get(Note, note.id)
        assert loaded is not None
        loaded.region_code = "350104"
        await session.flush()
        loaded.region_code = "350206"
        loaded.title = loaded.title + "-x"
        await session.flush()
        await changes.write_pending_changes(session)
        await session.commit()
    assert await _records(database, note.id) == [("upsert", "350206"), ("upsert", "350206")]


async def test_a_bulk_writer_passing_the_previous_scope_gets_a_tombstone(sample_app: FastAPI) -> None:
    """Bulk statements bypass the ORM: the writer tells ``track`` where the row was."""
    database: Database = sample_app.state.database
    note = Note(id=uuid.uuid4(), title=f"bulk-{uuid.uuid4().hex[:8]}", region_code="350104", version=3)
    async with database.session() as session:
        changes.track(session, note, previous_scope=("350206", None, None))
        await changes.write_pending_changes(session)
        await session.commit()
    assert await _records(database, note.id) == [("delete", "350206"), ("upsert", "350104")]


async def test_a_deleted_note_that_had_moved_in_the_same_transaction_is_deleted_in_both_scopes(
    sample_app: FastAPI, tokens: Tokens
) -> None:
    database: Database = sample_app.state.database
    note = Note(title=f"gone-{uuid.uuid4().hex[:8]}", region_code="350206")
    async with database.session() as session:
        session.add(note)
        await session.flush()
        await changes.write_pending_changes(session)
        await session.commit()
    async with database.session() as session:
        loaded = await session.get(Note, note.id)
        assert loaded is not None
        loaded.region_code = "350104"
        await session.flush()
        await session.delete(loaded)
        await session.flush()
        await changes.write_pending_changes(session)
        await session.commit()
    assert await _records(database, note.id) == [
        ("upsert", "350206"),
        ("delete", "350206"),
        ("delete", "350104"),
    ]


@pytest.mark.postgres_only  # the advisory lock is PostgreSQL's (SQLite serialises)
async def test_a_second_writer_takes_its_sequence_number_only_after_the_first_commits(
    sample_app: FastAPI, tokens: Tokens
) -> None:
    """Why no follower skips a change: T2 cannot number its change rows while T1 (which numbered its
    own first) is uncommitted, so a reader that sees T2's seq can already see T1's."""
    database: Database = sample_app.state.database
    first = Note(title=f"t1-{uuid.uuid4().hex[:8]}", region_code="350206")
    second = Note(title=f"t2-{uuid.uuid4().hex[:8]}", region_code="350206")
    async with database.session() as t1, database.session() as t2:
        t1.add(first)
        await t1.flush()
        await changes.write_pending_changes(t1)  # T1 holds the lock and has its seq
        t2.add(second)
        await t2.flush()
        numbering = asyncio.create_task(changes.write_pending_changes(t2))
        await asyncio.sleep(0.3)
        assert not numbering.done(), "T2 numbered its changes while T1 was uncommitted"
        assert await _records(database, first.id) == []  # nothing visible yet
        await t1.commit()
        await asyncio.wait_for(numbering, timeout=10)
        await t2.commit()
    async with database.session(write=False) as session:
        seqs = dict(
            (
                await session.execute(
                    select(ChangeRecord.entity_id, ChangeRecord.seq).where(
                        ChangeRecord.entity_id.in_([first.id, second.id])
                    )
                )
            ).all()
        )
    assert seqs[first.id] < seqs[second.id]


async def test_the_feed_endpoint_lists_the_tombstone_without_data(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    xiamen = tokens.headers(Role.city_platform, "350200")
    province = tokens.headers(Role.province_admin, "350000")
    _, start = await _all_changes(client, xiamen)
    created = await client.post(
        NOTES, json={"title": f"tomb-{uuid.uuid4().hex[:8]}", "region_code": "350211"}, headers=province
    )
    await client.patch(
        f"{NOTES}/{created.json()['id']}",
        json={"title": f"tomb-{uuid.uuid4().hex[:8]}", "region_code": "350582"},
        headers={**province, "If-Match": '"1"'},
    )
    response = await client.get(CHANGES, params={"after": start}, headers=xiamen)
    items = response.json()["items"]
    assert [(i["op"], i["data"] is None, i["version"]) for i in items] == [
        ("upsert", False, 1),
        ("delete", True, 2),
    ]


@pytest.mark.postgres_only  # concurrent write transactions need PostgreSQL
async def test_a_follower_misses_nothing_when_commits_finish_out_of_numbering_order(
    sample_app: FastAPI, tokens: Tokens
) -> None:
    """Many writers each number their change rows, then linger before committing — the earliest
    numbered lingering longest — while a follower polls the feed. Without the lock a later number would
    commit first, the follower's cursor would pass the earlier one, and that change would be lost."""
    database: Database = sample_app.state.database
    headers = tokens.headers(Role.province_admin, "350000")
    writers = 12
    run = uuid.uuid4().hex[:8]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sample_app), base_url="http://t"
    ) as client:
        _, cursor = await _all_changes(client, headers)
        seen: set[str] = set()

        async def write(n: int) -> uuid.UUID:
            note = Note(title=f"race-{run}-{n}", region_code="350206")
            async with database.session() as session:
                session.add(note)
                await session.flush()
                await changes.write_pending_changes(session)
                await asyncio.sleep((writers - n) * 0.004)
                await session.commit()
            return note.id

        async def follow(done: asyncio.Event) -> None:
            nonlocal cursor
            while True:
                finished = done.is_set()
                entries, cursor = await _all_changes(client, headers, cursor)
                seen.update(e["entity_id"] for e in entries)
                if finished:
                    return
                await asyncio.sleep(0.001)

        done = asyncio.Event()
        follower = asyncio.create_task(follow(done))
        written = await asyncio.gather(*(write(n) for n in range(writers)))
        done.set()
        await follower
    assert {str(i) for i in written} <= seen
