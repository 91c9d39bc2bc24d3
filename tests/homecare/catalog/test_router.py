from __future__ import annotations

import csv
import io
from pathlib import Path

import httpx
from openpyxl import Workbook

from tests.homecare.world import HC, World, crew

DATA = Path(__file__).resolve().parents[3] / "services" / "homecare" / "data" / "nursing_catalog_inferred.csv"


def _file_rows() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _official_rows() -> list[dict[str, str]]:
    rows = []
    for row in _file_rows()[:30]:
        rows.append({**row, "source": "official", "price_min_yuan": "50", "price_max_yuan": "120"})
    rows[0]["name"] = "生命体征监测（正式）"
    return rows


async def _publish(world: World, code: str, data: bytes, filename: str = "official.csv") -> httpx.Response:
    return await world.client.post(
        f"{HC}/catalog/versions",
        data={"code": code, "source": "闽卫医政〔2027〕1号"},
        files={"file": (filename, data, "text/csv")},
        headers=world.province(),
    )


async def test_catalog_has_exactly_the_39_items_of_the_file_as_inferred_1(world: World) -> None:
    response = await world.client.get(f"{HC}/catalog", headers=world.county())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"]["code"] == "inferred-1"
    assert "nursing_catalog_inferred.csv" in body["version"]["source"]
    assert body["is_current"] is True
    expected = {r["code"]: r for r in _file_rows()}
    assert len(body["items"]) == 39 == len(expected)
    for item in body["items"]:
        row = expected[item["code"]]
        assert item["name"] == row["name"]
        assert item["category"] == row["category"]
        assert item["risk"] == row["risk"]
        assert item["needs_medical_order"] == (row["needs_medical_order"] == "true")
        assert item["needs_specialist_training"] == (row["needs_specialist_training"] == "true")
        assert item["source"] == "inferred"
        assert item["price_min_yuan"] is None
        assert item["price_max_yuan"] is None


async def test_second_version_imports_without_changing_past_orders(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"], items=["HC01"])
    published = await _publish(world, "official-2027", _csv(_official_rows()))
    assert published.status_code == 201, published.text
    assert published.json()["version"]["item_count"] == 30
    current = (await world.client.get(f"{HC}/catalog", headers=world.county())).json()
    assert current["version"]["code"] == "official-2027"
    assert current["items"][0]["name"] == "生命体征监测（正式）"
    old = (await world.client.get(f"{HC}/catalog?version=inferred-1", headers=world.county())).json()
    assert len(old["items"]) == 39
    assert old["is_current"] is False

    after = (await world.client.get(f"{HC}/orders/{order['id']}", headers=world.county())).json()
    assert after["catalog_version_code"] == "inferred-1"
    assert after["items"] == order["items"]
    assert after["items"][0]["item_name"] == "生命体征监测"
    assert after["fees"] == order["fees"]


async def test_import_of_an_xlsx_file_publishes_a_version(world: World) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    rows = _official_rows()
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = await _publish(world, "official-xlsx", buffer.getvalue(), "catalog.xlsx")
    assert response.status_code == 201, response.text
    assert response.json()["version"]["item_count"] == 30


async def test_an_invalid_file_publishes_nothing_and_names_every_bad_cell(world: World) -> None:
    rows = _official_rows()
    rows[3]["risk"] = "extreme"
    rows[5]["price_min_yuan"] = "300"
    rows[7]["code"] = rows[8]["code"]
    response = await _publish(world, "broken", _csv(rows))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "catalog_file_invalid"
    fields = {e["field"] for e in body["errors"]}
    assert "file.row5.risk" in fields
    assert any(f.startswith("file.row7") for f in fields)
    assert any(f.startswith("file.code.") for f in fields)
    versions = (await world.client.get(f"{HC}/catalog/versions", headers=world.province())).json()
    assert [v["code"] for v in versions] == ["inferred-1"]


async def test_a_file_missing_required_columns_is_refused(world: World) -> None:
    response = await _publish(world, "nocols", b"code,name\nX1,foo\n")
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} >= {"file.columns.risk", "file.columns.category"}


async def test_publishing_an_existing_version_code_conflicts(world: World) -> None:
    response = await _publish(world, "inferred-1", _csv(_official_rows()))
    assert response.status_code == 409
    assert response.json()["code"] == "catalog_version_exists"


async def test_only_the_province_publishes(world: World) -> None:
    response = await world.client.post(
        f"{HC}/catalog/versions",
        data={"code": "x", "source": "xx"},
        files={"file": ("a.csv", _csv(_official_rows()), "text/csv")},
        headers=world.city(),
    )
    assert response.status_code == 403
