"""Issue 11, homecare: hostile input answers a 4xx problem with a stable code and the field, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.homecare.catalog.test_router import _csv, _file_rows, _publish
from tests.homecare.world import HC, World

PROBLEM = "application/problem+json"
REPORTS = ("satisfaction", "response-times", "orders", "complaints", "home-beds")


def field_codes(response: httpx.Response) -> dict[str, str]:
    assert response.headers["content-type"].startswith(PROBLEM), response.text
    return {e["field"]: e["code"] for e in response.json().get("errors", [])}


@pytest.mark.parametrize("report", REPORTS)
@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"from": "0001-01-01"}, "query.from", "date_out_of_range"),
        ({"to": "9999-12-31"}, "query.to", "date_out_of_range"),
        ({"to": "0"}, "query.to", "date_format"),
        ({"from": "1700000000"}, "query.from", "date_format"),
    ],
)
async def test_a_report_period_outside_the_business_dates_is_a_422(
    world: World, report: str, params: dict[str, str], field: str, code: str
) -> None:
    response = await world.client.get(f"{HC}/reports/{report}", params=params, headers=world.province())
    assert response.status_code == 422, response.text
    assert field_codes(response) == {field: code}


async def test_a_control_character_in_a_recipient_name_is_a_422_naming_the_field(world: World) -> None:
    inst = await world.institution()
    body = world.recipient_body(name="王\x00芳", address="厦门市湖里区\x0b金山街道")
    response = await world.client.post(f"{HC}/recipients", json=body, headers=world.admin(inst))
    assert response.status_code == 422, response.text
    assert field_codes(response) == {"body.name": "control_character", "body.address": "control_character"}


async def test_a_catalog_row_with_a_control_character_is_reported_by_row_and_field(world: World) -> None:
    rows = _file_rows()
    rows[1]["name"] = "鼻饲\x1b管护理"
    response = await _publish(world, "hostile-1", _csv(rows))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "catalog_file_invalid"
    assert field_codes(response) == {"file.row3.name": "control_character"}


async def test_a_catalog_cell_over_the_csv_field_limit_is_a_422_naming_the_row(world: World) -> None:
    rows = _file_rows()
    rows[1]["name"] = "护" * 140_000
    response = await _publish(world, "hostile-2", _csv(rows))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "catalog_file_invalid"
    assert field_codes(response) == {"file.row3": "csv_row_unreadable"}


async def test_a_control_character_in_the_catalog_version_source_is_a_422_naming_the_field(
    world: World,
) -> None:
    response = await world.client.post(
        f"{HC}/catalog/versions",
        data={"code": "hostile-3", "source": "闽卫医政\x0b〔2027〕1号"},
        files={"file": ("official.csv", _csv(_file_rows()), "text/csv")},
        headers=world.province(),
    )
    assert response.status_code == 422, response.text
    assert field_codes(response) == {"body.source": "control_character"}
