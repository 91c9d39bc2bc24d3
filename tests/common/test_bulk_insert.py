"""Set-based writes shared by every bulk path: ``insert_rows`` (one statement for many rows), the audit
trail's ``record_many`` (queued, written at commit, forgotten with a rolled-back savepoint), the feed's
``track_values`` (the entry ``track`` makes of an ORM object, from plain values) and the feed entries of a
batch whose records are written in savepoints (``guarded``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Table, event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit, changes
from libs.common.auth import Principal, Role
from libs.common.bulk import guarded, open_batch
from libs.common.bulk_insert import insert_rows
from libs.common.database import session_scope
from libs.common.errors import Conflict
from libs.common.models import AuditRecord, ChangeRecord
from libs.common.testing import ConnectionBoundDatabase
from tests.common.sample_app import Note

NOTES: Table = Note.__table__  # type: ignore[assignment]
CHANGES: Table = ChangeRecord.__table__  # type: ignore[assignment]
ACTOR = Principal(sub="client:test", role=Role.city_platform, region_code="350200")


@pytest.fixture
async def session(sample_app: FastAPI) -> AsyncIterator[AsyncSession]:
    """A session on a connection whose transaction is rolled back after the test (commit releases a
    savepoint only)."""
    database = sample_app.state.database
    async with database.engine.connect() as connection:
        transaction = await connection.begin()
        try:
            async with ConnectionBoundDatabase(database, connection).session() as session:
                yield session
        finally:
            await transaction.rollback()


@contextmanager
def statements(session: AsyncSession) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = session.bind.engine.sync_engine  # type: ignore[union-attr]

    def count(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        seen.append(statement.split()[0])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def note_row(title: str, **values: Any) -> dict[str, Any]:
    return {"title": title, "region_code": "350206", "version": 1, **values}


def comparable(row: Any) -> dict[str, Any]:
    return {k: v for k, v in row._mapping.items() if k not in ("id", "title", "created_at", "updated_at")}


async def test_insert_rows_stores_what_insert_of_the_table_stores(session: AsyncSession) -> None:
    tag = uuid.uuid4().hex[:8]
    given = {"institution_id": uuid.uuid4(), "secret": "秘密", "shared_region_code": "350203"}
    await session.execute(insert(NOTES), [note_row(f"core-{tag}-{i}", **given) for i in range(3)])
    # the columns left out get the same Python-side defaults (id, created_at, updated_at)
    await insert_rows(session, NOTES, [note_row(f"rows-{tag}-{i}", **given) for i in range(3)])
    core = (await session.execute(select(NOTES).where(NOTES.c.title.like(f"core-{tag}-%")))).all()
    rows = (
        await session.execute(
            select(NOTES).where(NOTES.c.title.like(f"rows-{tag}-%")).order_by(NOTES.c.title)
        )
    ).all()
    assert len(rows) == 3
    assert [comparable(r) for r in rows] == [comparable(r) for r in core]
    assert len({r.id for r in rows}) == 3
    assert all(r.created_at is not None and r.updated_at is not None for r in rows)


async def test_insert_rows_is_one_statement_whatever_the_count(session: AsyncSession) -> None:
    tag = uuid.uuid4().hex[:8]
    await session.execute(select(1))  # the session's savepoint is opened before counting
    with statements(session) as few:
        await insert_rows(session, NOTES, [note_row(f"few-{tag}-{i}") for i in range(3)])
    with statements(session) as many:
        await insert_rows(session, NOTES, [note_row(f"many-{tag}-{i}") for i in range(3000)])
    assert few == many == ["INSERT"]
    assert await session.scalar(select(NOTES.c.id).where(NOTES.c.title == f"many-{tag}-2999")) is not None


async def test_insert_rows_numbers_a_serial_key_in_the_order_given(session: AsyncSession) -> None:
    ids = [uuid.uuid4() for _ in range(500)]
    now = datetime.now(UTC)
    rows = [
        {"entity_type": "note", "entity_id": entity_id, "op": "upsert", "entity_version": 1,
         "region_code": "350206", "other_region_code": None, "institution_id": None,
         "other_institution_id": None, "payload": {"n": n}, "changed_at": now}
        for n, entity_id in enumerate(ids)
    ]  # fmt: skip
    await insert_rows(session, CHANGES, rows)
    stored = (
        await session.execute(
            select(ChangeRecord.entity_id, ChangeRecord.payload)
            .where(ChangeRecord.entity_id.in_(ids))
            .order_by(ChangeRecord.seq)
        )
    ).all()
    assert [r.entity_id for r in stored] == ids
    assert [r.payload for r in stored] == [{"n": n} for n in range(500)]


async def test_audit_records_in_bulk_are_the_records_of_one_by_one(session: AsyncSession) -> None:
    one, many = uuid.uuid4(), uuid.uuid4()
    changes_ = {
        "name": ["甲", "乙"],
        "contact_phone": "13800000000",
        "when": datetime(2026, 1, 2, tzinfo=UTC),
    }
    audit.record(
        session, ACTOR, action="note.update", entity_type="note", entity_id=one, changes=changes_,
        personal_fields={"contact_phone"},
    )  # fmt: skip
    queued = audit.record_many(
        session,
        ACTOR,
        [audit.Entry("note.update", "note", many, changes_)],
        personal_fields={"contact_phone"},
    )
    assert queued == 1
    with statements(session) as written:
        await session.commit()
    assert written.count("INSERT") == 2  # the ORM object's, and the queued rows' one statement
    stored = {
        r.entity_id: r
        for r in (
            await session.scalars(select(AuditRecord).where(AuditRecord.entity_id.in_([str(one), str(many)])))
        ).all()
    }
    fields = (
        "actor_sub",
        "actor_role",
        "actor_institution_id",
        "action",
        "entity_type",
        "changes",
        "request_id",
    )
    assert {f: getattr(stored[str(many)], f) for f in fields} == {
        f: getattr(stored[str(one)], f) for f in fields
    }
    assert stored[str(many)].changes == {
        "name": ["甲", "乙"], "contact_phone": audit.MASK, "when": "2026-01-02T00:00:00+00:00"
    }  # fmt: skip


async def test_audit_rows_queued_in_a_rolled_back_savepoint_are_forgotten_with_it(
    session: AsyncSession,
) -> None:
    kept, undone = uuid.uuid4(), uuid.uuid4()
    audit.record_many(session, ACTOR, [audit.Entry("note.create", "note", kept)])
    savepoint = await session.begin_nested()
    audit.record_many(session, ACTOR, [audit.Entry("note.create", "note", undone)])
    await savepoint.rollback()
    await session.commit()
    stored = (
        await session.scalars(
            select(AuditRecord.entity_id).where(AuditRecord.entity_id.in_([str(kept), str(undone)]))
        )
    ).all()
    assert stored == [str(kept)]


async def test_audit_rows_of_a_transaction_rolled_back_are_never_written(session: AsyncSession) -> None:
    gone = uuid.uuid4()
    audit.record_many(session, ACTOR, [audit.Entry("note.create", "note", gone)])
    await session.rollback()
    await session.commit()
    assert await session.scalar(select(AuditRecord.id).where(AuditRecord.entity_id == str(gone))) is None


async def test_a_feed_entry_from_values_is_the_entry_of_the_orm_object(session: AsyncSession) -> None:
    values = note_row(
        "值", id=uuid.uuid4(), institution_id=uuid.uuid4(), secret="秘密", shared_region_code="350203",
        created_at=datetime(2026, 1, 2, tzinfo=UTC), updated_at=datetime(2026, 1, 2, tzinfo=UTC),
    )  # fmt: skip
    info = session.sync_session.info
    changes.track(session, Note(**values), previous_scope=("350205", values["institution_id"], None))
    from_orm = (info.pop(changes._PENDING), info.pop(changes._BEFORE))
    changes.track_values(session, Note, values, previous_scope=("350205", values["institution_id"], None))
    from_values = (info.pop(changes._PENDING), info.pop(changes._BEFORE))
    assert from_values == from_orm
    entry = next(iter(from_values[0].values()))
    assert entry["other_region_code"] == "350203"
    assert "secret" not in entry["payload"]


async def test_a_record_rejected_inside_its_savepoint_keeps_the_feed_entries_written_before(
    sample_app: FastAPI,
) -> None:
    """``guarded`` rolls back the rejected record's savepoint: its own entries go, the earlier records'
    stay (they were all dropped: the earlier records were stored with no feed entry)."""
    database = sample_app.state.database
    tag = uuid.uuid4().hex
    batch = open_batch("s", [{"external_id": "1"}, {"external_id": "2"}, {"external_id": "3"}], max_records=9)
    first, second, third = batch.records
    async with session_scope(database) as session:
        kept = Note(title=f"kept-{tag}", region_code="350206")
        async with guarded(session, first):
            session.add(kept)
            await session.flush()
        async with guarded(session, second):
            kept.region_code = "350203"  # a move inside the record that fails: undone with it
            session.add(Note(title=f"undone-{tag}", region_code="350206"))
            await session.flush()
            raise Conflict("冲突", code="taken")
        async with guarded(session, third):
            kept.title = f"kept-again-{tag}"
            await session.flush()
    assert (first.rejected, second.code, third.rejected) == (False, "taken", False)
    async with database.session(write=False) as session:
        entries = (
            await session.execute(
                select(ChangeRecord.op, ChangeRecord.region_code, ChangeRecord.payload)
                .where(ChangeRecord.entity_type == "note")
                .where(ChangeRecord.seq > 0)
                .order_by(ChangeRecord.seq)
            )
        ).all()
    mine = [
        (op, region, (payload or {}).get("title")) for op, region, payload in entries if tag in str(payload)
    ]
    assert mine == [("upsert", "350206", f"kept-again-{tag}")]
