"""The per-service change feed: every create, update and delete of a ``ChangeTracked`` entity.

ORM flushes are watched; at commit the request session writes one ``change_record`` per changed entity
(the last state of the transaction, personal data excluded). Sequence numbers follow commit order: on
PostgreSQL the rows are written under a transaction-level advisory lock, so a reader that has seen
``seq = n`` can never later find a smaller one committing; SQLite serialises writers anyway.

Bulk statements bypass the ORM: code that writes with them calls :func:`track` itself.

An entity that leaves a scope (its region or institution changes) must not stay behind in the mirrors
of that scope: when the scope an entity had before the transaction differs from the one it ends with, a
``delete`` tombstone carrying the old scope is written first, then the entry with the new one. A reader
of the old scope sees the entity go; a reader of both sees it go and come back, in that order. ORM
writes are covered by the attributes' history; bulk writers pass ``previous_scope`` to :func:`track`.

A side log that readers page through by a number — a service's event log (homecare's order events) —
needs the same guarantee: its rows are queued with :func:`queue_in_commit_order` and inserted here, under
the same lock, so their autoincrement key also follows commit order; :func:`on_committed` runs a
callback after a commit that wrote rows of a table (an in-process wake-up of its streams).

An entry may reach a second region (``ChangeTracked.change_other_region``, kept in ``other_region_code``):
an agreement between a hospital of one county and a home of another is read by both counties' officials.
The second region is part of the scope: when it changes, the tombstone carries the old one.

What an entry carries is declared, never "the row": each tracked model is registered with a
:class:`FeedEntity` (its payload model — an allow-list of fields its list endpoint shows, with a schema
version — the permission of that list endpoint, and the columns deliberately left out). The payload holds
the allow-listed attributes only; a tracked model without a declaration cannot be written (fail closed).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model
from sqlalchemy import Table, event, inspect, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from libs.common.bulk_insert import insert_rows
from libs.common.models import ChangeRecord, ChangeTracked, utcnow

_PENDING = "pending_changes"
_ORDERED = "pending_ordered_rows"
_WRITTEN = "ordered_rows_written"
_CHANGE_TABLE: Table = ChangeRecord.__table__  # type: ignore[assignment]
_BEFORE = "pending_changes_scope_before"
_UNKNOWN: Any = object()
#: (region code, institution id, other institution id[, other region code]); a 3-tuple from a bulk
#: writer's ``change_scope()`` is read as "the other region did not change"
Scope = tuple[Any, ...]
# Two-key advisory lock: a constant and the current schema, so that services sharing one database
# (one schema each) never wait for each other.
_ADVISORY_LOCK_SQL = "SELECT pg_advisory_xact_lock(7351, hashtext(current_schema()))"


_PLAIN_TYPES: frozenset[type] = frozenset({str, int, float, bool, type(None)})


def json_value(value: Any) -> Any:
    if type(value) in _PLAIN_TYPES:  # the usual case first (an enum member is not exactly a str)
        return value
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


class FeedPayload(BaseModel):
    """Base of every feed payload model: the allow-listed fields of one entity type."""

    model_config = ConfigDict(extra="ignore")


def feed_payload(
    name: str,
    shown_by: type[BaseModel],
    fields: Iterable[str],
    *,
    extra: Mapping[str, tuple[Any, Any]] | None = None,
) -> type[FeedPayload]:
    """A payload model named ``name`` made of ``fields`` of the list schema ``shown_by`` (same types and
    descriptions), plus ``extra`` fields (``name: (annotation, FieldInfo)``) that the list shows in another
    shape. Each field is read from the ORM attribute of the same name."""
    definitions: dict[str, Any] = {}
    for key in fields:
        info = shown_by.model_fields[key]
        definitions[key] = (info.annotation, info)
    definitions.update(extra or {})
    payload: type[FeedPayload] = create_model(name, __base__=FeedPayload, **definitions)
    return payload


@dataclass(frozen=True)
class FeedEntity:
    """What the change feed carries of one tracked model, and to whom.

    ``permission`` is the permission of the entity's list endpoint: only a reader holding it receives the
    entity's entries (tombstones included). ``shown_by`` is that list's item schema. ``excluded`` maps each
    column left out of the payload to the reason; a contract test checks that every column is in
    ``payload`` or in ``excluded``, so a new column is never carried (nor forgotten) by accident.
    ``shown_as`` says where the list shows a payload field that ``shown_by`` does not name. ``renamed``
    maps a payload field that is a public name's old spelling to the new one (``libs/common/renamed_fields``):
    it carries the new one's value.
    """

    model: type[ChangeTracked]
    payload: type[FeedPayload]
    permission: str
    shown_by: type[BaseModel]
    schema_version: int = 1
    excluded: Mapping[str, str] = field(default_factory=dict)
    shown_as: Mapping[str, str] = field(default_factory=dict)
    renamed: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.model.__change_feed__ = self

    @property
    def entity_type(self) -> str:
        return self.model.__change_entity__

    def project(self, entity: ChangeTracked) -> dict[str, Any]:
        """The allow-listed attributes of ``entity``, as JSON values."""
        return {
            key: json_value(getattr(entity, self.renamed.get(key, key))) for key in self.payload.model_fields
        }

    def project_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """:meth:`project` of a row given as column values (a column not given reads as ``None``, as an
        attribute of an ORM object never set does)."""
        renamed = self.renamed
        return {key: json_value(values.get(renamed.get(key, key))) for key in self.payload.model_fields}


def feed_entity_of(model: type[ChangeTracked]) -> FeedEntity:
    declared: FeedEntity | None = model.__dict__.get("__change_feed__")
    if declared is None:
        raise LookupError(
            f"{model.__name__} is change-tracked but declares no FeedEntity (payload allow-list)"
        )
    return declared


def snapshot(entity: ChangeTracked) -> dict[str, Any]:
    """The entity's feed payload: the allow-listed fields of its :class:`FeedEntity`."""
    return feed_entity_of(type(entity)).project(entity)


