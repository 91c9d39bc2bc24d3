"""On SQLite each call into aiosqlite is a hand-off to its thread and back (issue 16): a read's BEGIN is
one call (not cursor, execute, close), so is each statement with its rows (not cursor, execute, fetch,
close: tests/common/test_sqlite_hand_offs.py), the transaction is rolled back once (not again by the
pool), and a connection never goes back to the pool inside a transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite.core
import pytest
from sqlalchemy import text

from libs.common.database import Database
from libs.common.settings import ServiceSettings


@pytest.fixture
def handoffs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    execute: Any = aiosqlite.core.Connection._execute

    async def counting(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await execute(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counting)
    return calls


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(
        ServiceSettings(
            service_name="handoffs",
            environment="test",
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}",
            migrate_on_start=False,
            log_json=False,
        )
    )
    yield database
    await database.dispose()


async def _in_transaction(database: Database, *, write: bool) -> bool:
    engine = database.engine if write else database.read_engine
    async with engine.connect() as conn:
        raw: Any = (await conn.get_raw_connection()).driver_connection
        return bool(raw.in_transaction)


async def test_a_read_costs_three_handoffs(database: Database, handoffs: list[str]) -> None:
    async with database.session(write=False) as session:
        assert (await session.execute(text("SELECT 1"))).scalar_one() == 1  # connects (not counted below)
    handoffs.clear()
    async with database.session(write=False) as session:
        await session.execute(text("SELECT 1"))
    # BEGIN; the SELECT from cursor to rows and closed, in one call (task 16e: it was four); one ROLLBACK
    assert handoffs == ["_begin_deferred", "_run_statement", "rollback"], handoffs
    assert not await _in_transaction(database, write=False)


async def _failing_write(database: Database) -> None:
    async with database.session() as session:
        await session.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("the handler failed")


async def test_a_write_and_a_failed_write_leave_no_transaction_open(database: Database) -> None:
    async with database.session() as session:
        await session.execute(text("CREATE TABLE t (x INTEGER)"))
        await session.commit()
    with pytest.raises(RuntimeError):
        await _failing_write(database)
    assert not await _in_transaction(database, write=True)
    async with database.session(write=False) as session:
        assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    assert not await _in_transaction(database, write=False)


async def test_a_begin_run_after_its_caller_was_cancelled_does_not_poison_the_next_read(
    database: Database,
) -> None:
    """A cancelled read's BEGIN can run in aiosqlite's thread after its connection went back to the pool
    (the reset saw no transaction). The next read on that connection must still work: it failed with
    "cannot start a transaction within a transaction" (a 500 of the registry's change feed in CI)."""
    async with database.session(write=False) as session:
        assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    # the late BEGIN, on the pooled (idle) connection, as the thread runs it after the return
    async with database.read_engine.connect() as conn:
        raw: Any = (await conn.get_raw_connection()).driver_connection
    await raw.execute("BEGIN")
    assert raw.in_transaction
    async with database.session(write=False) as session:
        assert (await session.execute(text("SELECT 2"))).scalar_one() == 2
    assert not await _in_transaction(database, write=False)
