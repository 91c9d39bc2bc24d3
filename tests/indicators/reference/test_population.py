"""The population table (indicators.md, Population): resident and 65+ population per county-level division
and year, each row with its source; XLSX in and out, all or nothing, versioned."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.database import session_scope
from libs.common.models import AuditRecord
from libs.common.testing import Tokens
from services.indicators.rebuild import clear
from services.indicators.reference.service import PopulationRow, population
from tests.indicators.reference.conftest import MAX_BYTES, MAX_ROWS
from tests.indicators.reference.helpers import (
    BASE,
    admin,
    listing,
    population_file,
    sheet_rows,
    upload,
    xlsx,
)

ROWS = [
    ["350206", 2024, 1_100_000, 88_000, "福建省统计年鉴2024"],
    ["350203", 2024, 1_050_000, 105_000, "福建省统计年鉴2024"],
    ["350128", 2024, 360_000, 36_000, "平潭统计公报2024"],  # 平潭: a county code, a city-level unit
    ["350102", 2024, 680_000, 82_000, "福建省统计年鉴2024"],
    ["350206", 2023, 1_080_000, 84_000, "福建省统计年鉴2023"],
]


def as_json(row: list[Any]) -> dict[str, Any]:
    code, year, residents, aged, source = row
    return {"region_code": code, "year": year, "residents": residents, "aged_65_plus": aged, "source": source}


def without_names(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k != "region_name"} for item in items]


def by_key(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(without_names(items), key=lambda i: (i["region_code"], i["year"]))


async def test_a_load_is_read_back_as_json_and_the_export_imports_back_unchanged(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    response = await upload(client, tokens, "population", population_file(ROWS), name="人口2024.xlsx")
    assert response.status_code == 201, response.text
    first = response.json()
    assert first["row_count"] == len(ROWS)
    assert first["current"] is True
    assert first["filename"] == "人口2024.xlsx"

    table = await listing(client, tokens, "population")
    assert by_key(table["items"]) == by_key([as_json(r) for r in ROWS])
    assert table["version"]["number"] == first["number"]
    names = {i["region_code"]: i["region_name"] for i in table["items"]}
    assert names["350128"] == "平潭县"
    assert names["350206"] == "湖里区"

    exported = await client.get(f"{BASE}/population/export", headers=admin(tokens))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet, rows = sheet_rows(exported.content)
    assert sheet == "常住人口"
    assert rows[0] == ["区划代码", "区划名称", "年份", "常住人口", "65岁及以上人口", "来源"]
    assert len(rows) == len(ROWS) + 1

    again = await upload(client, tokens, "population", exported.content)
    assert again.status_code == 201, again.text
    assert again.json()["number"] == first["number"] + 1
    reread = await listing(client, tokens, "population")
    assert reread["version"]["number"] == first["number"] + 1
    assert reread["items"] == table["items"]


async def test_the_reports_read_the_current_version_by_county_for_a_year(
    client: httpx.AsyncClient, reference_app: FastAPI, tokens: Tokens
) -> None:
    assert (await upload(client, tokens, "population", population_file(ROWS[:2]))).status_code == 201
    assert (await upload(client, tokens, "population", population_file(ROWS[2:]))).status_code == 201
    async with session_scope(reference_app.state.database, write=False) as session:
        rows_2024 = await population(session, 2024)
        rows_2023 = await population(session, 2023)
        rows_2019 = await population(session, 2019)
    # the second load replaced the first: 思明 (only in the first) is gone
    assert rows_2024 == {
        "350128": PopulationRow("350128", 2024, 360_000, 36_000, "平潭统计公报2024"),
        "350102": PopulationRow("350102", 2024, 680_000, 82_000, "福建省统计年鉴2024"),
    }
    assert set(rows_2023) == {"350206"}
    assert rows_2019 == {}


async def test_versions_list_who_loaded_when_how_many_rows_and_the_sources_and_old_ones_stay_readable(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    before = (await client.get(f"{BASE}/population/versions", headers=admin(tokens))).json()["items"]
    first = (await upload(client, tokens, "population", population_file(ROWS))).json()
    second = (await upload(client, tokens, "population", population_file(ROWS[:1]))).json()
    assert second["number"] == first["number"] + 1

    versions = (await client.get(f"{BASE}/population/versions", headers=admin(tokens))).json()["items"]
    assert len(versions) == len(before) + 2
    newest, previous = versions[0], versions[1]
    assert newest["number"] == second["number"]
    assert newest["current"] is True
    assert previous["number"] == first["number"]
    assert previous["current"] is False
    assert previous["loaded_by"] == "prov_admin"
    assert previous["loaded_by_role"] == "province_admin"
    assert previous["row_count"] == 5
    assert previous["sources"] == [
        {"source": "福建省统计年鉴2024", "rows": 3},
        {"source": "平潭统计公报2024", "rows": 1},
        {"source": "福建省统计年鉴2023", "rows": 1},
    ]

    current = await listing(client, tokens, "population")
    assert len(current["items"]) == 1
    old = await listing(client, tokens, "population", version=first["number"])
    assert old["version"]["number"] == first["number"]
    assert old["version"]["current"] is False
    assert by_key(old["items"]) == by_key([as_json(r) for r in ROWS])

    missing = await client.get(
        f"{BASE}/population", params={"version": second["number"] + 5}, headers=admin(tokens)
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "version_not_found"


async def test_a_load_is_audited(client: httpx.AsyncClient, reference_app: FastAPI, tokens: Tokens) -> None:
    version = (await upload(client, tokens, "population", population_file(ROWS))).json()
    async with session_scope(reference_app.state.database, write=False) as session:
        records = (
            await session.scalars(
                select(AuditRecord).where(AuditRecord.action == "reference.population.load")
            )
        ).all()
    mine = [r for r in records if r.changes and r.changes.get("number") == version["number"]]
    assert len(mine) == 1
    assert mine[0].actor_sub == "prov_admin"
    assert mine[0].changes is not None
    assert mine[0].changes["rows"] == len(ROWS)


async def test_the_json_list_is_paginated_and_filtered(client: httpx.AsyncClient, tokens: Tokens) -> None:
    await upload(client, tokens, "population", population_file(ROWS))
    page = (await client.get(f"{BASE}/population", params={"limit": 2}, headers=admin(tokens))).json()
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    assert {i["year"] for i in (await listing(client, tokens, "population", year=2023))["items"]} == {2023}
    xiamen = (await listing(client, tokens, "population", region="350200"))["items"]
    assert {i["region_code"] for i in xiamen} == {"350206", "350203"}
    fuzhou = (await listing(client, tokens, "population", region="350100"))["items"]
    assert {i["region_code"] for i in fuzhou} == {"350102"}  # 平潭 is not in 福州's region
    unknown = await client.get(f"{BASE}/population", params={"region": "359999"}, headers=admin(tokens))
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_region"


async def test_formulas_in_a_source_are_neutralised_on_export_and_read_back_as_written(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    formula = '=HYPERLINK("http://evil.example","年鉴")'
    await upload(client, tokens, "population", population_file([["350206", 2024, 1000, 100, formula]]))
    exported = await client.get(f"{BASE}/population/export", headers=admin(tokens))
    _sheet, rows = sheet_rows(exported.content)
    assert rows[1][5] == "'" + formula
    assert (await upload(client, tokens, "population", exported.content)).status_code == 201
    assert (await listing(client, tokens, "population"))["items"][0]["source"] == formula


# ------------------------------------------------------------------------------------------ errors

GOOD = ["350206", 2024, 1_100_000, 88_000, "福建省统计年鉴2024"]


@pytest.mark.parametrize(
    ("bad", "column", "code"),
    [
        (["359999", 2024, 1000, 100, "x"], "区划代码", "unknown_region"),  # no such division
        (["350200", 2024, 1000, 100, "x"], "区划代码", "unknown_region"),  # a city, not a county
        (["350000", 2024, 1000, 100, "x"], "区划代码", "unknown_region"),  # the province
        (["湖里", 2024, 1000, 100, "x"], "区划代码", "unknown_region"),
        (["350203", 2024, -1000, 100, "x"], "常住人口", "negative_number"),
        (["350203", 2024, 1000, -1, "x"], "65岁及以上人口", "negative_number"),
        (["350203", 2024, 1000, 1001, "x"], "65岁及以上人口", "aged_exceeds_residents"),
        (["350203", 2024, "很多", 100, "x"], "常住人口", "invalid_cell"),
        (["350203", 2024, 1000.5, 100, "x"], "常住人口", "invalid_cell"),
        (["350203", 2024, 10**15, 100, "x"], "常住人口", "number_too_large"),
        (["350203", 1850, 1000, 100, "x"], "年份", "year_out_of_range"),
        (["350203", 2024, 1000, 100, None], "来源", "required"),
        (["350203", 2024, 1000, 100, "x" * 201], "来源", "too_long"),
        (GOOD, "区划代码", "duplicate_in_batch"),  # the same county and year twice
    ],
)
async def test_one_bad_row_rejects_the_whole_file_naming_row_column_and_code(
    client: httpx.AsyncClient, tokens: Tokens, bad: list[Any], column: str, code: str
) -> None:
    await upload(client, tokens, "population", population_file([["350102", 2024, 5, 1, "v1"]]))
    before = await listing(client, tokens, "population")

    response = await upload(
        client, tokens, "population", population_file([GOOD, ["350128", 2024, 9, 1, "y"], bad])
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "import_rejected"
    assert problem["extra"]["rejected_lines"] == [4]  # the header is line 1
    assert [(r["line"], r["column"], r["code"]) for r in problem["extra"]["rows"]] == [(4, column, code)]
    assert problem["errors"][0]["field"].startswith("rows.4.")
    assert problem["errors"][0]["code"] == code
    # nothing written: the good rows are not loaded, the version is the one before
    assert await listing(client, tokens, "population") == before


async def test_every_bad_row_is_reported_not_only_the_first(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    rows = [GOOD, ["350203", 2024, 10, 11, "x"], ["350128", 2024, 10, 1, "x"], ["3502", 2024, -1, 1, "x"]]
    problem = (await upload(client, tokens, "population", population_file(rows))).json()
    assert problem["extra"]["rejected_lines"] == [3, 5]
    assert {(r["line"], r["code"]) for r in problem["extra"]["rows"]} == {
        (3, "aged_exceeds_residents"),
        (5, "unknown_region"),
        (5, "negative_number"),
    }


async def test_the_file_as_a_whole_is_refused_with_its_code_and_nothing_written(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    await upload(client, tokens, "population", population_file([["350102", 2024, 5, 1, "v1"]]))
    before = await listing(client, tokens, "population")
    cases: list[tuple[bytes, str]] = [
        (population_file([GOOD], headers=["区划代码", "年份", "常住人口", "来源"]), "missing_headers"),
        (xlsx("Sheet1", ["区划代码", "年份", "常住人口", "65岁及以上人口", "来源"], [GOOD]), "wrong_sheet"),
        (xlsx("指标目标", ["指标代码"], [["agreement_coverage"]]), "wrong_sheet"),
        (b"PK\x03\x04 not really a workbook", "unreadable_file"),
        (population_file([]), "empty_import"),
        (os.urandom(MAX_BYTES + 1), "file_too_large"),
        (
            population_file([["350206", 2000 + n % 100, 10, 1, "x"] for n in range(MAX_ROWS + 1)]),
            "batch_too_large",
        ),
    ]
    for content, code in cases:
        response = await upload(client, tokens, "population", content)
        assert response.status_code == 422, (code, response.text)
        assert response.json()["code"] == code
    missing = await upload(
        client,
        tokens,
        "population",
        population_file([GOOD], headers=["区划代码", "年份", "常住人口", "来源"]),
    )
    assert missing.json()["extra"]["missing"] == ["65岁及以上人口"]
    assert await listing(client, tokens, "population") == before


async def test_at_the_row_cap_a_file_still_loads(client: httpx.AsyncClient, tokens: Tokens) -> None:
    counties = ["350102", "350103", "350104"]
    rows = [[counties[n % 3], 2000 + n // 3, 10, 1, "x"] for n in range(MAX_ROWS)]
    response = await upload(client, tokens, "population", population_file(rows))
    assert response.status_code == 201, response.text
    assert response.json()["row_count"] == MAX_ROWS


async def test_a_rebuild_of_the_read_model_keeps_the_reference_tables(
    client: httpx.AsyncClient, reference_app: FastAPI, tokens: Tokens
) -> None:
    await upload(client, tokens, "population", population_file(ROWS))
    before = await listing(client, tokens, "population")
    await clear(reference_app.state.database)  # what python -m services.indicators.rebuild does first
    assert await listing(client, tokens, "population") == before
