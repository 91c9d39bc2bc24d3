"""Building the XLSX files the officials upload, and reading the ones the service exports."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import httpx
from openpyxl import Workbook, load_workbook

from libs.common.auth import Role
from libs.common.testing import Tokens

BASE = "/api/v1/indicators"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
POPULATION_HEADERS = ["区划代码", "年份", "常住人口", "65岁及以上人口", "来源"]
TARGET_HEADERS = ["指标代码", "区域", "逐县评价", "比较", "目标值", "截止日期", "来源"]


def xlsx(
    sheet: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], *, extra_sheets: int = 0
) -> bytes:
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    first.title = sheet
    first.append(list(headers))
    for row in rows:
        first.append(list(row))
        for cell in first[first.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a text that looks like a formula, as a user may type it
    for n in range(extra_sheets):
        workbook.create_sheet(f"说明{n}")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def population_file(rows: Sequence[Sequence[Any]], *, headers: Sequence[str] = POPULATION_HEADERS) -> bytes:
    return xlsx("常住人口", headers, rows)


def targets_file(rows: Sequence[Sequence[Any]], *, headers: Sequence[str] = TARGET_HEADERS) -> bytes:
    return xlsx("指标目标", headers, rows)


def sheet_rows(content: bytes) -> tuple[str, list[list[Any]]]:
    """(sheet name, rows) of an exported file, values as stored."""
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    return sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)]


def admin(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(Role.province_admin, "350000", sub="prov_admin")


async def upload(
    client: httpx.AsyncClient, tokens: Tokens, dataset: str, content: bytes, *, name: str = "data.xlsx"
) -> httpx.Response:
    return await client.post(
        f"{BASE}/{dataset}/import", files={"file": (name, content, XLSX)}, headers=admin(tokens)
    )


async def listing(client: httpx.AsyncClient, tokens: Tokens, dataset: str, **params: Any) -> dict[str, Any]:
    """Every row of a table (following the pages), as the province admin reads it, and its version."""
    headers = params.pop("headers", None) or admin(tokens)
    items: list[Any] = []
    cursor = None
    while True:
        query = {**params, "limit": 50, **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"{BASE}/{dataset}", params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return {"items": items, "version": body["version"]}
