"""XLSX exports: the annual (or quarterly) summary, one sheet per level, and any drill-down list.

Chinese headers, region codes and names; every cell through ``safe_cell`` (no formula runs when opened).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from libs.common.export_cells import safe_cell
from services.indicators.reports import schemas
from services.indicators.reports.service import ReportData

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COMPARISON_SIGNS = {"gte": "≥", "gt": ">", "eq": "=", "lte": "≤"}
SUMMARY_HEADERS = [
    "区划代码",
    "区划名称",
    "层级",
    "指标代码",
    "指标名称",
    "分子",
    "分母",
    "数值",
    "基线",
    "基线来源",
    "目标",
    "目标来源",
    "状态",
    "说明",
    "上报覆盖",
]
RECORD_HEADERS = [
    "区划代码",
    "区划名称",
    "记录类型",
    "来源服务",
    "记录ID",
    "关联机构ID",
    "名称",
    "分子",
    "分母",
]


def _target_text(target: schemas.TargetStatus) -> str:
    scope = "各县" if target.each_county else target.region_code
    sign = COMPARISON_SIGNS.get(target.comparison, target.comparison)
    return f"{scope} {sign} {target.value:g}（{target.due_date.isoformat()} 前）"


def _status_text(figure: schemas.Figure) -> tuple[str, str]:
    if figure.status == "missing":
        return "缺失", figure.missing_reason or ""
    if not figure.targets:
        return "无目标", ""
    parts = []
    for target in figure.targets:
        if target.status == "met":
            parts.append("达标")
        elif target.status == "short":
            if target.each_county:
                names = "、".join(c.region_name for c in target.counties_short)
                parts.append(f"未达标（{names}）")
            else:
                parts.append(f"未达标，差 {target.short_by:g}")
        else:
            parts.append(f"无法评价：{target.reason or ''}")
    return "；".join(parts), ""


def coverage_text(coverage: schemas.ReportingCoverage | None) -> str | None:
    """``1/84 个县（区）上报，占65岁及以上人口 1.8%`` — a residents figure's coverage; None for the others."""
    if coverage is None:
        return None
    text = f"{coverage.reporting_counties}/{coverage.counties} 个县（区）上报"
    if coverage.aged_65_plus_share is not None:
        text += f"，占65岁及以上人口 {coverage.aged_65_plus_share:.1%}"
    return text


def summary_rows(figures: schemas.RegionFigures) -> Iterable[list[Any]]:
    level = schemas.LEVEL_LABELS[figures.level]
    for figure in figures.figures:
        status, note = _status_text(figure)
        yield [
            figures.region_code,
            figures.region_name,
            level,
            figure.indicator,
            figure.name,
            figure.numerator,
            figure.denominator,
            figure.value,
            figure.baseline.value if figure.baseline else None,
            figure.baseline.source if figure.baseline else None,
            "；".join(_target_text(t) for t in figure.targets) or None,
            "；".join(t.source for t in figure.targets) or None,
            status,
            note,
            coverage_text(figure.coverage),
        ]


def _write(sheets: Sequence[tuple[str, list[str], Iterable[list[Any]]]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.append(headers)
        for row in rows:
            sheet.append([safe_cell(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def summary_xlsx(data: ReportData) -> bytes:
    """One sheet per level: the region itself, then each level below it down to the counties."""
    levels: list[tuple[str, list[schemas.RegionFigures]]] = []
    current = [data.region]
    while current:
        level = schemas.LEVEL_LABELS[current[0].level]
        levels.append((level, [data.region_figures(r) for r in current]))
        current = [child for region in current for child in region.children()]
    return _write(
        [
            (title, SUMMARY_HEADERS, (row for figures in group for row in summary_rows(figures)))
            for title, group in levels
        ]
    )


def records_xlsx(rows: Iterable[schemas.RecordRow]) -> bytes:
    def values() -> Iterable[list[Any]]:
        for row in rows:
            yield [
                row.region_code,
                row.region_name,
                row.kind,
                row.source,
                row.id,
                row.related_id,
                row.name,
                row.numerator,
                row.denominator,
            ]

    return _write([("明细", RECORD_HEADERS, values())])
