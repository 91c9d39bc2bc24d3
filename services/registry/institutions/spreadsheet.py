"""The officials' spreadsheet shape of the institution list: one row an institution, Chinese headers.

Reading turns each row into the field names of :class:`InstitutionCreate` (labels such as 「民办」 or
「是」 become values), keeping its line number; writing produces the same columns, so an exported file
imports back unchanged. The contact phone (personal data) is read when present but never exported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Final

from libs.common import divisions
from libs.common.csv_reading import CSV_ROW_ERROR_CODE, CsvRowError, csv_rows
from libs.common.export_cells import safe_cell, unquote_cell
from services.registry.institutions.kinds import (
    CATEGORY_LABELS,
    ELDERLY_CARE_OWNERSHIP_LABELS,
    HOSPITAL_GRADE_LABELS,
    HOSPITAL_TYPE_LABELS,
    INTEGRATED_MODEL_LABELS,
    KIND_LABELS,
    LICENCE_TYPE_LABELS,
    OWNERSHIP_LABELS,
)

XLSX_MEDIA_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE: Final = "text/csv; charset=utf-8"
TRUE_WORDS: Final = frozenset({"是", "有", "y", "yes", "true", "1", "√"})
FALSE_WORDS: Final = frozenset({"否", "无", "n", "no", "false", "0", "×"})


class CellError(ValueError):
    """A cell that cannot be read; the message names the column."""


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    field: str | None  # None: exported for reading convenience, ignored on import
    kind: str = "text"  # text | int | float | date | bool | enum
    labels: Mapping[Any, str] | None = None
    exported: bool = True
    imported: bool = True  # False: exported for reading, ignored on import (a value only its own step writes)


def _enum(header: str, field: str, labels: Mapping[Any, str]) -> Column:
    return Column(header, field, "enum", labels)


COLUMNS: Final[tuple[Column, ...]] = (
    Column("机构名称", "name"),
    Column("统一社会信用代码", "uscc"),
    _enum("机构类别", "kind", KIND_LABELS),
    _enum("机构细类", "category", CATEGORY_LABELS),
    _enum("医院等级", "hospital_grade", HOSPITAL_GRADE_LABELS),
    _enum("医院类型", "hospital_type", HOSPITAL_TYPE_LABELS),
    _enum("养老机构性质", "elderly_care_ownership", ELDERLY_CARE_OWNERSHIP_LABELS),
    _enum("医养结合模式", "integrated_model", INTEGRATED_MODEL_LABELS),
    _enum("公立/民营", "ownership", OWNERSHIP_LABELS),
    Column("机构类别代码", "ws218_kind_code"),
    _enum("许可类型", "licence_type", LICENCE_TYPE_LABELS),
    Column("登记号/备案号", "licence_no"),
    Column("行政区划代码", "region_code"),
    Column("所在县（市、区）", None),
    Column("地址", "address"),
    Column("经度", "longitude", "float"),
    Column("纬度", "latitude", "float"),
    Column("开业日期", "operating_since", "date"),
    Column("医疗服务开展日期", "medical_operating_since", "date"),
    Column("养老服务开展日期", "elderly_care_operating_since", "date"),
    Column("法定代表人", "legal_person"),
    Column("联系人", "contact_name"),
    Column("联系电话", "contact_phone", exported=False),
    Column("养老床位", "beds_elderly_care", "int"),
    Column("医疗床位", "beds_medical", "int"),
    Column("医养结合床位", "beds_integrated", "int"),
    Column("康复床位", "beds_rehabilitation", "int"),
    Column("护理床位", "beds_nursing", "int"),
    Column("安宁疗护床位", "beds_hospice", "int"),
    Column("入住人数", "residents", "int"),
    Column("轻度失能人数", "disabled_level_1", "int"),
    Column("中度失能人数", "disabled_level_2", "int"),
    Column("重度失能人数", "disabled_level_3", "int"),
    Column("完全失能人数", "disabled_level_4", "int"),
    Column("失智人数", "dementia_residents", "int"),
    Column("医保定点", "medical_insurance_designated", "bool"),
    Column("老年人绿色通道", "elderly_green_channel", "bool"),
    Column("安宁疗护", "hospice_care", "bool"),
    Column("家庭病床服务", "home_bed_service", "bool"),
    Column("互联网+护理服务", "internet_nursing_provider", "bool"),
    # derived from the recognition year: shown in the export, never read back
    Column("老年友善医疗机构", "elderly_friendly", "bool", imported=False),
    Column("老年友善医疗机构认定年份", "elderly_friendly_year", "int"),
    Column("中医馆", "tcm_hall", "bool"),
    # written only by the 全国示范 naming step: shown in the export, never read back
    Column("全国示范机构年份", "national_demonstration_year", "int", imported=False),
    Column("省级示范机构年份", "provincial_demonstration_year", "int"),
    Column("状态", None),
)
REQUIRED_HEADERS: Final = ("机构名称", "机构类别", "机构细类", "行政区划代码")
EXPORT_COLUMNS: Final = tuple(c for c in COLUMNS if c.exported)
_BY_HEADER: Final = {c.header: c for c in COLUMNS}


@dataclass(frozen=True, slots=True)
class ParsedRow:
    line: int
    values: dict[str, Any]
    errors: list[tuple[str, str]]  # (field, message)


class SheetError(ValueError):
    """The file as a whole cannot be read (format, missing headers), or, with ``line``, one of its rows."""

    def __init__(self, message: str, *, line: int | None = None, code: str = "unreadable_file") -> None:
        super().__init__(message)
        self.line = line
        self.code = code


# ------------------------------------------------------------------------------------------- reading


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _cell(column: Column, value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if column.kind == "text":
        return unquote_cell(_text(value))
    if column.kind == "int":
        try:
            number = float(_text(value).replace(",", ""))
        except ValueError:
            raise CellError(f"「{column.header}」应为整数") from None
        if not number.is_integer():
            raise CellError(f"「{column.header}」应为整数")
        return int(number)
    if column.kind == "float":
        try:
            return float(_text(value))
        except ValueError:
            raise CellError(f"「{column.header}」应为数字") from None
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
            raise CellError(f"「{column.header}」应为日期（如 2015-06-01）") from None
    if column.kind == "bool":
        word = _text(value).lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise CellError(f"「{column.header}」应填“是”或“否”")
    assert column.labels is not None
    text = _text(value)
    for member, label in column.labels.items():
        if text in (label, str(member)):
            return str(member)
    raise CellError(f"「{column.header}」的值「{text}」无法识别，可填：{'、'.join(column.labels.values())}")


def _rows_from_table(table: Iterator[Sequence[Any]]) -> Iterator[ParsedRow]:
    try:
        header_row = next(table)
    except StopIteration:
        raise SheetError("文件为空（empty file）") from None
    headers = [_text(h) if h is not None else "" for h in header_row]
    missing = [h for h in REQUIRED_HEADERS if h not in headers]
    if missing:
        raise SheetError(f"缺少必需的表头：{'、'.join(missing)}（missing headers）")
    columns = [
        (i, _BY_HEADER[h])
        for i, h in enumerate(headers)
        if h in _BY_HEADER and _BY_HEADER[h].field and _BY_HEADER[h].imported
    ]
    for line, row in enumerate(table, start=2):
        if not any(cell is not None and _text(cell) for cell in row):
            continue  # blank line
        values: dict[str, Any] = {}
        errors: list[tuple[str, str]] = []
        for index, column in columns:
            assert column.field is not None
            try:
                value = _cell(column, row[index] if index < len(row) else None)
            except CellError as exc:
                errors.append((column.field, str(exc)))
                continue
            if value is not None:
                values[column.field] = value
        yield ParsedRow(line, values, errors)


def read_csv(content: bytes) -> Iterator[ParsedRow]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError:
            raise SheetError("CSV 文件编码无法识别，请使用 UTF-8 或 GB18030（unknown encoding）") from None
    return _csv_table(text)


def _csv_table(text: str) -> Iterator[ParsedRow]:
    try:
        yield from _rows_from_table(csv_rows(text))
    except CsvRowError as exc:
        raise SheetError(str(exc), line=exc.line, code=CSV_ROW_ERROR_CODE) from None


def read_xlsx(content: bytes) -> Iterator[ParsedRow]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise SheetError("XLSX 文件无法打开（not a valid xlsx file）") from exc
    sheet = workbook.worksheets[0]
    try:
        yield from _rows_from_table(iter(sheet.iter_rows(values_only=True)))
    finally:
        workbook.close()


# ------------------------------------------------------------------------------------------- writing


def _export_value(column: Column, row: Mapping[str, Any]) -> Any:
    if column.header == "所在县（市、区）":
        division = divisions.get(row["region_code"])
        return division.name if division else ""
    if column.header == "状态":
        return "在用" if row["active"] else "停用"
    assert column.field is not None
    value = row.get(column.field)
    if value is None:
        return None
    if column.kind == "enum":
        assert column.labels is not None
        key = value.value if isinstance(value, StrEnum) else value
        return next((label for member, label in column.labels.items() if str(member) == key), key)
    if column.kind == "bool":
        return "是" if value else "否"
    return value


def export_rows(rows: Sequence[Mapping[str, Any]]) -> Iterator[list[Any]]:
    yield [column.header for column in EXPORT_COLUMNS]
    for row in rows:
        yield [safe_cell(_export_value(column, row)) for column in EXPORT_COLUMNS]


def write_csv(rows: Sequence[Mapping[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for values in export_rows(rows):
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, date) else v for v in values])
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read it as UTF-8


def write_xlsx(rows: Sequence[Mapping[str, Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("机构名录")
    for values in export_rows(rows):
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


Reader = Callable[[bytes], Iterator[ParsedRow]]


def reader_for(filename: str | None, content_type: str | None) -> Reader:
    name = (filename or "").lower()
    if name.endswith(".csv") or (content_type or "").startswith("text/csv"):
        return read_csv
    if name.endswith(".xlsx") or (content_type or "").startswith(XLSX_MEDIA_TYPE):
        return read_xlsx
    raise SheetError("只支持 .xlsx 和 .csv 文件（only xlsx and csv are accepted）")
