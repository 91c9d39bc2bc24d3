"""Opaque cursor (keyset) pagination with a stable sort.

A list endpoint orders by a few columns ending in a unique one (usually ``id``) and hands the values of
the last row back as an opaque cursor; the next page continues strictly after them. No OFFSET scans.
"""

from __future__ import annotations

import base64
import json
import math
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Boolean, Date, DateTime, Enum, Float, Integer, Numeric, Select, String, Uuid, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from libs.common.errors import Unprocessable
from libs.common.text import is_forbidden_character

T = TypeVar("T")
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="下一页游标；为空表示没有更多")
    limit: int


class PageParams(BaseModel):
    limit: int
    cursor: str | None


class PageQuery(BaseModel):
    """The page parameters as a query model, read in one pass (libs/common/query_models.py)."""

    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="每页条数 (≤200)")] = 50
    cursor: Annotated[str | None, Field(max_length=500, description="上一页返回的 next_cursor")] = None


async def page_params(query: Annotated[PageQuery, Query()]) -> PageParams:
    return PageParams(limit=query.limit, cursor=query.cursor)


PageDep = Annotated[PageParams, Depends(page_params)]


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_plain(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class _BadCursor(ValueError):
    pass


def _typed(column: InstrumentedAttribute[Any], value: Any) -> Any:
    """``value`` (from the cursor's JSON) as the Python value of ``column``, or :class:`_BadCursor`.

    Every value is checked against the column's type before it reaches SQL, so that a forged cursor
    answers ``invalid_cursor`` instead of a database error (a list bound to a text column, a number too
    large for BIGINT, a NUL byte, a naive timestamp for a UTC column).
    """
    column_type = column.property.columns[0].type
    if value is None:  # "a > NULL" is no SQL; a page never ends on a row whose sort key is NULL
        raise _BadCursor("null")
    if isinstance(column_type, Uuid):
        if not isinstance(value, str):
            raise _BadCursor("uuid")
        return uuid.UUID(value)
    if isinstance(column_type, DateTime) or column_type.__class__.__name__ == "UTCDateTime":
        if not isinstance(value, str):
            raise _BadCursor("datetime")
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise _BadCursor("naive datetime")
        return moment.astimezone(UTC)
    if isinstance(column_type, Date):
        if not isinstance(value, str):
            raise _BadCursor("date")
        return date.fromisoformat(value)
    if isinstance(column_type, Boolean):
        if not isinstance(value, bool):
            raise _BadCursor("bool")
        return value
    if isinstance(column_type, Integer):
        if isinstance(value, bool) or not isinstance(value, int) or not INT64_MIN <= value <= INT64_MAX:
            raise _BadCursor("integer")
        return value
    if isinstance(column_type, Numeric | Float):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _BadCursor("number")
        return value
    if isinstance(column_type, Enum) and value not in column_type.enums:
        raise _BadCursor("enum")
    if isinstance(column_type, String):
        if not isinstance(value, str) or any(is_forbidden_character(c) for c in value):
            raise _BadCursor("text")
        return value
    raise _BadCursor(f"unsupported column type {column_type!r}")


def decode_cursor(cursor: str, columns: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    """The typed values of an opaque cursor made by :func:`encode_cursor` for these ``columns``.

    Anything else — not base64, not JSON, the wrong number or type of values — is a 422
    ``invalid_cursor``, never an error of the database.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(values, list) or len(values) != len(columns):
            raise _BadCursor("cursor shape")
        return [_typed(column, value) for column, value in zip(columns, values, strict=True)]
    except (ValueError, TypeError, UnicodeError, OverflowError, RecursionError) as exc:
        raise Unprocessable("分页游标无效", code="invalid_cursor") from exc


def _after(columns: Sequence[InstrumentedAttribute[Any]], values: Sequence[Any], descending: bool) -> Any:
    # (a, b, c) > (x, y, z) spelled out, so it works on every backend and uses the index.
    clauses = []
    for i, column in enumerate(columns):
        equal = [columns[j] == values[j] for j in range(i)]
        step = column < values[i] if descending else column > values[i]
        clauses.append(and_(*equal, step))
    return or_(*clauses)


def after_cursor(
    order_by: Sequence[InstrumentedAttribute[Any]], cursor: str, descending: bool = False
) -> Any:
    """The condition "strictly after the cursor's row" for a page ordered by ``order_by`` (422
    ``invalid_cursor`` for anything :func:`encode_cursor` did not make)."""
    return _after(order_by, decode_cursor(cursor, order_by), descending)


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    order_by: Sequence[InstrumentedAttribute[Any]],
    params: PageParams,
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """Rows of one page of ``stmt`` (a select of one entity) and the cursor of the next page."""
    if params.cursor:
        stmt = stmt.where(after_cursor(order_by, params.cursor, descending))
    ordering = [c.desc() if descending else c.asc() for c in order_by]
    rows = list((await session.scalars(stmt.order_by(*ordering).limit(params.limit + 1))).all())
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, c.key) for c in order_by])
    return rows, next_cursor