class _Committed:
    """An entity's attributes as they were before the pending flush (from the attributes' history)."""

    def __init__(self, entity: ChangeTracked) -> None:
        self._entity = entity
        self._state = inspect(entity)

    def __getattr__(self, name: str) -> Any:
        attribute = self._state.attrs.get(name)
        if attribute is not None and attribute.history.deleted:
            return attribute.history.deleted[0]
        return getattr(self._entity, name)


def full_scope(entity: ChangeTracked) -> Scope:
    """(region code, institution id, other institution id, other region code) of ``entity``."""
    return (*entity.change_scope(), entity.change_other_region())


def committed_scope(entity: ChangeTracked) -> Scope:
    """The scope of a persistent entity before its pending changes (call before the flush completes)."""
    model, committed = type(entity), _Committed(entity)
    return (*model.change_scope(committed), model.change_other_region(committed))  # type: ignore[arg-type]


class _Values:
    """A row's column values read as attributes — what a model's ``change_scope`` and
    ``change_other_region`` read — without building an ORM object (a column not given reads as ``None``)."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getattr__(self, name: str) -> Any:
        return self._values.get(name)


def scope_of_values(model: type[ChangeTracked], values: Mapping[str, Any]) -> Scope:
    """:func:`full_scope` of a row of ``model`` given as column values (for bulk writers: no ORM object).
    The model's ``change_scope`` and ``change_other_region`` must read plain attributes only."""
    row: Any = _Values(values)
    return (*model.change_scope(row), model.change_other_region(row))


def track(
    session: Session | AsyncSession,
    entity: ChangeTracked,
    *,
    deleted: bool = False,
    previous_scope: Scope | None = _UNKNOWN,
) -> None:
    """Queue ``entity``'s change-feed entry for the transaction's commit.

    ``previous_scope`` is the ``change_scope()`` the entity had before this transaction (``None`` for one
    created in it); bulk writers that update rows without the ORM pass it so that a scope change leaves a
    tombstone in the old scope. ORM writes need not: the flush listener knows it.
    """
    _queue(
        session,
        entity.__change_entity__,
        entity.id,  # type: ignore[attr-defined]
        full_scope(entity),
        version=getattr(entity, "version", None),
        payload=None if deleted else snapshot(entity),
        deleted=deleted,
        previous_scope=previous_scope,
    )


