"""Many rows into one table in one statement: what bulk writers, the audit trail and the change feed use
for rows they hold as plain values.

``session.execute(insert(table), rows)`` runs one execution per row: SQLAlchemy builds and processes
each row's parameters, asyncpg sends each row as its own Bind/Execute and PostgreSQL plans, runs and
checks each one apart — about a millisecond a row on the shared machine for a 20,000-row batch of name
grams. :func:`insert_rows` sends the same rows, processed by the same column types (their bind
processing, the Python-side defaults of the columns left out), as one statement: on PostgreSQL
``INSERT … SELECT … FROM unnest($1::type[], …) WITH ORDINALITY … ORDER BY`` (one array per column, the
rows in the order given, so a serial key numbers them as one execution per row would); on SQLite one
driver ``executemany`` of plain tuples.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ARRAY, Column, Connection, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

#: rows in one statement at most (one array per column on PostgreSQL, one executemany on SQLite): a
#: batch of 1,000 institutions makes some 20,000–40,000 name grams
CHUNK_ROWS = 100_000


def _default_for(column: Column[Any]) -> Callable[[], Any] | None:
    """What ``insert(table)`` puts in ``column`` when a row leaves it out (its Python-side default), or
    None when the database fills it (server default, autoincrement) or nothing does (NULL)."""
    default = column.default
    if default is None:
        return None
    if default.is_scalar:
        value = default.arg  # type: ignore[attr-defined]
        return lambda: value
    if default.is_callable:
        function = default.arg  # type: ignore[attr-defined]  # SQLAlchemy's wrapper takes the context
        return lambda: function(None)
    raise NotImplementedError(f"insert_rows: the default of {column} is SQL; insert it with insert(table)")


def _columns_and_values(
    table: Table, rows: Sequence[Mapping[str, Any]], dialect: Dialect
) -> tuple[list[Column[Any]], list[list[Any]]]:
    """The columns set and, per column, its values as the driver gets them from ``insert(table)``."""
    given = set(rows[0])
    unknown = given - set(table.columns.keys())
    if unknown:
        raise KeyError(f"insert_rows: {table.name} has no column {sorted(unknown)}")
    columns: list[Column[Any]] = []
    values: list[list[Any]] = []
    for column in table.columns:
        process = column.type._cached_bind_processor(dialect)
        if column.key in given:
            key = column.key
            raw = [row[key] for row in rows]
        else:
            default = _default_for(column)
            if default is None:
                continue
            raw = [default() for _ in rows]
        columns.append(column)
        values.append(raw if process is None else [process(value) for value in raw])
    return columns, values


def insert_rows_sync(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """:func:`insert_rows` on a (sync) connection, e.g. in a session event; returns the count."""
    if not rows:
        return 0
    dialect = connection.dialect
    preparer = dialect.identifier_preparer
    name = preparer.format_table(table)
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        columns, values = _columns_and_values(table, chunk, dialect)
        names = ", ".join(preparer.format_column(column) for column in columns)
        if dialect.name == "postgresql":
            nested = [column.name for column in columns if isinstance(column.type, ARRAY)]
            if nested:  # unnest would flatten an array column's values into the rows
                raise NotImplementedError(
                    f"insert_rows: array columns {nested}; insert them with insert(table)"
                )
            arrays = ", ".join(
                f"${n}::{column.type.compile(dialect=dialect)}[]" for n, column in enumerate(columns, 1)
            )
            aliases = [f"c{n}" for n in range(len(columns))]
            connection.exec_driver_sql(
                f"INSERT INTO {name} ({names}) SELECT {', '.join(aliases)} "
                f"FROM unnest({arrays}) WITH ORDINALITY AS u({', '.join(aliases)}, n) ORDER BY n",
                tuple(values),
            )
        else:
            marks = ", ".join("?" for _ in columns)
            connection.exec_driver_sql(
                f"INSERT INTO {name} ({names}) VALUES ({marks})", list(zip(*values, strict=True))
            )
    return len(rows)


async def insert_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert ``rows`` (plain values keyed by column, every row with the same keys) into ``table`` in the
    session's transaction, in their order, as ``session.execute(insert(table), rows)`` would — in one
    statement (see the module). Returns the count."""
    if not rows:
        return 0

    def run(sync_session: Session) -> int:
        return insert_rows_sync(sync_session.connection(), table, rows)

    return await session.run_sync(run)
