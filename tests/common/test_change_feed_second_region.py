"""A record read in two counties: its entries reach readers of either region, once each.

An agreement between a 思明 hospital and a 湖里 home belongs to 湖里 (the elderly-care party's county) and is
read by 思明's officials too (issue 13). The sample note stands for it: ``region_code`` is where it
belongs, ``shared_region_code`` the second county (``ChangeTracked.change_other_region``), kept in the
change record's ``other_region_code`` (libs/common/changes.py, libs/common/scope.py).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from libs.common import changes
from libs.common.auth import Role
from libs.common.database import Database
from libs.common.models import ChangeRecord
from libs.common.testing import Tokens
from tests.common.sample_app import Note
from tests.common.test_change_feed import NOTES, _all_changes

HULI, SIMING, HAICANG = "350206", "350203", "350205"


def _readers(tokens: Tokens) -> dict[str, dict[str, str]]:
    return {
        "huli": tokens.headers(Role.county_admin, HULI),
        "siming": tokens.headers(Role.county_admin, SIMING),
        "haicang": tokens.headers(Role.county_admin, HAICANG),
        "xiamen": tokens.headers(Role.city_platform, "350200"),
        "fuzhou": tokens.headers(Role.city_platform, "350100"),
    }


def _ids(entries: list[dict[str, Any]], note_id: str) -> list[str]:
    return [e["op"] for e in entries if e["entity_id"] == note_id]


async def _listed(client: httpx.AsyncClient, headers: dict[str, str], title: str) -> list[str]:
    response = await client.get(NOTES, params={"title_prefix": title}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_a_shared_note_reaches_either_countys_readers_once_and_no_other(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    province = tokens.headers(Role.province_admin, "350000")
    readers = _readers(tokens)
    starts = {name: (await _all_changes(client, headers))[1] for name, headers in readers.items()}
    title = f"shared-{uuid.uuid4().hex[:8]}"
    created = await client.post(
        NOTES, json={"title": title, "region_code": HULI, "shared_region_code": SIMING}, headers=province
    )
    assert created.status_code == 201, created.text
    note_id = created.json()["id"]

    seen = {
        name: _ids((await _all_changes(client, headers, starts[name]))[0], note_id)
        for name, headers in readers.items()
    }
    assert seen == {
        "huli": ["upsert"],
        "siming": ["upsert"],
        "haicang": [],
        "xiamen": ["upsert"],
        "fuzhou": [],
    }

    for name, expected in (
        ("huli", 200),
        ("siming", 200),
        ("xiamen", 200),
        ("haicang", 404),
        ("fuzhou", 404),
    ):
        got = await client.get(f"{NOTES}/{note_id}", headers=readers[name])
        assert got.status_code == expected, (name, got.text)
    listed = {name: await _listed(client, headers, title) for name, headers in readers.items()}
    assert listed == {
        "huli": [note_id],
        "siming": [note_id],
        "haicang": [],
        "xiamen": [note_id],
        "fuzhou": [],
    }


async def test_a_changed_second_region_leaves_a_tombstone_there(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    province = tokens.headers(Role.province_admin, "350000")
    readers = _readers(tokens)
    starts = {name: (await _all_changes(client, headers))[1] for name, headers in readers.items()}
    title = f"reshare-{uuid.uuid4().hex[:8]}"
    created = await client.post(
        NOTES, json={"title": title, "region_code": HULI, "shared_region_code": SIMING}, headers=province
    )
    note_id = created.json()["id"]
    moved = await client.patch(
        f"{NOTES}/{note_id}",
        json={"title": title + "-2", "shared_region_code": HAICANG},
        headers={**province, "If-Match": '"1"'},
    )
    assert moved.status_code == 200, moved.text

    seen = {
        name: _ids((await _all_changes(client, headers, starts[name]))[0], note_id)
        for name, headers in readers.items()
    }
    # 思明 saw it come and go; 海沧 sees it now; 湖里 and the city read both scopes: go and come back
    assert seen == {
        "siming": ["upsert", "delete"],
        "haicang": ["upsert"],
        "huli": ["upsert", "delete", "upsert"],
        "xiamen": ["upsert", "delete", "upsert"],
        "fuzhou": [],
    }


async def _records(database: Database, entity_id: uuid.UUID) -> list[tuple[str, str | None, str | None]]:
    async with database.session(write=False) as session:
        rows = await session.execute(
            select(ChangeRecord.op, ChangeRecord.region_code, ChangeRecord.other_region_code)
            .where(ChangeRecord.entity_id == entity_id)
            .order_by(ChangeRecord.seq)
        )
        return [(op, region, other) for op, region, other in rows.all()]


async def test_a_bulk_writers_three_part_previous_scope_keeps_the_second_region(sample_app: FastAPI) -> None:
    """Bulk writers pass ``change_scope()`` (three parts): the second region is taken as unchanged."""
    database: Database = sample_app.state.database
    note = Note(
        id=uuid.uuid4(),
        title=f"bulk2-{uuid.uuid4().hex[:8]}",
        region_code=HULI,
        shared_region_code=SIMING,
        version=2,
    )
    async with database.session() as session:
        changes.track(session, note, previous_scope=(HULI, None, None))
        await changes.write_pending_changes(session)
        await session.commit()
    assert await _records(database, note.id) == [("upsert", HULI, SIMING)]

    moved = Note(id=note.id, title=note.title, region_code=HULI, shared_region_code=HAICANG, version=3)
    async with database.session() as session:
        changes.track(session, moved, previous_scope=(HULI, None, None, SIMING))
        await changes.write_pending_changes(session)
        await session.commit()
    assert (await _records(database, note.id))[1:] == [("delete", HULI, SIMING), ("upsert", HULI, HAICANG)]
