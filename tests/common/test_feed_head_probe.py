"""The change feed's head on SQLite, read only when another connection committed (issue 16s).

``Database.feed_head`` on a SQLite file asks ``PRAGMA data_version`` on a probe connection of its own
(libs/common/feed_head.py, :class:`SqliteHeadProbe`) and reads the head through aiosqlite's thread only
when it moved. Each test counts those reads (hand-offs of the head's statement to the thread): a repeated
call makes none, and a commit by the app's write engine, by another ``Database`` on the file, by another
process, or around a checkpoint makes the next call read the new head. Were the probe trusted without
its data_version, each of these would answer the old head. A probe that fails (closed, locked, the file
replaced) falls back to the read. (Its own SQLite files: runs on either backend.)
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite.core
import pytest
from sqlalchemy import text

from libs.common.database import Database, _head_probe
from libs.common.feed_head import SqliteHeadProbe, _head_in_thread
from libs.common.settings import ServiceSettings


class Reads:
    """How often the head's statement went to aiosqlite's thread."""

    def __init__(self) -> None:
        self.count = 0

    def taken(self) -> int:
        count, self.count = self.count, 0
        return count


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    counter = Reads()
    execute: Any = aiosqlite.core.Connection._execute

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if fn is _head_in_thread:
            counter.count += 1
        return await execute(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counting)
    return counter


def _database(path: Path) -> Database:
    return Database(
        ServiceSettings(
            service_name="probe",
            environment="test",
            database_url=f"sqlite+aiosqlite:///{path}",
            migrate_on_start=False,
            log_json=False,
        )
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "feed.db"


@pytest.fixture
async def database(path: Path) -> AsyncIterator[Database]:
    database = _database(path)
    async with database.engine.begin() as conn:  # WAL, as every engine connection sets it
        await conn.execute(text("CREATE TABLE change_record (seq INTEGER PRIMARY KEY, note TEXT)"))
    yield database
    await database.dispose()


async def _append(database: Database) -> None:
    """One change-feed entry committed through ``database``'s write engine."""
    async with database.engine.begin() as conn:
        await conn.execute(text("INSERT INTO change_record (note) VALUES ('x')"))


def _append_elsewhere(path: Path, *, then: str = "") -> None:
    """One entry committed by another process (plain sqlite3), and ``then`` run there after it."""
    script = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n"
        "c.execute(\"INSERT INTO change_record (note) VALUES ('elsewhere')\")\n"
        "if sys.argv[2]: print(c.execute(sys.argv[2]).fetchall())\n"
        "c.close()\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path), then], check=True, capture_output=True)


