"""A list page served straight from Core rows (issue 16): no ORM objects, no pydantic model per row.

A list endpoint documents ``Page[Model]`` (``response_model``, so OpenAPI and the SPA's types stay as
they are) and answers with the bytes this module makes: the rows are selected as plain columns, each
becomes a dict with the model's serialised keys in the model's order (:class:`RowShape`), and the whole
page is written by pydantic-core in one call (:func:`page_response`) — the same encoder FastAPI uses for
a ``response_model``, so the bytes are those the model path would send (tests compare them).

Per 50-row page this skips, measured on the registry's institution list: ORM loading (identity map, 60
attributes set per object), ``Model.model_validate`` of each object (with its computed fields and wrap
serializers run in Python), FastAPI's re-validation of the returned page, and the second serialisation.

A :class:`RowShape` is checked against its model when it is built: every serialised key of the model
(fields not excluded, then computed fields) must come from a column or a derivation, and nothing else
may be emitted — a field added to the model without its column fails at import, not in a response.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import ColumnElement, FromClause, Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from starlette.responses import Response

from libs.common.pagination import PageParams, after_cursor, encode_cursor

Context = TypeVar("Context")
Derivation = Callable[[dict[str, Any], Context], Any]

#: pydantic-core's serialiser for any value (types inferred per value: UUID, date, datetime, enum …),
#: the same encoder and the same output format as a model's ``model_dump_json``
_ANY: TypeAdapter[Any] = TypeAdapter(Any)


def serialised_keys(model: type[BaseModel]) -> tuple[str, ...]:
    """The keys of ``model``'s JSON in their order: its fields (those not excluded), then computed ones."""
    fields = [name for name, info in model.model_fields.items() if not info.exclude]
    return (*fields, *model.model_computed_fields)


class RowShape(Generic[Context]):
    """How one Core row becomes one item of ``model``'s JSON.

    ``columns`` are selected (each labelled with its key), or a whole table; a column whose key is a
    serialised key of the model is emitted as read, the others (``internal``, e.g. an encrypted blob) are
    only there for the ``derived`` keys and are dropped. Each derivation gets the item built so far (every
    column already in it) and the request's context (a cipher, a principal: whatever the endpoint passes).
    """

    def __init__(
        self,
        model: type[BaseModel],
        columns: FromClause | Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
        derived: Mapping[str, Derivation[Context]],
    ) -> None:
        self.model = model
        self._table = columns if isinstance(columns, FromClause) else None
        self.columns: tuple[ColumnElement[Any], ...] = tuple(
            column.expression if isinstance(column, InstrumentedAttribute) else column
            for column in (columns.c if isinstance(columns, FromClause) else columns)
        )
        keys = serialised_keys(model)
        column_keys = [_key(column) for column in self.columns]
        if len(set(column_keys)) != len(column_keys):
            raise ValueError(f"{model.__name__}: a column key is selected twice: {column_keys}")
        emitted = {key for key in column_keys if key in keys} | set(derived)
        missing = [key for key in keys if key not in emitted]
        unknown = [key for key in derived if key not in keys]
        twice = [key for key in derived if key in column_keys]
        if missing or unknown or twice:
            raise ValueError(
                f"{model.__name__}: row shape does not match the model "
                f"(missing {missing}, not in the model {unknown}, both column and derived {twice})"
            )
        self.keys = keys
        self._column_keys = tuple(column_keys)
        self._internal = tuple(key for key in column_keys if key not in keys)
        self._derived = tuple(derived.items())
        # every key present from the start, in the model's order: filling a key keeps its place
        self._template: dict[str, Any] = dict.fromkeys(keys)

    def select(self, *trailing: ColumnElement[Any]) -> Select[Any]:
        """The select of the shape's columns (of its table: a statement whose cache key SQLAlchemy
        computes from the table alone, instead of walking ~60 columns on every request), then the
        ``trailing`` ones (e.g. :data:`libs.common.response_cache.HEAD_COLUMN`), which items ignore."""
        stmt = select(self._table) if self._table is not None else select(*self.columns)
        return stmt.add_columns(*trailing) if trailing else stmt

    def item(self, row: Sequence[Any], context: Context) -> dict[str, Any]:
        """One item; columns after the shape's own (a :meth:`select`'s ``trailing``) are not read."""
        item = self._template.copy()
        item.update(zip(self._column_keys, row, strict=False))
        for key, derive in self._derived:
            item[key] = derive(item, context)
        for key in self._internal:
            del item[key]
        return item

    def items(self, rows: Sequence[Sequence[Any]], context: Context) -> list[dict[str, Any]]:
        if rows and len(rows[0]) < len(self._column_keys):
            shape = len(self._column_keys)
            raise ValueError(f"{self.model.__name__}: a row of {len(rows[0])} columns for a shape of {shape}")
        return [self.item(row, context) for row in rows]


def _key(column: ColumnElement[Any]) -> str:
    key = getattr(column, "key", None)
    if not isinstance(key, str):
        raise ValueError(f"a row shape's column needs a key (label it): {column!r}")
    return key


async def paginate_rows(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    order_by: Sequence[InstrumentedAttribute[Any]],
    params: PageParams,
    descending: bool = False,
) -> tuple[Sequence[Row[Any]], str | None]:
    """One page of ``stmt`` (a select of columns, every ``order_by`` column among them under its own
    key) as Core rows, and the cursor of the next page — the cursor :func:`pagination.paginate` makes.

    Run on the session's connection (its transaction), not through ``session.execute``: a select of
    columns through the ORM session still goes through the ORM's compile and loading steps
    (``orm_pre_session_exec``, ``loading.instances`` and its ``chunks``) to produce the same rows. The
    platform's sessions do not autoflush, so nothing pending is skipped that the ORM path would have
    flushed."""
    if params.cursor:
        stmt = stmt.where(after_cursor(order_by, params.cursor, descending))
    ordering = [c.desc() if descending else c.asc() for c in order_by]
    connection = await session.connection()
    rows = (await connection.execute(stmt.order_by(*ordering).limit(params.limit + 1))).all()
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        last = rows[-1]._mapping
        next_cursor = encode_cursor([last[c.key] for c in order_by])
    return rows, next_cursor


def page_json(items: Sequence[Mapping[str, Any]], *, next_cursor: str | None, limit: int) -> bytes:
    """The JSON of ``Page[...]`` for these items (keys in the order ``Page`` declares)."""
    return _ANY.dump_json({"items": items, "next_cursor": next_cursor, "limit": limit})


def json_bytes(value: Any) -> bytes:
    """Any value made of row items (a list of them, a dict holding them) as FastAPI's JSON bytes."""
    return _ANY.dump_json(value)


def json_response(value: Any) -> Response:
    """Any value made of row items (a list of them, a dict holding them) as FastAPI's JSON response."""
    return Response(json_bytes(value), media_type="application/json")


def page_response(items: Sequence[Mapping[str, Any]], *, next_cursor: str | None, limit: int) -> Response:
    """The response of a list endpoint: ``Page[...]``'s bytes, as FastAPI's JSON response sends them."""
    return Response(page_json(items, next_cursor=next_cursor, limit=limit), media_type="application/json")
