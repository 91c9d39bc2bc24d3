"""The national 示范 year of an institution is written only by the province's naming step
(issue 11, finding 10): no input path of the institution API takes it — create, PATCH, the city
platforms' bulk upsert refuse it with 422 ``demonstration_year_read_only``; the spreadsheet import
ignores its column (the export shows it for reading). It stays readable."""

from __future__ import annotations

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.registry.factories import INSTITUTIONS, create_institution, institution_body
from tests.registry.institutions.test_spreadsheet import HEADERS, as_csv, as_xlsx, county, row, upload

CODE = "demonstration_year_read_only"


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert CODE in {e["code"] for e in response.json()["errors"]}


async def test_create_refuses_the_national_demonstration_year(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    body = institution_body(name="自封示范护理院", national_demonstration_year=2024)
    response = await client.post(INSTITUTIONS, json=body, headers=county(tokens))
    _refused(response)
    listed = await client.get(INSTITUTIONS, params={"q": "自封示范"}, headers=county(tokens))
    assert listed.json()["items"] == []


@pytest.mark.parametrize("year", [2024, None])
async def test_a_county_admin_cannot_patch_the_national_demonstration_year(
    client: httpx.AsyncClient, tokens: Tokens, year: int | None
) -> None:
    created = await create_institution(client, tokens)
    path = f"{INSTITUTIONS}/{created['id']}"
    response = await client.patch(
        path,
        json={"national_demonstration_year": year},
        headers={**county(tokens), "If-Match": f'"{created["version"]}"'},
    )
    _refused(response)
    after = (await client.get(path, headers=county(tokens))).json()
    assert (after["national_demonstration_year"], after["version"]) == (None, created["version"])


async def test_the_institutions_own_admin_cannot_set_it_either(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    created = await create_institution(client, tokens)
    admin = tokens.headers(Role.institution_admin, "350206", institution_id=created["id"])
    response = await client.patch(
        f"{INSTITUTIONS}/{created['id']}",
        json={"national_demonstration_year": 2024},
        headers={**admin, "If-Match": f'"{created["version"]}"'},
    )
    _refused(response)


async def test_bulk_upsert_rejects_a_record_carrying_it(client: httpx.AsyncClient, tokens: Tokens) -> None:
    platform = tokens.headers(Role.city_platform, "350200", sub="client:xm_city_platform")
    records = [
        {"external_id": "DY1", **institution_body(name="平台示范甲")},
        {"external_id": "DY2", **institution_body(name="平台示范乙", national_demonstration_year=2024)},
    ]
    response = await client.post(
        f"{INSTITUTIONS}/bulk", json={"source_system": "xm-ijiankang", "records": records}, headers=platform
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "rejected"]
    assert CODE in {e["code"] for e in results[1]["errors"]}
    # an update of an existing record cannot carry it either
    again = await client.post(
        f"{INSTITUTIONS}/bulk",
        json={
            "source_system": "xm-ijiankang",
            "records": [{**records[0], "national_demonstration_year": 2024}],
        },
        headers=platform,
    )
    assert again.json()["results"][0]["outcome"] == "rejected"
    seen = await client.get(f"{INSTITUTIONS}/{results[0]['id']}", headers=platform)
    assert seen.json()["national_demonstration_year"] is None


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_import_ignores_the_national_demonstration_year_column(
    client: httpx.AsyncClient, tokens: Tokens, fmt: str
) -> None:
    headers = [*HEADERS, "全国示范机构年份"]
    rows = [[*row(f"导入示范{fmt}"), 2024]]
    content = as_csv(rows, headers) if fmt == "csv" else as_xlsx(rows, headers)
    response = await upload(client, county(tokens), content, f"list.{fmt}")
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["created"] == 1
    listed = await client.get(INSTITUTIONS, params={"q": f"导入示范{fmt}"}, headers=county(tokens))
    (item,) = listed.json()["items"]
    detail = await client.get(f"{INSTITUTIONS}/{item['id']}", headers=county(tokens))
    assert detail.json()["national_demonstration_year"] is None
