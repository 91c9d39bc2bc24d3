"""The per-service change feed: every create, update and delete of a ``ChangeTracked`` entity.

ORM flushes are watched; at commit the request session writes one ``change_record`` per changed entity
(the last state of the transaction, personal data excluded). Sequence numbers follow commit order: on
PostgreSQL the rows are written under a transaction-level advisory lock, so a reader that has seen
``seq = n`` can never later find a smaller one committing; SQLite serialises writers anyway.

Bulk statements bypass the ORM: code that writes with them calls :func:`track` itself.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, UOWTransaction

from libs.common.models import ChangeRecord, ChangeTracked, utcnow

_PENDING = "pending_changes"
# Two-key advisory lock: a constant and the current schema, so that services sharing one database
# (one schema each) never wait for each other.
_ADVISORY_LOCK_SQL = "SELECT pg_advisory_xact_lock(7351, hashtext(current_schema()))"


def json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    return value


def snapshot(entity: ChangeTracked) -> dict[str, Any]:
    mapper = inspect(type(entity))
    return {
        attr.key: json_value(getattr(entity, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in entity.__change_exclude__ and not isinstance(getattr(entity, attr.key), bytes)
    }


def track(session: Session | AsyncSession, entity: ChangeTracked, *, deleted: bool = False) -> None:
    sync_session = session.sync_session if isinstance(session, AsyncSession) else session
    pending: dict[tuple[str, Any], dict[str, Any]] = sync_session.info.setdefault(_PENDING, {})
    region_code, institution_id, other_institution_id = entity.change_scope()
    entity_id = entity.id  # type: ignore[attr-defined]
    pending[(entity.__change_entity__, entity_id)] = {
        "entity_type": entity.__change_entity__,
        "entity_id": entity_id,
        "op": "delete" if deleted else "upsert",
        "entity_version": getattr(entity, "version", None),
        "region_code": region_code,
        "institution_id": institution_id,
        "other_institution_id": other_institution_id,
        "payload": None if deleted else snapshot(entity),
    }


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _flush_context: UOWTransaction) -> None:
    for entity in (*session.new, *session.dirty):
        if isinstance(entity, ChangeTracked) and (entity in session.new or session.is_modified(entity)):
            track(session, entity)
    for entity in session.deleted:
        if isinstance(entity, ChangeTracked):
            track(session, entity, deleted=True)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, _previous: Any) -> None:
    session.info.pop(_PENDING, None)


async def write_pending_changes(session: AsyncSession) -> int:
    """Write the transaction's change records; call after the last flush, right before commit."""
    pending: dict[Any, dict[str, Any]] = session.sync_session.info.pop(_PENDING, {})
    if not pending:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(_ADVISORY_LOCK_SQL))
    now = utcnow()
    await session.execute(insert(ChangeRecord), [{**row, "changed_at": now} for row in pending.values()])
    return len(pending)
