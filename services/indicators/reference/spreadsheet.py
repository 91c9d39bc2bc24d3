"""The reference tables as XLSX files with Chinese headers: reading an upload, writing an export.

Each dataset has one sheet (``常住人口`` / ``指标目标``) whose first row holds the headers; columns are
found by header, in any order, and columns the table does not know are ignored (such as the names an
export adds beside the codes). An export imports back unchanged.

Reading yields one :class:`SheetRow` per non-blank data row with its line number (the header is line 1)
and the errors of the cells that do not hold what their column holds. The rules that involve more than
a cell (a known region, no duplicate, 65+ not above the residents) are the service's
(:mod:`services.indicators.reference.loading`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from libs.common.export_cells import safe_cell, unquote_cell

XLSX_MEDIA_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RATE_FORMAT: Final = "0.00%"
# every number read is below this and kept to 6 decimal places (the target column's precision)
MAX_NUMBER: Final = 10**12
DECIMAL_STEP: Final = Decimal("0.000001")


class SheetError(ValueError):
    """The file as a whole cannot be read: not an XLSX file, no sheet of the dataset, missing headers."""

    def __init__(self, message: str, *, code: str, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.extra = dict(extra) if extra else None


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    field: str | None  # None: written by the export for reading convenience, ignored on import
    kind: str = "text"  # text | int | decimal | date | bool
    required: bool = True
    max_length: int | None = None


@dataclass(frozen=True, slots=True)
class CellProblem:
    """A cell (or a row's rule) that is wrong: its column's header and field, a stable code, a message."""

    column: str
    field: str
    code: str
    message: str


@dataclass(slots=True)
class SheetRow:
    line: int
    values: dict[str, Any]
    problems: list[CellProblem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Layout:
    """A dataset's sheet: its name and its columns."""

    sheet: str
    columns: tuple[Column, ...]

    @property
    def required_headers(self) -> list[str]:
        return [c.header for c in self.columns if c.field is not None]

    def column(self, field_name: str) -> Column:
        return next(c for c in self.columns if c.field == field_name)


POPULATION: Final = Layout(
    "常住人口",
    (
        Column("区划代码", "region_code", max_length=6),
        Column("区划名称", None),
        Column("年份", "year", "int"),
        Column("常住人口", "residents", "int"),
        Column("65岁及以上人口", "aged_65_plus", "int"),
        Column("来源", "source", max_length=200),
    ),
)

TARGETS: Final = Layout(
    "指标目标",
    (
        Column("指标代码", "indicator", max_length=60),
        Column("指标名称", None),
        Column("区域", "region_code", max_length=6),
        Column("区域名称", None),
        Column("逐县评价", "each_county", "bool", required=False),
        Column("比较", "comparison", max_length=10),
        Column("目标值", "value", "decimal"),
        Column("截止日期", "due_date", "date"),
        Column("来源", "source", max_length=200),
    ),
)

TRUE_WORDS: Final = frozenset({"是", "y", "yes", "true", "1", "√"})
FALSE_WORDS: Final = frozenset({"否", "n", "no", "false", "0", "×"})
_PERCENT: Final = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*[%％]\s*$")


class _CellError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _decimal(value: Any, header: str) -> Decimal:
    """A number cell as an exact Decimal; ``85%`` (text) is 0.85 — a percentage cell is 0.85 already."""
    if isinstance(value, bool):
        raise _CellError("invalid_cell", f"「{header}」应为数字")
    if isinstance(value, int | float):
        number = Decimal(str(value))
    else:
        text = _text(value).replace(",", "")
        percent = _PERCENT.match(text)
        try:
            number = Decimal(percent.group(1)) / 100 if percent else Decimal(text)
        except InvalidOperation:
            raise _CellError("invalid_cell", f"「{header}」应为数字") from None
    if not number.is_finite():
        raise _CellError("invalid_cell", f"「{header}」应为数字")
    if number < 0:
        raise _CellError("negative_number", f"「{header}」不能为负数")
    if number >= MAX_NUMBER:
        raise _CellError("number_too_large", f"「{header}」超出范围（应小于 {MAX_NUMBER:,}）")
    return number


def _cell(column: Column, value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        if column.required:
            raise _CellError("required", f"「{column.header}」不能为空")
        return None
    if column.kind == "text":
        text = unquote_cell(_text(value))
        if column.max_length is not None and len(text) > column.max_length:
            raise _CellError("too_long", f"「{column.header}」最多 {column.max_length} 个字符")
        return text
    if column.kind == "int":
        number = _decimal(value, column.header)
        if number != number.to_integral_value():
            raise _CellError("invalid_cell", f"「{column.header}」应为整数")
        return int(number)
    if column.kind == "decimal":
        return _decimal(value, column.header).quantize(DECIMAL_STEP)
    if column.kind == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = _text(value).replace("/", "-").replace(".", "-")
        try:
            year, month, day = (int(part) for part in text.split("-"))
            return date(year, month, day)
        except ValueError:
            raise _CellError("invalid_cell", f"「{column.header}」应为日期（如 2025-12-31）") from None
    word = _text(value).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _CellError("invalid_cell", f"「{column.header}」应填“是”或“否”")


def _rows(layout: Layout, table: Iterator[Sequence[Any]]) -> Iterator[SheetRow]:
    try:
        header_row = next(table)
    except StopIteration:
        raise SheetError("工作表为空（empty sheet）", code="empty_import") from None
    headers = [_text(h) if h is not None else "" for h in header_row]
    missing = [h for h in layout.required_headers if h not in headers]
    if missing:
        raise SheetError(
            f"缺少必需的表头：{'、'.join(missing)}（missing headers）",
            code="missing_headers",
            extra={"missing": missing},
        )
    at = {header: index for index, header in reversed(list(enumerate(headers)))}  # first occurrence
    columns = [(at[c.header], c) for c in layout.columns if c.field is not None]
    for line, row in enumerate(table, start=2):
        if not any(cell is not None and _text(cell) for cell in row):
            continue  # a blank line
        parsed = SheetRow(line, {})
        for index, column in columns:
            assert column.field is not None
            try:
                parsed.values[column.field] = _cell(column, row[index] if index < len(row) else None)
            except _CellError as exc:
                parsed.problems.append(CellProblem(column.header, column.field, exc.code, str(exc)))
        yield parsed


def read_xlsx(layout: Layout, content: bytes, *, max_rows: int) -> list[SheetRow]:
    """The data rows of the layout's sheet, at most ``max_rows + 1`` (the caller refuses more)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise SheetError("XLSX 文件无法打开（not a valid xlsx file）", code="unreadable_file") from exc
    try:
        if layout.sheet not in workbook.sheetnames:
            raise SheetError(
                f"文件中没有名为「{layout.sheet}」的工作表（wrong sheet）",
                code="wrong_sheet",
                extra={"expected": layout.sheet, "found": list(workbook.sheetnames)},
            )
        rows: list[SheetRow] = []
        for row in _rows(layout, iter(workbook[layout.sheet].iter_rows(values_only=True))):
            rows.append(row)
            if len(rows) > max_rows:
                break
        return rows
    finally:
        workbook.close()


def write_xlsx(
    layout: Layout, rows: Sequence[Mapping[str, Any]], *, rate_fields: Sequence[bool] = ()
) -> bytes:
    """The layout's sheet with ``rows`` (each a mapping of header → value), text formula-neutralised.

    ``rate_fields[i]`` true: row ``i``'s decimal value is a rate, shown as a percentage (stored as the
    fraction, so it imports back as the same number)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(layout.sheet)
    sheet.append([column.header for column in layout.columns])
    for index, row in enumerate(rows):
        cells: list[Any] = []
        for column in layout.columns:
            value = safe_cell(row.get(column.header))
            if column.kind == "decimal" and index < len(rate_fields) and rate_fields[index]:
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = RATE_FORMAT
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
