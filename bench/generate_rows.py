"""The generator's straight-SQL plumbing: rows cloned from the demo's, written with ``COPY``, with their
change-feed entries.

A generated row is a copy of a demo row (a *template*) with its identity and the few fields that must
differ replaced, so every kind, category, state and combination of fields it holds is one the services
wrote themselves. What the ORM would add around a write is added here the same way:

- each tracked entity gets its ``change_record`` entry, built by the entity's own feed declaration
  (``FeedEntity.project`` — the allow-list — and the model's ``change_scope`` / ``change_other_region``),
  written under the same transaction-level advisory lock the services take, so that ``seq`` follows commit
  order for readers of the feed;
- JSON columns are read back decoded and written encoded.

Identifiers come from a ``random.Random`` seeded by the caller: the same seed over the same demo gives the
same rows.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import asyncpg

from libs.common.changes import feed_entity_of
from libs.common.models import ChangeTracked

Row = dict[str, Any]

_CHANGE_COLUMNS = (
    "entity_type",
    "entity_id",
    "op",
    "entity_version",
    "region_code",
    "other_region_code",
    "institution_id",
    "other_institution_id",
    "payload",
    "changed_at",
)


@dataclass(frozen=True)
class Table:
    """A table of a service's schema as the database has it (migrations, not models, are the truth)."""

    schema: str
    name: str
    columns: tuple[str, ...]  # every column but the ones a sequence fills
    json_columns: frozenset[str]
    timestamp_columns: frozenset[str]


async def table(conn: asyncpg.Connection, schema: str, name: str) -> Table:
    described = await conn.fetch(
        "SELECT column_name, data_type, column_default FROM information_schema.columns "
        "WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
        schema,
        name,
    )
    if not described:
        raise LookupError(f"no table {schema}.{name}: has deploy/local/run.py migrated this database?")
    return Table(
        schema=schema,
        name=name,
        columns=tuple(
            r["column_name"] for r in described if not str(r["column_default"] or "").startswith("nextval(")
        ),
        json_columns=frozenset(r["column_name"] for r in described if r["data_type"] in ("json", "jsonb")),
        timestamp_columns=frozenset(
            r["column_name"] for r in described if r["data_type"].startswith("timestamp")
        ),
    )


async def fetch(conn: asyncpg.Connection, source: Table, where: str = "", *args: Any) -> list[Row]:
    """Rows of ``source`` (JSON decoded), in a stable order (by ``id`` when it has one)."""
    columns = ", ".join(f'"{c}"' for c in source.columns)
    order = ' ORDER BY "id"' if "id" in source.columns else ""
    records = await conn.fetch(
        f'SELECT {columns} FROM "{source.schema}"."{source.name}" {where}{order}', *args
    )
    rows = []
    for record in records:
        row = dict(record)
        for column in source.json_columns:
            if row[column] is not None:
                row[column] = json.loads(row[column])
        rows.append(row)
    return rows


def encode(target: Table, rows: list[Row]) -> list[list[Any]]:
    """``rows`` as ``COPY`` records of ``target`` (JSON columns encoded)."""
    json_at = [i for i, c in enumerate(target.columns) if c in target.json_columns]
    records = []
    for row in rows:
        values = [row[c] for c in target.columns]
        for i in json_at:
            if values[i] is not None:
                values[i] = json.dumps(values[i], ensure_ascii=False)
        records.append(values)
    return records


async def copy(conn: asyncpg.Connection, target: Table, rows: list[Row] | list[list[Any]]) -> int:
    """``COPY`` rows (dicts) or records already encoded (:func:`encode`) into ``target``."""
    if not rows:
        return 0
    records = encode(target, rows) if isinstance(rows[0], dict) else rows
    await conn.copy_records_to_table(
        target.name, schema_name=target.schema, columns=list(target.columns), records=records
    )
    return len(rows)


async def clone_by_map(
    conn: asyncpg.Connection,
    child: Table,
    *,
    parent_column: str,
    mapping: str,
    templates: str,
    renewed: tuple[str, ...] = (),
) -> int:
    """Copy, inside the database, the rows of ``child`` held in ``templates`` (a temporary copy of the
    template parents' rows) whose ``parent_column`` is a template parent of the temporary table ``mapping``
    (``template_id``, ``new_id``, ``shift``) to its new parent.

    The copy's ``id`` and each ``renewed`` unique column are derived from the new parent and the template
    row (``md5``), so they are new, unique and the same on every run; its timestamps move by ``shift``.
    """
    values = []
    for column in child.columns:
        if column == "id" or column in renewed:
            values.append(
                f'CASE WHEN t."{column}" IS NULL THEN NULL ELSE '
                f"md5('{column}:' || m.new_id::text || t.id::text)::uuid END"
            )
        elif column == parent_column:
            values.append("m.new_id")
        elif column in child.timestamp_columns:
            values.append(f't."{column}" - m.shift')
        else:
            values.append(f't."{column}"')
    columns = ", ".join(f'"{c}"' for c in child.columns)
    status = await conn.execute(
        f'INSERT INTO "{child.schema}"."{child.name}" ({columns}) SELECT {", ".join(values)} '
        f'FROM {templates} t JOIN {mapping} m ON m.template_id = t."{parent_column}"'
    )
    return int(status.rsplit(" ", 1)[1])


class Ids:
    """Deterministic version-4 UUIDs (and other draws) from one seeded generator."""

    def __init__(self, seed: int, stream: str) -> None:
        self.random = random.Random(f"{seed}:{stream}")

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.random.getrandbits(128), version=4)


def change_entry(model: type[ChangeTracked], row: Row, changed_at: datetime) -> Row:
    """The ``upsert`` entry the ORM's flush listener would queue for ``row`` just inserted."""
    entity = SimpleNamespace(**row)
    region_code, institution_id, other_institution_id = model.change_scope(entity)  # type: ignore[arg-type]
    return {
        "entity_type": model.__change_entity__,
        "entity_id": row["id"],
        "op": "upsert",
        "entity_version": row.get("version"),
        "region_code": region_code,
        "other_region_code": model.change_other_region(entity),  # type: ignore[arg-type]
        "institution_id": institution_id,
        "other_institution_id": other_institution_id,
        "payload": feed_entity_of(model).project(entity),  # type: ignore[arg-type]
        "changed_at": changed_at,
    }


def encode_changes(entries: list[Row]) -> list[tuple[Any, ...]]:
    return [
        tuple(json.dumps(e[c], ensure_ascii=False) if c == "payload" else e[c] for c in _CHANGE_COLUMNS)
        for e in entries
    ]


async def write_changes(
    conn: asyncpg.Connection, schema: str, entries: list[Row] | list[tuple[Any, ...]]
) -> int:
    """Append ``entries`` (or their :func:`encode_changes`) to the schema's feed, under the lock the services
    take for theirs.

    Call inside the transaction that wrote the rows: the lock is held to its commit, as
    ``libs.common.changes.write_pending_changes`` holds it.
    """
    if not entries:
        return 0
    records = encode_changes(entries) if isinstance(entries[0], dict) else entries
    await conn.execute("SELECT pg_advisory_xact_lock(7351, hashtext($1))", schema)
    await conn.copy_records_to_table(
        "change_record", schema_name=schema, columns=list(_CHANGE_COLUMNS), records=records
    )
    return len(entries)