def _delete(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _create_with_one_entry(path: Path) -> None:
    fresh = sqlite3.connect(path, isolation_level=None)
    fresh.execute("PRAGMA journal_mode=WAL")
    fresh.execute("CREATE TABLE change_record (seq INTEGER PRIMARY KEY, note TEXT)")
    fresh.execute("INSERT INTO change_record (note) VALUES ('new file')")
    fresh.close()


async def _primed(database: Database, reads: Reads) -> int:
    """The head read once, then answered again and again without a read."""
    head = await database.feed_head()
    reads.taken()
    for _ in range(3):
        assert await database.feed_head() == head
    assert reads.taken() == 0, "an unchanged head was read again"
    return head


async def test_an_unchanged_head_is_not_read_again(database: Database, reads: Reads) -> None:
    assert await database.feed_head() == 0
    assert reads.taken() == 1
    await _append(database)
    assert await database.feed_head() == 1
    assert reads.taken() == 1
    assert await _primed(database, reads) == 1


async def test_a_commit_of_the_apps_write_engine_is_seen(database: Database, reads: Reads) -> None:
    await _append(database)
    head = await _primed(database, reads)
    for expected in range(head + 1, head + 4):
        await _append(database)
        assert await database.feed_head() == expected
        assert reads.taken() == 1
        assert await database.feed_head() == expected
        assert reads.taken() == 0


async def test_a_commit_of_another_process_is_seen(database: Database, path: Path, reads: Reads) -> None:
    head = await _primed(database, reads)
    await asyncio.to_thread(_append_elsewhere, path)
    assert await database.feed_head() == head + 1
    assert reads.taken() == 1
    assert await _primed(database, reads) == head + 1


async def test_a_commit_of_another_database_on_the_file_is_seen(
    database: Database, path: Path, reads: Reads
) -> None:
    other = _database(path)
    try:
        head = await _primed(database, reads)
        assert await _primed(other, reads) == head
        await _append(other)  # the other one's own write engine: another connection than its probe too
        assert (await database.feed_head(), await other.feed_head()) == (head + 1, head + 1)
        assert reads.taken() == 2
        await _append(database)
        assert (await other.feed_head(), await database.feed_head()) == (head + 2, head + 2)
    finally:
        await other.dispose()


async def test_commits_around_checkpoints_are_seen(database: Database, path: Path, reads: Reads) -> None:
    await _append(database)
    head = await _primed(database, reads)
    checkpointer = sqlite3.connect(path, isolation_level=None)  # another connection of this process
    try:  # the WAL copied into the file and emptied
        assert checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0  # not busy
    finally:
        checkpointer.close()
    assert await database.feed_head() == head  # read again or not: the same head
    await _append(database)  # the first commit into the restarted WAL
    assert await database.feed_head() == head + 1
    reads.taken()
    # another process commits, checkpoints and restarts the WAL, then commits again
    await asyncio.to_thread(_append_elsewhere, path, then="PRAGMA wal_checkpoint(RESTART)")
    await asyncio.to_thread(_append_elsewhere, path)
    assert await database.feed_head() == head + 3
    assert reads.taken() == 1
    assert await _primed(database, reads) == head + 3


async def test_a_probe_that_fails_falls_back_to_the_read(database: Database, reads: Reads) -> None:
    probe = database.head_probe
    assert probe is not None
    head = await _primed(database, reads)

    class Locked:
        def execute(self, *_: Any) -> Any:
            raise sqlite3.OperationalError("database is locked")

        def close(self) -> None:
            pass

    opened = probe._connection
    assert opened is not None
    probe._connection = Locked()  # type: ignore[assignment]
    opened.close()
    await _append(database)
    assert await database.feed_head() == head + 1  # read: the probe failed, and nothing was trusted
    assert reads.taken() == 1
    assert await database.feed_head() == head + 1  # a new probe, whose first version is read
    assert reads.taken() == 1
    assert await _primed(database, reads) == head + 1

    assert probe._connection is not None
    probe._connection.close()  # closed under it: sqlite3.ProgrammingError
    await _append(database)
    assert await database.feed_head() == head + 2
    assert reads.taken() == 1


async def test_a_file_replaced_under_the_probe_is_probed_anew(
    database: Database, path: Path, reads: Reads
) -> None:
    for _ in range(3):
        await _append(database)
    assert await _primed(database, reads) == 3
    probe = database.head_probe
    assert probe is not None
    await database.read_engine.dispose()  # the reads' pooled connections, not the probe
    await asyncio.to_thread(_delete, path)
    await asyncio.to_thread(_create_with_one_entry, path)
    assert await database.feed_head() == 1  # the old probe's file never moved: it would say 3
    assert reads.taken() == 1
    assert await _primed(database, reads) == 1
    await asyncio.to_thread(_delete, path)
    assert probe.version() is None  # no file: the read decides (and fails, as it would)


async def test_a_head_read_across_a_reopened_probe_is_not_kept(
    database: Database, reads: Reads, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read that began before the probe was opened again (another request's probe failed meanwhile)
    is answered, but not kept for the new probe, whose data_version may be the old one's number."""
    from libs.common import feed_head

    probe = database.head_probe
    assert probe is not None
    original = feed_head.read_feed_head
    reopened: list[tuple[int, int] | None] = []

    async def reopened_meanwhile(engine: Any) -> int:
        head = await original(engine)
        await _append(database)  # committed after the read: the head read is old at once
        probe.close()
        reopened.append(probe.version())  # a new probe, which has seen that commit
        return head

    monkeypatch.setattr(feed_head, "read_feed_head", reopened_meanwhile)
    assert await database.feed_head() == 0  # the head as read (the probe opened, its first version)
    monkeypatch.setattr(feed_head, "read_feed_head", original)
    kept, [new] = probe._seen, reopened
    assert kept is not None
    assert new is not None
    assert kept[1] == new[1], "premise: the two probes' data_version numbers coincide"
    reads.taken()
    assert await database.feed_head() == 1  # not the 0 kept under the old generation
    assert reads.taken() == 1


async def test_the_probe_is_used_from_another_thread_and_closed_by_dispose(path: Path) -> None:
    database = _database(path)
    async with database.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE change_record (seq INTEGER PRIMARY KEY, note TEXT)"))
    probe = database.head_probe
    assert probe is not None
    assert await database.feed_head() == 0
    here = probe.version()
    assert here is not None
    assert await asyncio.to_thread(probe.version) == here  # pytest's loops may change threads
    await database.dispose()
    assert probe._connection is None


def test_no_probe_without_a_sqlite_file() -> None:
    assert _head_probe("sqlite+aiosqlite:///:memory:") is None
    assert _head_probe("sqlite+aiosqlite:///file:feed.db?mode=memory&uri=true") is None
    assert isinstance(_head_probe("sqlite+aiosqlite:////tmp/feed.db"), SqliteHeadProbe)
    postgres = ServiceSettings(
        service_name="probe",
        environment="test",
        database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres",
        log_json=False,
    )
    assert Database(postgres).head_probe is None  # PostgreSQL reads the head on every request