def track_values(
    session: Session | AsyncSession,
    model: type[ChangeTracked],
    values: Mapping[str, Any],
    *,
    previous_scope: Scope | None = _UNKNOWN,
) -> None:
    """:func:`track` (an upsert) of a row a bulk statement wrote, given as its column values — the same
    entry as ``track(session, model(**values), previous_scope=…)`` without building the ORM object."""
    entity = feed_entity_of(model)
    _queue(
        session,
        model.__change_entity__,
        values["id"],
        scope_of_values(model, values),
        version=values.get("version"),
        payload=entity.project_values(values),
        deleted=False,
        previous_scope=previous_scope,
    )


def _queue(
    session: Session | AsyncSession,
    entity_type: str,
    entity_id: Any,
    scope: Scope,
    *,
    version: int | None,
    payload: dict[str, Any] | None,
    deleted: bool,
    previous_scope: Scope | None,
) -> None:
    sync_session = session.sync_session if isinstance(session, AsyncSession) else session
    pending: dict[tuple[str, Any], dict[str, Any]] = sync_session.info.setdefault(_PENDING, {})
    region_code, institution_id, other_institution_id, other_region_code = scope
    if previous_scope is not _UNKNOWN:
        if previous_scope is not None and len(previous_scope) == 3:
            previous_scope = (*previous_scope, other_region_code)
        before: dict[tuple[str, Any], Scope | None] = sync_session.info.setdefault(_BEFORE, {})
        before.setdefault((entity_type, entity_id), previous_scope)
    pending[(entity_type, entity_id)] = {
        "entity_type": entity_type,
        "entity_id": entity_id,
        "op": "delete" if deleted else "upsert",
        "entity_version": version,
        "region_code": region_code,
        "other_region_code": other_region_code,
        "institution_id": institution_id,
        "other_institution_id": other_institution_id,
        "payload": payload,
    }


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _flush_context: UOWTransaction) -> None:
    for entity in session.new:
        if isinstance(entity, ChangeTracked):
            track(session, entity, previous_scope=None)
    for entity in session.dirty:
        if isinstance(entity, ChangeTracked) and session.is_modified(entity):
            track(session, entity, previous_scope=committed_scope(entity))
    for entity in session.deleted:
        if isinstance(entity, ChangeTracked):
            track(session, entity, deleted=True, previous_scope=committed_scope(entity))


_AT_SAVEPOINT = "pending_changes_at_savepoint"
_ENDED_SAVEPOINT = "pending_changes_of_ended_savepoint"


@event.listens_for(Session, "after_transaction_create")
def _remember_at_savepoint(session: Session, transaction: SessionTransaction) -> None:
    """A savepoint (``begin_nested``, e.g. :func:`libs.common.bulk.guarded` around one record) keeps the
    entries queued before it — the session flushed them just before — to restore if it is rolled back."""
    if transaction.nested:
        saved: dict[SessionTransaction, tuple[dict[Any, Any], dict[Any, Any], dict[Any, Any]]]
        saved = session.info.setdefault(_AT_SAVEPOINT, {})
        saved[transaction] = (
            dict(session.info.get(_PENDING, {})),
            dict(session.info.get(_BEFORE, {})),
            {table: list(rows) for table, rows in session.info.get(_ORDERED, {}).items()},
        )


@event.listens_for(Session, "after_transaction_end")
def _savepoint_ended(session: Session, transaction: SessionTransaction) -> None:
    # SQLAlchemy ends a transaction before it reports a rollback (after_soft_rollback, right after): the
    # ended savepoint's copy is kept for that moment only (a released one's is replaced at the next end)
    saved = session.info.get(_AT_SAVEPOINT)
    if transaction.nested and saved is not None and transaction in saved:
        session.info[_ENDED_SAVEPOINT] = (transaction, saved.pop(transaction))


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous: SessionTransaction) -> None:
    """A rolled-back savepoint forgets the entries queued inside it only (those of the records written
    before it stay); a rolled-back transaction forgets them all."""
    ended = session.info.pop(_ENDED_SAVEPOINT, None)
    if previous.nested and ended is not None and ended[0] is previous:
        pending, before, ordered = ended[1]
        for key, value in ((_PENDING, pending), (_BEFORE, before), (_ORDERED, ordered)):
            if value:
                session.info[key] = value
            else:
                session.info.pop(key, None)
        return
    for key in (_PENDING, _BEFORE, _AT_SAVEPOINT, _ORDERED, _WRITTEN):
        session.info.pop(key, None)


