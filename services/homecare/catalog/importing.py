"""Reading a catalog file (CSV or XLSX) into validated rows — all of it valid, or nothing.

Headers are the English column names of ``data/nursing_catalog_inferred.csv`` plus the optional
``description``, ``required_title``, ``price_min_yuan``, ``price_max_yuan``; the Chinese names in
:data:`HEADER_ALIASES` are accepted too.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from libs.common.csv_reading import CSV_ROW_ERROR_CODE, CsvRowError, csv_rows
from libs.common.errors import FieldError
from services.homecare.catalog.errors import CatalogFileInvalid
from services.homecare.catalog.schemas import CatalogItemImport

MAX_ROWS = 500
MAX_BYTES = 2 * 1024 * 1024

HEADER_ALIASES = {
    "编码": "code",
    "项目编码": "code",
    "名称": "name",
    "项目名称": "name",
    "类别": "category",
    "说明": "description",
    "风险等级": "risk",
    "需要医嘱": "needs_medical_order",
    "需专科培训": "needs_specialist_training",
    "护士职称": "required_title",
    "指导价下限": "price_min_yuan",
    "指导价上限": "price_max_yuan",
    "来源": "source",
}
REQUIRED = ("code", "name", "category", "risk", "needs_medical_order", "needs_specialist_training")
_TRUE = {"true", "1", "yes", "y", "是"}
_FALSE = {"false", "0", "no", "n", "否", ""}
_RISK = {"低": "low", "中": "medium", "高": "high"}


def _header(name: Any) -> str:
    text = str(name or "").strip().lstrip("\ufeff")
    return HEADER_ALIASES.get(text, text.lower())


def _rows_from_csv(data: bytes) -> list[dict[str, Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise CatalogFileInvalid("文件编码无法识别（请使用 UTF-8）") from exc
    try:
        table = [row for row in csv_rows(text) if any(cell.strip() for cell in row)]
    except CsvRowError as exc:
        raise CatalogFileInvalid(
            str(exc), [FieldError(field=f"file.row{exc.line}", message=str(exc), code=CSV_ROW_ERROR_CODE)]
        ) from None
    return _rows(table)


def _rows_from_xlsx(data: bytes) -> list[dict[str, Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise CatalogFileInvalid("无法读取 XLSX 文件") from exc
    try:
        sheet = workbook.worksheets[0]
        table = [
            ["" if cell is None else cell for cell in row]
            for row in sheet.iter_rows(values_only=True)
            if any(cell not in (None, "") for cell in row)
        ]
    finally:
        workbook.close()
    return _rows(table)


def _rows(table: list[list[Any]]) -> list[dict[str, Any]]:
    if not table:
        raise CatalogFileInvalid("文件为空")
    headers = [_header(h) for h in table[0]]
    missing = [h for h in REQUIRED if h not in headers]
    if missing:
        raise CatalogFileInvalid(
            f"缺少必需的列：{', '.join(missing)}",
            [
                FieldError(field=f"file.columns.{h}", message="缺少此列", code="missing_column")
                for h in missing
            ],
        )
    return [{h: row[i] if i < len(row) else "" for i, h in enumerate(headers) if h} for row in table[1:]]


def _normalise(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, str):
            value = value.strip()
        if key in ("needs_medical_order", "needs_specialist_training"):
            text = str(value).strip().lower()
            out[key] = True if text in _TRUE else False if text in _FALSE else value
        elif key == "risk":
            out[key] = _RISK.get(str(value), str(value).lower())
        elif value == "" or value is None:
            out[key] = None
        else:
            out[key] = str(value) if key not in ("price_min_yuan", "price_max_yuan") else value
    return out


def parse(filename: str, data: bytes) -> list[CatalogItemImport]:
    """The validated rows of a catalog file; raises :class:`CatalogFileInvalid` naming every bad cell."""
    if len(data) > MAX_BYTES:
        raise CatalogFileInvalid("文件过大（上限 2 MB）")
    is_xlsx = filename.lower().endswith(".xlsx") or data[:2] == b"PK"
    rows = _rows_from_xlsx(data) if is_xlsx else _rows_from_csv(data)
    if not rows:
        raise CatalogFileInvalid("文件中没有项目")
    if len(rows) > MAX_ROWS:
        raise CatalogFileInvalid(f"项目过多（上限 {MAX_ROWS} 条）")
    items: list[CatalogItemImport] = []
    errors: list[FieldError] = []
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        try:
            items.append(CatalogItemImport.model_validate(_normalise(row)))
        except ValidationError as exc:
            errors.extend(_field_errors(number, exc.errors()))
    errors.extend(_duplicates(items))
    if errors:
        raise CatalogFileInvalid(f"目录文件有 {len(errors)} 处错误，未导入任何项目", errors)
    return items


def _field_errors(number: int, raw: Iterable[Any]) -> list[FieldError]:
    return [
        FieldError(
            field=".".join(["file", f"row{number}", *(str(p) for p in err["loc"])]),
            message=str(err["msg"]).removeprefix("Value error, "),
            code=str(err["type"]),
        )
        for err in raw
    ]


def _duplicates(items: list[CatalogItemImport]) -> list[FieldError]:
    seen: set[str] = set()
    errors = []
    for item in items:
        if item.code in seen:
            errors.append(
                FieldError(field=f"file.code.{item.code}", message="项目编码重复", code="duplicate")
            )
        seen.add(item.code)
    return errors
