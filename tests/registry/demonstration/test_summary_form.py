"""The official 推荐汇总表 (seed 004, attachments 4 and 5): the XLSX's first sheet has exactly the columns
the notice prints, read from a copy of the seed's column lines kept beside this test
(``data/seed_004_summary_columns.tsv``), not from the product's own list; the applicant's contacts fill
them.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from tests.registry.demonstration.flow import APPLICATIONS, BATCHES, ON_APPLICATION, Flow

SEED_COLUMNS = Path(__file__).parent / "data" / "seed_004_summary_columns.tsv"


def seed_headers() -> dict[str, list[str]]:
    """kind → the seed's headers; a space inside a printed header is its line break, not a character."""
    headers: dict[str, list[str]] = {}
    for line in SEED_COLUMNS.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        kind, *cells = line.split("\t")
        headers[kind] = [re.sub(r"\s+", "", cell) for cell in cells]
    return headers


async def _official(flow: Flow, batch_id: str, headers: dict[str, str], **params: str) -> Worksheet:
    response = await flow.client.get(
        f"{BATCHES}/{batch_id}/recommendation-summary.xlsx", params=params, headers=headers
    )
    assert response.status_code == 200, response.text
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames[0] == "推荐汇总表"
    sheet: Worksheet = workbook.worksheets[0]
    return sheet


def _header_row(sheet: Worksheet) -> int:
    for row in sheet.iter_rows(min_col=1, max_col=1):
        if row[0].value == "序号":
            return int(row[0].row)
    raise AssertionError("no header row")


def test_the_seed_copy_has_both_attachments() -> None:
    headers = seed_headers()
    assert set(headers) == {"county", "institution"}
    assert all(len(cells) == 7 for cells in headers.values())


@pytest.mark.parametrize("kind", ["county", "institution"])
@pytest.mark.parametrize("level", ["city", "province"])
async def test_the_official_sheet_has_exactly_the_seed_s_columns(flow: Flow, kind: str, level: str) -> None:
    batch = await flow.batch()
    contacts: dict[str, Any] = {
        "head_name": "陈局长" if kind == "county" else "王院长",
        "head_phone": "0592-6012345",
        "contact_name": "林科长",
        "contact_phone": "13800000000",
        "postal_address": "厦门市湖里区湖里大道 1 号",
        "postal_code": "361006",
    }
    if kind == "county":
        application = await flow.apply_county(batch["id"], **contacts)
    else:
        application = await flow.apply_institution(batch["id"], await flow.institution(), **contacts)
    await flow.drive(application, "city_recommended")
    params = {"level": level, "kind": kind}
    if level == "city":
        params["city_code"] = "350200"
    sheet = await _official(flow, batch["id"], flow.province(), **params)

    header_row = _header_row(sheet)
    assert [c.value for c in sheet[header_row]] == seed_headers()[kind]
    title = "全国医养结合示范县（市、区）推荐汇总表" if kind == "county" else "全国医养结合示范机构推荐汇总表"
    assert sheet["A1"].value == title
    unit = "厦门市卫生健康委" if level == "city" else "福建省卫生健康委员会"
    assert sheet["A2"].value == f"推荐单位：{unit}（加盖公章）"
    rows = list(sheet.iter_rows(min_row=header_row + 1, values_only=True))
    assert rows == [
        (
            1,
            application["applicant_name"],
            contacts["head_name"],
            "0592-6012345",
            "林科长",
            "13800000000",
            "厦门市湖里区湖里大道 1 号 361006",
        )
    ]


async def test_a_bad_postcode_or_phone_is_refused_with_field_errors(flow: Flow) -> None:
    batch = await flow.batch()
    flow.clock.today = ON_APPLICATION
    response = await flow.client.post(
        APPLICATIONS,
        json={"batch_id": batch["id"], "kind": "county", "postal_code": "36100", "head_phone": "12345"},
        headers=flow.county(),
    )
    assert response.status_code == 422, response.text
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"body.postal_code", "body.head_phone"} <= fields