def _rows(
    pending: dict[tuple[str, Any], dict[str, Any]], before: dict[Any, Scope | None]
) -> list[dict[str, Any]]:
    """The change rows in feed order: a tombstone in its old scope before an entity that left it."""
    rows: list[dict[str, Any]] = []
    for key, row in pending.items():
        old = before.get(key)
        if old is not None and tuple(old) != (
            row["region_code"],
            row["institution_id"],
            row["other_institution_id"],
            row["other_region_code"],
        ):
            region_code, institution_id, other_institution_id, other_region_code = old
            rows.append(
                {
                    **row,
                    "op": "delete",
                    "region_code": region_code,
                    "other_region_code": other_region_code,
                    "institution_id": institution_id,
                    "other_institution_id": other_institution_id,
                    "payload": None,
                }
            )
        rows.append(row)
    return rows


CommitHook = Callable[[AsyncSession, list[dict[str, Any]]], Awaitable[None]]
_COMMIT_HOOKS: dict[str, list[CommitHook]] = {}


def on_commit(entity_type: str, hook: CommitHook) -> None:
    """Run ``hook(session, entries)`` with a transaction's feed entries of ``entity_type`` before it commits.

    Every write of a tracked entity passes through the feed (ORM flushes, bulk statements, jobs), so this
    is the one place where data derived from an entity (e.g. a search index table) can be kept in step
    with it whichever path wrote it. Each entry has ``entity_id``, ``op``, ``payload`` and the scope
    columns (``region_code``, …); the entries are the feed's rows, so an entity that left its scope
    comes first as a tombstone (``op`` delete, no payload) in its old scope, then as written.
    """
    _COMMIT_HOOKS.setdefault(entity_type, []).append(hook)


def queue_in_commit_order(session: AsyncSession, table: Table, row: Mapping[str, Any]) -> None:
    """Insert ``row`` into ``table`` when the transaction's change records are written, under the feed's
    lock: the table's autoincrement key then grows in commit order, as ``change_record.seq`` does (a
    reader that has seen key ``n`` never later finds a smaller one committing). Rolled back with the
    transaction (or the savepoint) it was queued in."""
    ordered: dict[Table, list[dict[str, Any]]] = session.sync_session.info.setdefault(_ORDERED, {})
    ordered.setdefault(table, []).append(dict(row))


CommittedCallback = Callable[[], None]
_COMMITTED_CALLBACKS: dict[str, list[CommittedCallback]] = {}


def on_committed(table_name: str, callback: CommittedCallback) -> None:
    """Call ``callback()`` after each commit that wrote rows queued for ``table_name`` (in this process)."""
    _COMMITTED_CALLBACKS.setdefault(table_name, []).append(callback)


@event.listens_for(Session, "after_commit")
def _announce(session: Session) -> None:
    for name in session.info.pop(_WRITTEN, ()):
        for callback in _COMMITTED_CALLBACKS.get(name, ()):
            callback()


async def write_pending_changes(session: AsyncSession) -> int:
    """Write the transaction's change records (and the rows queued by :func:`queue_in_commit_order`);
    call after the last flush, right before commit."""
    pending: dict[tuple[str, Any], dict[str, Any]] = session.sync_session.info.pop(_PENDING, {})
    before: dict[Any, Scope | None] = session.sync_session.info.pop(_BEFORE, {})
    ordered: dict[Table, list[dict[str, Any]]] = session.sync_session.info.pop(_ORDERED, {})
    if not pending and not ordered:
        return 0
    rows = _rows(pending, before)
    for entity_type, hooks in _COMMIT_HOOKS.items():
        entries = [row for row in rows if row["entity_type"] == entity_type]
        if entries:
            for hook in hooks:
                await hook(session, entries)
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(_ADVISORY_LOCK_SQL))
    now = utcnow()
    # one statement whatever the count (an execution per row costs the server a plan and a run each)
    if rows:
        await insert_rows(session, _CHANGE_TABLE, [{**row, "changed_at": now} for row in rows])
    for table, table_rows in ordered.items():
        await insert_rows(session, table, table_rows)
    if ordered:
        session.sync_session.info[_WRITTEN] = {table.name for table in ordered}
    return len(rows)
