from __future__ import annotations

import csv
import io
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import Workbook, load_workbook

from libs.common.auth import Role
from libs.common.testing import Tokens
from services.registry.institutions.spreadsheet import EXPORT_COLUMNS
from tests.registry.factories import INSTITUTIONS, create_institution, hospital_body, unique_uscc

IMPORT, EXPORT = f"{INSTITUTIONS}/import", f"{INSTITUTIONS}/export"
HEADERS = [
    "机构名称",
    "统一社会信用代码",
    "机构类别",
    "机构细类",
    "养老机构性质",
    "行政区划代码",
    "地址",
    "经度",
    "纬度",
    "开业日期",
    "养老床位",
    "入住人数",
    "轻度失能人数",
    "失智人数",
    "老年人绿色通道",
    "联系电话",
]


def row(name: str, **overrides: Any) -> list[Any]:
    values = {
        "机构名称": name,
        "统一社会信用代码": unique_uscc(),
        "机构类别": "养老机构",
        "机构细类": "养老机构",
        "养老机构性质": "民办",
        "行政区划代码": "350206",
        "地址": "厦门市湖里区导入路1号",
        "经度": 118.1,
        "纬度": 24.5,
        "开业日期": "2016-03-01",
        "养老床位": 100,
        "入住人数": 60,
        "轻度失能人数": 20,
        "失智人数": 5,
        "老年人绿色通道": "否",
        "联系电话": "0592-5551234",
    }
    values.update(overrides)
    return [values[h] for h in HEADERS]


def as_csv(rows: list[list[Any]], headers: list[str] = HEADERS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def as_xlsx(rows: list[list[Any]], headers: list[str] = HEADERS) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(headers)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def county(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(Role.county_admin, "350206")


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], content: bytes, name: str, **params: str
) -> httpx.Response:
    return await client.post(IMPORT, files={"file": (name, content)}, params=params, headers=headers)


async def count_named(client: httpx.AsyncClient, tokens: Tokens, q: str) -> int:
    response = await client.get(
        INSTITUTIONS, params={"q": q, "limit": 200}, headers=tokens.headers(Role.province_admin)
    )
    return len(response.json()["items"])


