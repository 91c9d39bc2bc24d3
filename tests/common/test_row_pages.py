"""libs/common/row_pages.py: a row shape is checked against its model, and a page's bytes are the model's."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import pytest
from pydantic import BaseModel, Field, TypeAdapter, computed_field
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
    literal_column,
)

from libs.common.pagination import Page
from libs.common.row_pages import RowShape, page_json, page_response, serialised_keys


class Colour(StrEnum):
    red = "red"
    blue = "blue"


LABELS = {Colour.red: "红", Colour.blue: "蓝"}


class Thing(BaseModel):
    id: uuid.UUID
    name: str
    colour: Colour
    size: float | None
    since: date | None
    at: datetime
    secret: str | None = Field(default=None, exclude=True)
    tags: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def colour_label(self) -> str:
        return LABELS[self.colour]


TABLE = Table(
    "thing",
    MetaData(),
    Column("id", Uuid),
    Column("name", String),
    Column("colour", String),
    Column("size", Float),
    Column("since", Date),
    Column("at", DateTime),
    Column("blob", LargeBinary),
    Column("count", Integer),
)
SHAPE_COLUMNS = [
    TABLE.c.id,
    TABLE.c.name,
    TABLE.c.colour,
    TABLE.c.size,
    TABLE.c.since,
    TABLE.c.at,
    TABLE.c.blob,
]


def shape() -> RowShape[str]:
    return RowShape(
        Thing,
        SHAPE_COLUMNS,
        {
            "tags": lambda item, context: [context, item["blob"].decode()] if item["blob"] else [],
            "colour_label": lambda item, _: LABELS[item["colour"]],
        },
    )


def test_serialised_keys_are_fields_then_computed_without_excluded() -> None:
    assert serialised_keys(Thing) == ("id", "name", "colour", "size", "since", "at", "tags", "colour_label")


def test_items_and_page_bytes_equal_the_models_serialisation() -> None:
    rows: list[tuple[Any, ...]] = [
        (
            uuid.UUID(int=1),
            "一号",
            "red",
            1.5,
            date(2020, 1, 2),
            datetime(2026, 1, 2, 3, 4, 5, 678, UTC),
            b"x",
        ),
        (uuid.UUID(int=2), 'quote " and \\', "blue", None, None, datetime(2026, 1, 2, tzinfo=UTC), None),
    ]
    items = shape().items(rows, "ctx")
    assert [tuple(item) for item in items] == [serialised_keys(Thing)] * 2  # blob dropped, order kept
    models = [Thing.model_validate({**item, "secret": "never"}) for item in items]
    expected = TypeAdapter(Page[Thing]).dump_json(Page[Thing](items=models, next_cursor="c", limit=2))
    assert page_json(items, next_cursor="c", limit=2) == expected
    response = page_response(items, next_cursor="c", limit=2)
    assert response.body == expected
    assert response.media_type == "application/json"


@pytest.mark.parametrize(
    ("columns", "derived", "complaint"),
    [
        (SHAPE_COLUMNS[:-2], {"tags": lambda i, c: [], "colour_label": lambda i, c: ""}, "missing ['at']"),
        (SHAPE_COLUMNS, {"tags": lambda i, c: []}, "missing ['colour_label']"),
        (
            SHAPE_COLUMNS,
            {"tags": lambda i, c: [], "colour_label": lambda i, c: "", "shade": lambda i, c: ""},
            "not in the model ['shade']",
        ),
        (
            SHAPE_COLUMNS,
            {"tags": lambda i, c: [], "colour_label": lambda i, c: "", "name": lambda i, c: ""},
            "both column and derived ['name']",
        ),
        ([*SHAPE_COLUMNS, TABLE.c.name], {}, "selected twice"),
    ],
)
def test_a_shape_that_does_not_match_its_model_is_refused(
    columns: list[Any], derived: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint.replace("[", r"\[").replace("]", r"\]")):
        RowShape(Thing, columns, derived)


def test_a_column_without_a_key_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a key"):
        RowShape(Thing, [TABLE.c.count + 1], {})


def test_a_shape_over_a_whole_table_selects_the_table_and_drops_its_other_columns() -> None:
    whole: RowShape[str] = RowShape(
        Thing,
        TABLE,
        {
            "tags": lambda item, _: [str(item["count"])],
            "colour_label": lambda item, _: LABELS[item["colour"]],
        },
    )
    assert [column.key for column in whole.select().selected_columns] == list(TABLE.c.keys())
    row = (uuid.UUID(int=3), "三", "blue", 2.0, None, datetime(2026, 5, 6, tzinfo=UTC), b"b", 7)
    item = whole.item(row, "ctx")
    assert tuple(item) == serialised_keys(Thing)  # blob and count read, not emitted
    assert item["tags"] == ["7"]
    assert item["colour_label"] == "蓝"
    assert shape().select().selected_columns.keys() == [column.key for column in SHAPE_COLUMNS]


def test_trailing_columns_are_selected_after_the_shapes_and_not_read() -> None:
    # e.g. the response cache's feed head beside a page's rows (libs/common/response_cache.HEAD_COLUMN)
    head = literal_column("41", Integer).label("head")
    assert shape().select(head).selected_columns.keys() == [*(c.key for c in SHAPE_COLUMNS), "head"]
    row = (uuid.UUID(int=4), "四", "red", None, None, datetime(2026, 1, 1, tzinfo=UTC), None)
    assert shape().items([(*row, 41)], "ctx") == shape().items([row], "ctx")


def test_a_row_shorter_than_the_shape_is_refused() -> None:
    row = (uuid.UUID(int=5), "五", "red", None, None, datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="a row of 6 columns for a shape of 7"):
        shape().items([row], "ctx")
