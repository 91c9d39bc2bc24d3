"""Issue 11, registry: hostile input answers a 4xx problem naming the field, never a 500, and every
export writes whatever is stored, safely (control characters dropped, formulas neutralised)."""

from __future__ import annotations

import csv
import io
import uuid

import httpx
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from sqlalchemy import update

from libs.common.auth import Role
from libs.common.testing import Tokens
from services.registry.institutions.models import Institution
from tests.registry.factories import INSTITUTIONS, create_institution, institution_body
from tests.registry.institutions.test_spreadsheet import EXPORT, as_csv, county, row, upload

PROBLEM = "application/problem+json"


def field_codes(response: httpx.Response) -> dict[str, str]:
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    return {e["field"]: e["code"] for e in response.json().get("errors", [])}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("address", "厦门市湖里区\x0b华荣路1号"),
        ("name", "\x00\x00"),
        ("name", "莲花\x1b护理院"),
        ("contact_name", "张\u0085三"),
    ],
)
async def test_a_control_character_in_a_created_institution_is_a_422_naming_the_field(
    client: httpx.AsyncClient, tokens: Tokens, field: str, value: str
) -> None:
    body = institution_body(**{field: value})
    response = await client.post(INSTITUTIONS, json=body, headers=county(tokens))
    assert response.status_code == 422, response.text
    assert field_codes(response) == {f"body.{field}": "control_character"}


async def test_a_patch_with_a_control_character_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    created = await create_institution(client, tokens)
    url = f"{INSTITUTIONS}/{created['id']}"
    response = await client.patch(
        url,
        json={"address": "厦门市\x0b湖里区"},
        headers={**county(tokens), "If-Match": f'"{created["version"]}"'},
    )
    assert response.status_code == 422, response.text
    assert field_codes(response) == {"body.address": "control_character"}
    assert (await client.get(url, headers=county(tokens))).json()["address"] == created["address"]


async def test_an_imported_row_with_a_control_character_is_reported_by_row_and_field(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    content = as_csv([row("控制字符导入甲"), row("控制字符导入乙", 地址="厦门市\x0b湖里区")])
    response = await upload(client, county(tokens), content, "rows.csv")
    assert response.status_code == 422, response.text
    assert field_codes(response) == {"rows.3.address": "control_character"}


async def test_a_csv_cell_over_the_csv_field_limit_is_a_422_naming_the_row(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    content = as_csv([row("超长单元格甲"), row("超长单元格乙", 地址="厦" * 140_000)])
    response = await upload(client, county(tokens), content, "huge.csv")
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "csv_row_unreadable"
    assert field_codes(response) == {"rows.3": "csv_row_unreadable"}


@pytest.mark.parametrize(
    "params",
    [
        {"beds_medical_min": "99999999999999999999999"},
        {"beds_elderly_care_max": str(2**63)},
        {"operating_since_to": "0"},
        {"operating_since_from": "9999-12-31"},
        {"operating_since_from": "0001-01-01"},
        {"q": "莲花\x00"},
    ],
)
async def test_out_of_range_list_filters_are_a_422(
    client: httpx.AsyncClient, tokens: Tokens, params: dict[str, str]
) -> None:
    response = await client.get(INSTITUTIONS, params=params, headers=tokens.headers(Role.province_admin))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"
    assert list(field_codes(response)) == [f"query.{next(iter(params))}"]


@pytest.mark.parametrize("operating_since", ["9999-01-01", "1899-12-31", 0])
async def test_an_operating_date_outside_1900_to_2100_is_a_422(
    client: httpx.AsyncClient, tokens: Tokens, operating_since: object
) -> None:
    body = institution_body(operating_since=operating_since)
    response = await client.post(INSTITUTIONS, json=body, headers=county(tokens))
    assert response.status_code == 422, response.text
    assert list(field_codes(response)) == ["body.operating_since"]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
async def test_export_writes_values_stored_before_the_check_and_neutralises_formulas(
    client: httpx.AsyncClient, registry_app: FastAPI, tokens: Tokens, fmt: str
) -> None:
    created = await create_institution(client, tokens, name="导出净化护理院")
    # written straight to the table, as rows stored before text fields refused control characters
    # (no NUL: PostgreSQL text cannot hold one)
    async with registry_app.state.database.session() as session:
        await session.execute(
            update(Institution)
            .where(Institution.id == uuid.UUID(created["id"]))
            .values(
                address="厦门市\x0b湖里区\x01华荣路\x1f1号",
                legal_person='=HYPERLINK("http://x")',
                contact_name="@SUM(1+1)",
            )
        )
        await session.commit()
    response = await client.get(
        EXPORT, params={"format": fmt, "q": "导出净化"}, headers=tokens.headers(Role.province_admin)
    )
    assert response.status_code == 200, response.text
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
        table = [list(r) for r in sheet.iter_rows(values_only=True)]
    else:
        table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, values = table[0], dict(zip(table[0], table[1], strict=True))
    assert len(table) == 2, header
    assert values["地址"] == "厦门市湖里区华荣路1号"
    assert values["法定代表人"] == '\'=HYPERLINK("http://x")'
    assert values["联系人"] == "'@SUM(1+1)"