async def test_import_with_bad_rows_reports_every_one_and_writes_nothing(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    rows = [
        row("导入测试甲"),
        row("导入测试乙", 统一社会信用代码="91350200MA00000000"),
        row("导入测试丙", 机构细类="医院"),
        row("导入测试丁", 行政区划代码="350203"),
        row("导入测试戊", 养老床位="很多"),
        row("导入测试己"),
    ]
    response = await upload(client, county(tokens), as_csv(rows), "list.csv")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "import_rejected"
    assert body["extra"]["rejected_lines"] == [3, 4, 5, 6]
    fields = {e["field"] for e in body["errors"]}
    assert {"rows.3.uscc", "rows.5.region_code", "rows.6.beds_elderly_care"} <= fields
    assert any(e["field"] == "rows.4" and "不属于" in e["message"] for e in body["errors"])
    # the bad rows' results in the bulk answer's shape, with their line; nothing was written, so no other
    results = body["extra"]["results"]
    assert [(r["line"], r["outcome"], r["id"]) for r in results] == [
        (3, "rejected", None),
        (4, "rejected", None),
        (5, "rejected", None),
        (6, "rejected", None),
    ]
    by_line = {r["line"]: r for r in results}
    # an error of the whole row is named by the row, as the bulk protocol names a whole record records.<i>
    assert [e["field"] for e in by_line[4]["errors"]] == ["rows.4"]
    assert by_line[5]["code"] == "out_of_scope"  # another county's institution: the single write's code
    assert by_line[6]["code"] == "validation_failed"  # a cell that is not a number
    assert by_line[6]["errors"][0]["field"] == "rows.6.beds_elderly_care"
    assert all(e["field"].startswith(f"rows.{r['line']}") for r in results for e in r["errors"])
    assert await count_named(client, tokens, "导入测试") == 0


async def test_partial_import_writes_the_good_rows_and_returns_the_rejected(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    rows = [row("部分导入甲"), row("部分导入乙", 机构类别="不知道"), row("部分导入丙")]
    response = await upload(client, county(tokens), as_xlsx(rows), "list.xlsx", mode="partial")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "partial"
    assert body["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 1}
    # one result per data row, in file order (the header is line 1), as every bulk answer
    results = body["results"]
    assert [(r["index"], r["line"], r["outcome"]) for r in results] == [
        (0, 2, "created"),
        (1, 3, "rejected"),
        (2, 4, "created"),
    ]
    assert all(r["id"] and r["version"] == 1 for r in (results[0], results[2]))
    rejected = results[1]
    assert (rejected["id"], rejected["version"], rejected["code"]) == (None, None, "validation_failed")
    assert "机构类别" in rejected["errors"][0]["message"]
    assert rejected["errors"][0]["field"].startswith("rows.3.")
    created = await client.get(f"{INSTITUTIONS}/{results[0]['id']}", headers=county(tokens))
    assert created.json()["name"] == "部分导入甲"
    assert await count_named(client, tokens, "部分导入") == 2


async def test_reimporting_updates_matched_rows(client: httpx.AsyncClient, tokens: Tokens) -> None:
    first = row("重复导入甲")
    await upload(client, county(tokens), as_csv([first]), "a.csv")
    changed = list(first)
    changed[HEADERS.index("养老床位")] = 150
    again = await upload(client, county(tokens), as_csv([changed, first]), "b.csv", mode="partial")
    body = again.json()
    assert (body["counts"]["updated"], body["counts"]["rejected"]) == (1, 1)
    # the second row repeats the first's key: the bulk protocol's code
    assert [(r["outcome"], r["code"]) for r in body["results"]] == [
        ("updated", None),
        ("rejected", "duplicate_in_batch"),
    ]
    assert body["results"][0]["version"] == 2
    same = await upload(client, county(tokens), as_csv([changed]), "c.csv")
    assert same.json()["counts"]["unchanged"] == 1
    assert same.json()["results"][0]["outcome"] == "unchanged"


async def test_more_rows_than_import_max_rows_is_422_batch_too_large(
    client: httpx.AsyncClient, tokens: Tokens, registry_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_app.state.settings, "import_max_rows", 2)
    response = await upload(client, county(tokens), as_csv([row(f"超限导入{i}") for i in range(3)]), "a.csv")
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["extra"]["max_records"]) == ("batch_too_large", 2)
    assert await count_named(client, tokens, "超限导入") == 0
    fits = await upload(client, county(tokens), as_csv([row(f"超限导入{i}") for i in range(2)]), "b.csv")
    assert fits.json()["counts"]["created"] == 2


async def test_missing_headers_or_unknown_format_is_422(client: httpx.AsyncClient, tokens: Tokens) -> None:
    missing = await upload(client, county(tokens), as_csv([["x"]], headers=["名称"]), "a.csv")
    assert missing.status_code == 422
    assert "机构名称" in missing.json()["detail"]
    wrong = await upload(client, county(tokens), b"%PDF-1.4", "a.pdf")
    assert wrong.json()["code"] == "unreadable_file"
    broken = await upload(client, county(tokens), b"not a zip", "a.xlsx")
    assert broken.json()["code"] == "unreadable_file"


@pytest.mark.parametrize(
    ("role", "region", "status"), [(Role.city_admin, "350200", 403), (Role.institution_admin, "350206", 403)]
)
async def test_import_permission(
    client: httpx.AsyncClient, tokens: Tokens, role: Role, region: str, status: int
) -> None:
    response = await upload(client, tokens.headers(role, region), as_csv([row("权限测试")]), "a.csv")
    assert response.status_code == status


async def test_five_thousand_rows_import_in_one_request(client: httpx.AsyncClient, tokens: Tokens) -> None:
    counties = ["350102", "350206", "350582", "350702", "350902"]
    rows = [
        row(
            f"批量导入机构{i:05d}",
            行政区划代码=counties[i % 5],
            统一社会信用代码=unique_uscc(counties[i % 5]),
        )
        for i in range(5000)
    ]
    content = as_xlsx(rows)
    started = time.perf_counter()
    response = await upload(client, tokens.headers(Role.province_admin), content, "big.xlsx")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text[:500]
    assert response.json()["counts"]["created"] == 5000
    assert len(response.json()["results"]) == 5000
    print(f"5,000-row XLSX import: {elapsed:.2f}s")  # a figure, not an assertion (benchmarks are not tests)
    stats = await client.get(
        "/api/v1/registry/stats", params={"group_by": "county"}, headers=tokens.headers(Role.province_admin)
    )
    by_code = {g["region_code"]: g for g in stats.json()["groups"]}
    assert by_code["350582"]["institutions"] >= 1000


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
async def test_export_round_trip(client: httpx.AsyncClient, tokens: Tokens, fmt: str) -> None:
    hospital = await create_institution(client, tokens, hospital_body(name="导出往返医院", tcm_hall=True))
    await create_institution(client, tokens, name="导出往返护理院", operating_since="2012-01-31")
    headers = county(tokens)
    exported = await client.get(EXPORT, params={"format": fmt, "q": "导出往返"}, headers=headers)
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(exported.content), read_only=True).worksheets[0]
        table = [list(r) for r in sheet.iter_rows(values_only=True)]
    else:
        table = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert table[0] == [c.header for c in EXPORT_COLUMNS]
    records = {r[0]: dict(zip(table[0], r, strict=True)) for r in table[1:]}
    h = records["导出往返医院"]
    assert h["机构类别"] == "医疗机构"
    assert h["医院等级"] == "二级"
    assert h["统一社会信用代码"] == hospital["uscc"]
    assert h["中医馆"] == "是"
    assert h["全国示范机构年份"] in (None, "")  # exported for reading; only the naming step writes it
    assert h["所在县（市、区）"] == "湖里区"
    assert "联系电话" not in h  # personal data is not exported
    # importing the file back changes nothing
    back = await upload(client, headers, exported.content, f"back.{fmt}")
    assert back.status_code == 200, back.text
    assert back.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}


async def test_export_is_scoped(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await create_institution(client, tokens, name="导出范围护理院")
    other = await client.get(
        EXPORT, params={"format": "csv", "q": "导出范围"}, headers=tokens.headers(Role.county_admin, "350203")
    )
    assert len(list(csv.reader(io.StringIO(other.content.decode("utf-8-sig"))))) == 1  # header only
