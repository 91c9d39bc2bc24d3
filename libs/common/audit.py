"""The audit trail every service keeps: actor, action, entity, changed fields, request id — and a record of
every showing of whole personal data (``personal_data.disclose``).

:func:`record` adds one ORM object (a single write's one record). A bulk writer that audits hundreds of
records calls :func:`record_many` instead: the same rows, kept as plain values and written in one
multi-row ``INSERT`` right before the transaction commits (like the ORM objects, which are flushed at the
latest then). Rows queued inside a savepoint that is rolled back are forgotten with it, as its ORM
objects would be; a transaction that never commits writes none.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy import Table, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from libs.common.auth import Principal
from libs.common.bulk_insert import insert_rows_sync
from libs.common.changes import json_value
from libs.common.database import READ_METHODS, Database, session_scope
from libs.common.models import AuditRecord, utcnow
from libs.common.request_context import current_request_id

MASK = "***"


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed, as ``{field: [old, new]}``."""
    return {
        key: [json_value(before.get(key)), json_value(value)]
        for key, value in after.items()
        if before.get(key) != value
    }


def masked(changes: Mapping[str, Any], personal_fields: Collection[str]) -> dict[str, Any]:
    return {key: (MASK if key in personal_fields else json_value(value)) for key, value in changes.items()}


def record(
    session: AsyncSession,
    principal: Principal,
    *,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | str,
    changes: Mapping[str, Any] | None = None,
    personal_fields: Collection[str] = (),
) -> AuditRecord:
    """Add an audit record to the request's transaction (it commits or rolls back with the write)."""
    entry = AuditRecord(
        actor_sub=principal.sub,
        actor_role=principal.role.value,
        actor_institution_id=principal.institution_id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        changes=masked(changes, personal_fields) if changes is not None else None,
        request_id=current_request_id(),
    )
    session.add(entry)
    return entry


@dataclass(frozen=True, slots=True)
class Entry:
    """One audit record of a bulk write (:func:`record_many`): what :func:`record` takes, actor aside."""

    action: str
    entity_type: str
    entity_id: uuid.UUID | str
    changes: Mapping[str, Any] | None = None


_QUEUED = "pending_audit_records"
_TABLE: Table = AuditRecord.__table__  # type: ignore[assignment]  # Core rows: no ORM unit of work


def record_many(
    session: AsyncSession | Session,
    principal: Principal,
    entries: Iterable[Entry],
    *,
    personal_fields: Collection[str] = (),
) -> int:
    """:func:`record` for each of ``entries`` (same actor, request id and masking), without an ORM object
    each: the rows are queued on the session and written in one statement before the transaction
    commits. Returns how many were queued."""
    sync_session = session.sync_session if isinstance(session, AsyncSession) else session
    actor = {
        "actor_sub": principal.sub,
        "actor_role": principal.role.value,
        "actor_institution_id": principal.institution_id,
        "request_id": current_request_id(),
    }
    now = utcnow()
    rows = [
        {
            **actor,
            "id": uuid.uuid4(),
            "occurred_at": now,
            "action": entry.action,
            "entity_type": entry.entity_type,
            "entity_id": str(entry.entity_id),
            "changes": masked(entry.changes, personal_fields) if entry.changes is not None else None,
        }
        for entry in entries
    ]
    if rows:
        # which (sub)transaction queued them: a savepoint rolled back forgets its own rows only. Like
        # session.add, queueing begins the session's transaction, so that its rollback forgets them too.
        transaction = (
            sync_session.get_nested_transaction() or sync_session.get_transaction() or sync_session.begin()
        )
        queued: list[tuple[SessionTransaction, list[dict[str, Any]]]]
        queued = sync_session.info.setdefault(_QUEUED, [])
        queued.append((transaction, rows))
    return len(rows)


@event.listens_for(Session, "before_commit")
def _write_queued(session: Session) -> None:
    queued: list[tuple[SessionTransaction, list[dict[str, Any]]]] = session.info.pop(_QUEUED, [])
    rows = [row for _transaction, batch in queued for row in batch]
    if rows:  # a commit with nothing queued takes no connection for it
        insert_rows_sync(session.connection(), _TABLE, rows)


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _forget_queued(session: Session, previous_transaction: SessionTransaction) -> None:
    queued: list[tuple[SessionTransaction, list[dict[str, Any]]]] | None = session.info.get(_QUEUED)
    if not queued:
        return
    if previous_transaction.parent is None:  # the whole transaction (and rows queued before it began)
        session.info.pop(_QUEUED, None)
        return
    kept = [(t, rows) for t, rows in queued if not _within(t, previous_transaction)]
    if kept:
        session.info[_QUEUED] = kept
    else:
        session.info.pop(_QUEUED, None)


DISCLOSURE_ACTION = "personal_data.disclose"


async def record_disclosures(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    entity_type: str,
    entity_ids: Sequence[uuid.UUID],
    fields: Collection[str],
    purpose: str | None = None,
    on_behalf_of: str | None = None,
) -> None:
    """Audit that whole personal data of ``entity_ids`` is about to be shown to ``principal``
    (``on_behalf_of``: the acting user an internal caller names, kept with the record).

    A write request records it in its own transaction (it commits with the write). A read request's
    session never commits, so the records are committed in a unit of work of their own before the
    response leaves; the read session is closed first (its rows are already loaded), which also keeps
    the two apart when tests run both on one connection.
    """
    if not entity_ids:
        return
    changes: dict[str, Any] = {"fields": sorted(fields)}
    if purpose:
        changes["purpose"] = purpose
    if on_behalf_of:
        changes["on_behalf_of"] = on_behalf_of
    if request.method not in READ_METHODS:
        for entity_id in entity_ids:
            record(
                session,
                principal,
                action=DISCLOSURE_ACTION,
                entity_type=entity_type,
                entity_id=entity_id,
                changes=changes,
            )
        return
    await session.close()
    database: Database = request.app.state.database
    async with session_scope(database) as own:
        for entity_id in entity_ids:
            record(
                own,
                principal,
                action=DISCLOSURE_ACTION,
                entity_type=entity_type,
                entity_id=entity_id,
                changes=changes,
            )
