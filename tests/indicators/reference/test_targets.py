"""The targets table (indicators.md: a target has an indicator, a region — the province, a city, a county,
or "each county" of a region —, a comparison, a value, a due date and a source); a rate is a fraction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook

from libs.common.database import session_scope
from libs.common.testing import Tokens
from services.indicators.reference.service import Comparison, TargetRow, targets
from tests.indicators.reference.helpers import (
    BASE,
    admin,
    listing,
    population_file,
    sheet_rows,
    targets_file,
    upload,
)

ROWS: list[list[Any]] = [
    ["agreement_coverage", "350000", "是", "≥", "100%", date(2025, 12, 31), "002"],
    ["elder_friendly_rate", "350000", "否", ">=", 0.8, date(2023, 12, 31), "002 附件1"],
    ["elder_friendly_rate", "350000", None, "gte", "85%", date(2025, 12, 31), "002 附件1"],
    ["public_integrated_beds_per_10k", "350000", "是", "≥", 1, date(2025, 12, 31), "002 附件1"],
    ["home_bed_providers", "350500", "是", "≥", 1, date(2025, 12, 31), "002"],
    ["home_bed_satisfaction", "350206", "否", ">", "0.95", date(2025, 12, 31), "000"],
    ["referrals", "350128", "否", "=", 12, date(2025, 6, 30), "test"],
    ["integrated_beds", "350200", "否", "≤", 60000, date(2025, 12, 31), "test"],
]


def key(item: dict[str, Any]) -> tuple[str, str, bool, str]:
    return item["indicator"], item["region_code"], item["each_county"], item["due_date"]


async def test_a_load_reads_back_with_units_and_its_export_imports_back_unchanged(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await upload(client, tokens, "targets", targets_file(ROWS))
    assert response.status_code == 201, response.text
    items = {key(i): i for i in (await listing(client, tokens, "targets"))["items"]}
    assert len(items) == len(ROWS)

    coverage = items["agreement_coverage", "350000", True, "2025-12-31"]
    assert coverage["unit"] == "rate"
    assert coverage["comparison"] == "gte"
    assert Decimal(coverage["value"]) == 1  # 100 % as a fraction
    assert coverage["region_name"] == "福建省"
    assert coverage["indicator_name"] == "养老机构签约覆盖率"
    friendly_2025 = items["elder_friendly_rate", "350000", False, "2025-12-31"]  # an empty 逐县评价 is 否
    assert Decimal(friendly_2025["value"]) == Decimal("0.85")
    assert Decimal(items["elder_friendly_rate", "350000", False, "2023-12-31"]["value"]) == Decimal("0.8")
    satisfaction = items["home_bed_satisfaction", "350206", False, "2025-12-31"]
    assert satisfaction["comparison"] == "gt"
    assert Decimal(satisfaction["value"]) == Decimal("0.95")
    beds = items["public_integrated_beds_per_10k", "350000", True, "2025-12-31"]
    assert beds["unit"] == "per_10k"
    assert Decimal(beds["value"]) == 1
    assert items["referrals", "350128", False, "2025-06-30"]["comparison"] == "eq"
    assert items["integrated_beds", "350200", False, "2025-12-31"]["comparison"] == "lte"

    exported = await client.get(f"{BASE}/targets/export", headers=admin(tokens))
    sheet, rows = sheet_rows(exported.content)
    assert sheet == "指标目标"
    assert rows[0] == [
        "指标代码",
        "指标名称",
        "区域",
        "区域名称",
        "逐县评价",
        "比较",
        "目标值",
        "截止日期",
        "来源",
    ]
    assert len(rows) == len(ROWS) + 1
    assert (await upload(client, tokens, "targets", exported.content)).status_code == 201
    again = {key(i): i for i in (await listing(client, tokens, "targets"))["items"]}
    assert again == items


async def test_a_rate_exports_as_a_percentage_cell_holding_the_fraction(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    await upload(client, tokens, "targets", targets_file([ROWS[2], ROWS[4]]))
    exported = await client.get(f"{BASE}/targets/export", headers=admin(tokens))
    sheet = load_workbook(BytesIO(exported.content)).worksheets[0]
    by_code = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    rate = by_code["elder_friendly_rate"][6]
    assert rate.value == pytest.approx(0.85)
    assert rate.number_format.endswith("%")
    count = by_code["home_bed_providers"][6]
    assert count.value == 1
    assert not count.number_format.endswith("%")


async def test_the_reports_read_the_current_targets_due_by_a_date(
    client: httpx.AsyncClient, reference_app: FastAPI, tokens: Tokens
) -> None:
    await upload(client, tokens, "targets", targets_file(ROWS[:1]))
    await upload(client, tokens, "targets", targets_file(ROWS[1:3]))
    async with session_scope(reference_app.state.database, write=False) as session:
        everything = await targets(session, due_on_or_before=None)
        by_2024 = await targets(session, due_on_or_before=date(2024, 12, 31))
    # the current version only: the first load's coverage target is gone
    assert everything == [
        TargetRow(
            "elder_friendly_rate",
            "350000",
            False,
            Comparison.gte,
            everything[0].value,
            date(2023, 12, 31),
            "002 附件1",
        ),
        TargetRow(
            "elder_friendly_rate",
            "350000",
            False,
            Comparison.gte,
            everything[1].value,
            date(2025, 12, 31),
            "002 附件1",
        ),
    ]
    assert [t.value for t in everything] == [Decimal("0.8"), Decimal("0.85")]
    assert [t.due_date for t in by_2024] == [date(2023, 12, 31)]
    assert everything[1].met_by(Decimal("0.85"))
    assert not everything[1].met_by(0.849)


@pytest.mark.parametrize(
    ("bad", "column", "code"),
    [
        (["coverage_rate", "350000", "否", "≥", 1, date(2025, 12, 31), "x"], "指标代码", "unknown_indicator"),
        (["agreement_coverage", "359900", "否", "≥", 1, date(2025, 12, 31), "x"], "区域", "unknown_region"),
        (
            ["agreement_coverage", "350000", "否", "约等于", 1, date(2025, 12, 31), "x"],
            "比较",
            "invalid_comparison",
        ),
        (
            ["agreement_coverage", "350000", "否", "≥", 85, date(2025, 12, 31), "x"],
            "目标值",
            "rate_out_of_range",
        ),
        (
            ["agreement_coverage", "350000", "否", "≥", "120%", date(2025, 12, 31), "x"],
            "目标值",
            "rate_out_of_range",
        ),
        (
            ["home_bed_providers", "350000", "否", "≥", -1, date(2025, 12, 31), "x"],
            "目标值",
            "negative_number",
        ),
        (
            ["home_bed_providers", "350000", "否", "≥", "若干", date(2025, 12, 31), "x"],
            "目标值",
            "invalid_cell",
        ),
        (
            ["home_bed_providers", "350206", "是", "≥", 1, date(2025, 12, 31), "x"],
            "逐县评价",
            "each_county_needs_area",
        ),
        (
            ["home_bed_providers", "350000", "也许", "≥", 1, date(2025, 12, 31), "x"],
            "逐县评价",
            "invalid_cell",
        ),
        (["home_bed_providers", "350000", "否", "≥", 1, "年底", "x"], "截止日期", "invalid_cell"),
        (["home_bed_providers", "350000", "否", "≥", 1, date(2025, 12, 31), None], "来源", "required"),
        (ROWS[0], "区域", "duplicate_in_batch"),
    ],
)
async def test_one_bad_target_rejects_the_whole_file(
    client: httpx.AsyncClient, tokens: Tokens, bad: list[Any], column: str, code: str
) -> None:
    await upload(client, tokens, "targets", targets_file([ROWS[3]]))
    before = await listing(client, tokens, "targets")
    response = await upload(client, tokens, "targets", targets_file([ROWS[0], ROWS[1], bad]))
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "import_rejected"
    assert [(r["line"], r["column"], r["code"]) for r in problem["extra"]["rows"]] == [(4, column, code)]
    assert await listing(client, tokens, "targets") == before


async def test_a_population_file_is_not_a_targets_file(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await upload(client, tokens, "targets", population_file([["350206", 2024, 10, 1, "x"]]))
    assert response.status_code == 422
    assert response.json()["code"] == "wrong_sheet"
    assert response.json()["extra"] == {"expected": "指标目标", "found": ["常住人口"]}
