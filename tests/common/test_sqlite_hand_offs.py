"""On SQLite a statement is one hand-off to aiosqlite's thread (issue 16).

SQLAlchemy's adapted aiosqlite cursor made four per statement (open the cursor, execute, fetch the
rows, close), each a trip through aiosqlite's queue and back to the event loop: a 50-row list page on
SQLite spent 2.3 ms in its query against 0.28 ms in plain ``sqlite3``. ``libs.common.database``'s
cursor runs the whole statement in the driver's thread in one call. This test holds what SQLAlchemy
reads from the cursor: rows, the description, row counts (optimistic concurrency
reads them), last row ids, ``executemany`` and the driver's errors.
(A read's count: tests/common/test_sqlite_handoffs.py. Its own SQLite file: runs on either backend.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.common.database import _sqlite_engine

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(20), nullable=False, unique=True),
    Column("version", Integer, nullable=False),
)


class HandOffs:
    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
def hand_offs(monkeypatch: pytest.MonkeyPatch) -> HandOffs:
    counter = HandOffs()
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        counter.count += 1
        return await original(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return counter


@pytest.fixture
async def engines(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hops.sqlite'}"
    writer = _sqlite_engine(url, immediate=True)
    reader = _sqlite_engine(url, immediate=False)
    async with writer.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(insert(things), [{"name": f"物品{i}", "version": 1} for i in range(60)])
    yield writer, reader
    await writer.dispose()
    await reader.dispose()


async def test_writes_report_row_counts_ids_and_errors(
    engines: tuple[AsyncEngine, AsyncEngine], hand_offs: HandOffs
) -> None:
    writer, _ = engines
    async with writer.begin() as conn:
        hand_offs.count = 0
        changed = await conn.execute(
            update(things).where(things.c.version == 1, things.c.id <= 3).values(version=2)
        )
        assert changed.rowcount == 3
        assert hand_offs.count == 1
        stale = await conn.execute(
            update(things).where(things.c.id == 1, things.c.version == 1).values(version=3)
        )
        assert stale.rowcount == 0
        inserted = await conn.execute(insert(things).values(name="新物品", version=1))
        assert inserted.inserted_primary_key == (61,)
        many = await conn.execute(
            insert(things), [{"name": "甲", "version": 1}, {"name": "乙", "version": 1}]
        )
        assert many.rowcount == 2
        empty = await conn.execute(select(things).where(things.c.id < 0))
        assert empty.all() == []
    with pytest.raises(IntegrityError):
        async with writer.begin() as conn:
            await conn.execute(insert(things).values(name="甲", version=1))
    async with writer.connect() as conn:  # the failed transaction was rolled back, the connection works
        count = (await conn.execute(text("SELECT count(*) FROM things"))).scalar_one()
    assert count == 63
