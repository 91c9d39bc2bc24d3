"""推荐汇总表: the city's and the province's tables, as JSON and as XLSX read back with openpyxl."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from tests.registry.demonstration.flow import BATCHES, ON_CITY, ON_PROVINCE, Flow, YearStat, bed_days_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INSTITUTION_CITY_HEADERS = [
    "序号",
    "设区市",
    "县（市、区）",
    "申报机构名称",
    "机构类别",
    "医疗服务开展时间",
    "养老服务开展时间",
    "2025年实际开放床位（张）",
    "2024年床位使用率（%）",
    "2025年床位使用率（%）",
    "失能、失智老年人占比（%）",
    "满意度（%）",
    "申报日期",
    "县级推荐日期",
    "县级推荐意见",
    "市级推荐日期",
    "市级推荐意见",
]
COUNTY_PROVINCE_HEADERS = [
    "序号",
    "设区市",
    "县（市、区）",
    "申报县（市、区）",
    "医养结合机构数（家）",
    "医养结合床位数（张）",
    "申报日期",
    "市级推荐日期",
    "市级推荐意见",
    "专家评分（平均）",
    "省级评审意见",
]


async def _table(flow: Flow, batch_id: str, headers: dict[str, str], **params: str) -> Any:
    return await flow.client.get(
        f"{BATCHES}/{batch_id}/recommendation-summary", params=params, headers=headers
    )


async def _sheet(flow: Flow, batch_id: str, headers: dict[str, str], **params: str) -> Worksheet:
    response = await flow.client.get(
        f"{BATCHES}/{batch_id}/recommendation-summary.xlsx", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"].startswith("attachment;")
    sheet: Worksheet = openpyxl.load_workbook(io.BytesIO(response.content))["审核情况"]
    return sheet


def _cell(value: Any) -> Any:
    return value.date() if isinstance(value, datetime) else value


def _expected(row: dict[str, Any], header: str, figures: dict[str, str]) -> Any:
    """What a cell must hold, from the JSON row (figures by their header)."""
    plain = {
        "序号": row["number"],
        "设区市": row["city_name"],
        "县（市、区）": row["region_name"],
        "申报机构名称": row["applicant_name"],
        "申报县（市、区）": row["applicant_name"],
        "申报日期": row["submitted_date"],
        "县级推荐日期": row["county_recommended_date"],
        "县级推荐意见": row["county_opinion"],
        "市级推荐日期": row["city_recommended_date"],
        "市级推荐意见": row["city_opinion"],
        "专家评分（平均）": row["province_average_score"],
        "省级评审意见": row["province_decision"],
    }
    if header in plain:
        value = plain[header]
        if isinstance(value, str) and header.endswith("日期"):
            return date.fromisoformat(value)
        return value
    value = row["figures"][figures[header]]
    if value is None:
        return None
    if header.endswith("时间"):
        return date.fromisoformat(value)
    if header == "机构类别":
        return value
    return float(value) if "." in value else int(value)


def assert_sheet_matches(sheet: Worksheet, table: dict[str, Any], headers: list[str]) -> None:
    assert sheet["A1"].value == table["title"]
    assert f"A1:{sheet.cell(row=2, column=len(headers)).column_letter}1" in {
        str(r) for r in sheet.merged_cells.ranges
    }
    assert [c.value for c in sheet[2]] == headers
    figures = {c["header"]: c["key"] for c in table["figure_columns"]}
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert len(rows) == len(table["rows"])
    for cells, row in zip(rows, table["rows"], strict=True):
        for header, cell in zip(headers, cells, strict=True):
            assert _cell(cell) == _expected(row, header, figures), header


async def _scenario(flow: Flow) -> dict[str, Any]:
    batch = await flow.batch(name="第二批全国医养结合示范项目（2025—2026年）")
    stats = {
        2024: YearStat(200, bed_days_for(70, 200, 2024), 180, 150),
        2025: YearStat(200, bed_days_for(65, 200, 2025), 186, 130),
    }
    hongai = await flow.institution(name="厦门弘爱养护院", region="350206", stats=stats)
    lianhua = await flow.institution(name="厦门市莲花爱心护理院", region="350203")
    tongan = await flow.institution(name="同安区某护理院", region="350212")
    institution = await flow.drive(
        await flow.apply_institution(batch["id"], hongai, declared_satisfaction_pct=96.5),
        "county_recommended",
    )
    declined = await flow.drive(
        await flow.apply_institution(batch["id"], lianhua, region="350203"), "county_recommended"
    )
    await flow.act(declined["id"], "decline", flow.city(), {"reason": "本批次推荐县"}, on=ON_CITY)
    await flow.drive(await flow.apply_institution(batch["id"], tongan, region="350212"), "submitted")
    siming = await flow.drive(await flow.apply_county(batch["id"], "350205"), "city_recommended")
    cangshan = await flow.drive(await flow.apply_county(batch["id"], "350104"), "province_approved")
    return {
        "batch": batch,
        "institution": institution,
        "declined": declined,
        "siming": siming,
        "cangshan": cangshan,
    }


async def test_the_citys_institution_table_lists_what_reached_the_city_with_its_opinion(flow: Flow) -> None:
    s = await _scenario(flow)
    response = await _table(flow, s["batch"]["id"], flow.city(), level="city", kind="institution")
    assert response.status_code == 200, response.text
    table = response.json()
    assert (
        table["title"] == "厦门市全国医养结合示范机构推荐汇总表（第二批全国医养结合示范项目（2025—2026年））"
    )
    assert [r["applicant_name"] for r in table["rows"]] == ["厦门市莲花爱心护理院", "厦门弘爱养护院"]
    declined, hongai = table["rows"]
    assert declined["city_opinion"] == "不予推荐：本批次推荐县"
    assert hongai["city_opinion"] == "待审核"
    assert hongai["county_opinion"] == "经县级审核，同意推荐"
    assert hongai["figures"] == {
        "institution_kind": "医养结合机构",
        "medical_operating_since": "2015-03-01",
        "elderly_care_operating_since": "2015-03-01",
        "operating_beds": "200",
        "occupancy_2024": "70.00",
        "occupancy_2025": "65.00",
        "disabled_share": "69.89",
        "satisfaction": "96.50",
    }
    sheet = await _sheet(flow, s["batch"]["id"], flow.city(), level="city", kind="institution")
    assert_sheet_matches(sheet, table, INSTITUTION_CITY_HEADERS)


async def test_the_citys_county_table_shows_its_recommendation(flow: Flow) -> None:
    s = await _scenario(flow)
    table = (await _table(flow, s["batch"]["id"], flow.city(), level="city", kind="county")).json()
    assert [(r["applicant_name"], r["city_recommended_date"]) for r in table["rows"]] == [
        ("海沧区", "2026-05-15")
    ]
    assert table["rows"][0]["city_opinion"] == "推荐：经市级评审，同意推荐"
    sheet = await _sheet(flow, s["batch"]["id"], flow.city(), level="city", kind="county")
    assert [c.value for c in sheet[2]][:4] == ["序号", "设区市", "县（市、区）", "申报县（市、区）"]
    assert sheet.cell(row=3, column=4).value == "海沧区"


async def test_the_provinces_table_lists_every_citys_recommendation_and_its_decision(flow: Flow) -> None:
    s = await _scenario(flow)
    response = await _table(flow, s["batch"]["id"], flow.province(), level="province", kind="county")
    table = response.json()
    assert table["title"].startswith("福建省全国医养结合示范县（市、区）推荐汇总表")
    assert [(r["city_name"], r["applicant_name"]) for r in table["rows"]] == [
        ("福州市", "仓山区"),
        ("厦门市", "海沧区"),
    ]
    cangshan, haicang = table["rows"]
    assert cangshan["province_decision"] == "评审通过：材料齐全，现场核查属实，专家评分优秀"
    assert cangshan["province_average_score"] == 90.25
    assert haicang["province_decision"] == "待评审"
    sheet = await _sheet(flow, s["batch"]["id"], flow.province(), level="province", kind="county")
    assert_sheet_matches(sheet, table, COUNTY_PROVINCE_HEADERS)


async def test_the_province_reads_a_citys_table_by_code(flow: Flow) -> None:
    s = await _scenario(flow)
    fuzhou = await _table(
        flow, s["batch"]["id"], flow.province(), level="city", kind="county", city_code="350100"
    )
    missing = await _table(flow, s["batch"]["id"], flow.province(), level="city", kind="county")
    not_a_city = await _table(
        flow, s["batch"]["id"], flow.province(), level="city", kind="county", city_code="350206"
    )
    assert [r["applicant_name"] for r in fuzhou.json()["rows"]] == ["仓山区"]
    assert (missing.status_code, not_a_city.status_code) == (422, 422)


async def test_a_city_reads_only_its_own_table_and_never_the_provinces(flow: Flow) -> None:
    s = await _scenario(flow)
    other = await _table(flow, s["batch"]["id"], flow.city(), level="city", kind="county", city_code="350100")
    province = await _table(flow, s["batch"]["id"], flow.city(), level="province", kind="county")
    county = await _table(flow, s["batch"]["id"], flow.county(), level="city", kind="county")
    assert (other.status_code, other.json()["code"]) == (403, "demonstration_summary_forbidden")
    assert (province.status_code, province.json()["code"]) == (403, "demonstration_summary_forbidden")
    assert (county.status_code, county.json()["code"]) == (403, "permission_denied")


async def test_an_empty_table_still_has_its_title_and_headers(flow: Flow) -> None:
    batch = await flow.batch()
    sheet = await _sheet(flow, batch["id"], flow.province(), level="province", kind="county")
    assert sheet.max_row == 2
    assert [c.value for c in sheet[2]] == COUNTY_PROVINCE_HEADERS


async def test_a_summary_of_an_unknown_batch_is_404(flow: Flow) -> None:
    response = await _table(
        flow, "00000000-0000-0000-0000-000000000000", flow.province(), level="province", kind="county"
    )
    assert response.status_code == 404


async def test_the_province_summary_is_computed_at_a_later_day_unchanged(flow: Flow) -> None:
    s = await _scenario(flow)
    flow.clock.today = ON_PROVINCE
    first = (await _table(flow, s["batch"]["id"], flow.province(), level="province", kind="county")).json()
    flow.clock.today = date(2027, 1, 1)
    later = (await _table(flow, s["batch"]["id"], flow.province(), level="province", kind="county")).json()
    assert first == later
