"""推荐汇总表 as XLSX, in the layout officials mail up the chain.

Sheet 1 "推荐汇总表" is the official form of seed 004 (闽卫老龄函〔2025〕714号, /work/shared/seeds/
004_fa7c9bb11d7caa1f.txt): attachment 4 for counties, attachment 5 for institutions, with exactly the
columns that document prints (``OFFICIAL_COLUMNS``, copied from it; a printed header's line break is
dropped), under the form's title and its 推荐单位／联系人／联系电话 lines.

Sheet 2 "审核情况" is the working table behind it: row 1 the title, merged across the table; row 2 the
Chinese headers; row 3 on one application a row (序号, 设区市, 县（市、区）, name, the key figures frozen at
submission, the recommendation dates and opinions). Figures are numbers (2 decimals), dates are dates,
so the sheet sums and sorts.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from libs.common.export_cells import safe_cell
from services.registry.demonstration.models import ApplicationKind
from services.registry.demonstration.schemas import SummaryRow, SummaryTable

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_THIN = Side(style="thin", color="000000")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    value: Callable[[SummaryRow], Any]
    width: int
    kind: str = "text"  # text | number | date


def columns(table: SummaryTable) -> list[Column]:
    """The sheet's columns, in order (the test reads the sheet back through the same headers)."""
    name_header = "申报机构名称" if table.kind is ApplicationKind.institution else "申报县（市、区）"
    cols = [
        Column("序号", lambda r: r.number, 6, "number"),
        Column("设区市", lambda r: r.city_name, 12),
        Column("县（市、区）", lambda r: r.region_name, 12),
        Column(name_header, lambda r: r.applicant_name, 30),
    ]
    for figure in table.figure_columns:
        cols.append(Column(figure.header, _figure(figure.key), 14, figure.type))
    cols.append(Column("申报日期", lambda r: r.submitted_date, 12, "date"))
    if table.kind is ApplicationKind.institution:
        cols.append(Column("县级推荐日期", lambda r: r.county_recommended_date, 12, "date"))
        cols.append(Column("县级推荐意见", lambda r: r.county_opinion, 30))
    cols.append(Column("市级推荐日期", lambda r: r.city_recommended_date, 12, "date"))
    cols.append(Column("市级推荐意见", lambda r: r.city_opinion, 30))
    if table.level == "province":
        cols.append(Column("专家评分（平均）", lambda r: r.province_average_score, 10, "number"))
        cols.append(Column("省级评审意见", lambda r: r.province_decision, 30))
    return cols


#: seed 004's attachments 4 and 5, column by column (the seed prints "县级人民政府 联系人" on two lines)
OFFICIAL_COLUMNS: dict[ApplicationKind, tuple[str, ...]] = {
    ApplicationKind.county: (
        "序号",
        "县（市、区）名称",
        "县级人民政府联系人",
        "联系电话",
        "县级卫生健康部门联系人",
        "联系电话",
        "通讯地址及邮编",
    ),
    ApplicationKind.institution: (
        "序号",
        "机构名称",
        "负责人",
        "联系电话",
        "联系人",
        "联系电话",
        "通讯地址及邮编",
    ),
}
OFFICIAL_TITLES = {
    ApplicationKind.county: "全国医养结合示范县（市、区）推荐汇总表",
    ApplicationKind.institution: "全国医养结合示范机构推荐汇总表",
}
_OFFICIAL_WIDTHS = (6, 26, 16, 16, 18, 16, 40)


def official_values(row: SummaryRow) -> list[Any]:
    """One application's cells in the official form (the same order for both attachments)."""
    address = " ".join(part for part in (row.postal_address, row.postal_code) if part)
    return [
        row.number,
        safe_cell(row.applicant_name),
        safe_cell(row.head_name) if row.head_name else None,
        safe_cell(row.head_phone) if row.head_phone else None,
        safe_cell(row.contact_name) if row.contact_name else None,
        safe_cell(row.contact_phone) if row.contact_phone else None,
        safe_cell(address) if address else None,
    ]


def _figure(key: str) -> Callable[[SummaryRow], Any]:
    return lambda row: row.figures.get(key)


def cell_value(value: Any, kind: str) -> Any:
    if value is None or value == "":
        return None
    if kind == "number":
        number = Decimal(str(value))
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    return safe_cell(str(value))


def render(table: SummaryTable, *, recommending_unit: str) -> bytes:
    workbook = Workbook()
    official = workbook.active
    official.title = "推荐汇总表"
    _official_sheet(official, table, recommending_unit)
    _working_sheet(workbook.create_sheet("审核情况"), table)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _official_sheet(sheet: Worksheet, table: SummaryTable, recommending_unit: str) -> None:
    headers = OFFICIAL_COLUMNS[table.kind]
    last = get_column_letter(len(headers))
    sheet.append([OFFICIAL_TITLES[table.kind]])
    sheet.merge_cells(f"A1:{last}1")
    title = sheet["A1"]
    title.font = Font(name="方正小标宋简体", size=16)
    title.alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 36
    for line in (f"推荐单位：{recommending_unit}（加盖公章）", "联系人：", "联系电话："):
        sheet.append([safe_cell(line)])
        sheet.merge_cells(f"A{sheet.max_row}:{last}{sheet.max_row}")
    header_row = sheet.max_row + 1
    sheet.append(list(headers))
    for index, width in enumerate(_OFFICIAL_WIDTHS, start=1):
        cell = sheet.cell(row=header_row, column=index)
        cell.font = Font(name="黑体", size=11)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.row_dimensions[header_row].height = 36
    for row in table.rows:
        sheet.append(official_values(row))
        for index in range(1, len(headers) + 1):
            cell = sheet.cell(row=sheet.max_row, column=index)
            cell.border = _BORDER
            cell.alignment = Alignment(vertical="center", wrap_text=True)
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"


def _working_sheet(sheet: Worksheet, table: SummaryTable) -> None:
    cols = columns(table)
    last = get_column_letter(len(cols))

    sheet.append([safe_cell(table.title)])
    sheet.merge_cells(f"A1:{last}1")
    title = sheet["A1"]
    title.font = Font(name="宋体", size=16, bold=True)
    title.alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 32

    sheet.append([c.header for c in cols])
    for index, column in enumerate(cols, start=1):
        cell = sheet.cell(row=2, column=index)
        cell.font = Font(name="宋体", size=11, bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = _BORDER
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.row_dimensions[2].height = 36

    for row in table.rows:
        sheet.append([cell_value(c.value(row), c.kind) for c in cols])
        excel_row = sheet.max_row
        for index, column in enumerate(cols, start=1):
            cell = sheet.cell(row=excel_row, column=index)
            cell.border = _BORDER
            cell.alignment = Alignment(vertical="center", wrap_text=column.kind == "text")
            if column.kind == "date":
                cell.number_format = "yyyy-mm-dd"
            elif column.kind == "number" and index > 1:
                cell.number_format = "0.00" if isinstance(cell.value, float) else "0"
    sheet.freeze_panes = "A3"
    sheet.print_title_rows = "1:2"
    sheet.page_setup.orientation = "landscape"
