"""What the indicators need the registry to carry (issue 13; rules from ``domain/indicators.md``):

* ``green_channel_rate`` counts graded medical institutions that run the elders' 绿色通道, so the flag
  belongs to institutions with a medical side (kind medical or integrated): a pure elderly-care
  institution (养老机构, 农村幸福院, 日间照料中心) saying yes is refused, 422
  ``green_channel_needs_medical_side``, on every write path (create, PATCH, bulk record, spreadsheet row);
* ``elder_friendly_rate`` counts medical institutions recognised as 老年友善 — recognised with a **year**
  (``elderly_friendly_year``: from 2020, not in the future, medical side only, 422 with its own code);
  the yes/no ``elderly_friendly`` is derived from it and is no input (422 ``elderly_friendly_derived``);
* the change feed carries the year; the data migration clears the flags that cannot stand.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common import clock
from libs.common.auth import Role
from libs.common.migrations import alembic_config
from libs.common.testing import TestDatabases, Tokens, make_settings
from services.registry.institutions.models import Institution, InstitutionYearStat
from services.registry.settings import RegistrySettings
from tests.feed_readers import read_feed
from tests.registry.factories import INSTITUTIONS, create_institution, hospital_body, institution_body
from tests.registry.institutions.test_spreadsheet import HEADERS, as_csv, as_xlsx, county, row, upload

GREEN = "green_channel_needs_medical_side"
FRIENDLY_KIND = "elderly_friendly_needs_medical_side"
FUTURE = "elderly_friendly_year_in_future"
DERIVED = "elderly_friendly_derived"
THIS_YEAR = clock.today_in_china().year

# the three pure elderly-care categories, and the institutions with a medical side
PURE_ELDERLY_CARE = [
    {"category": "elderly_care_home"},
    {"category": "rural_happiness_home"},
    {"category": "day_care_center"},
]


def _codes(response: httpx.Response) -> dict[str, str]:
    """field → code of a 422 problem."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"]: e["code"] for e in response.json()["errors"]}


def _if_match(headers: dict[str, str], version: int) -> dict[str, str]:
    return {**headers, "If-Match": f'"{version}"'}


# ------------------------------------------------------------------------------------- 绿色通道


@pytest.mark.parametrize("overrides", PURE_ELDERLY_CARE, ids=lambda o: o["category"])
async def test_a_pure_elderly_care_institution_cannot_run_the_green_channel(
    client: httpx.AsyncClient, tokens: Tokens, overrides: dict[str, Any]
) -> None:
    body = institution_body(name=f"绿色通道{overrides['category']}", elderly_green_channel=True, **overrides)
    response = await client.post(INSTITUTIONS, json=body, headers=county(tokens))
    assert _codes(response) == {"body.elderly_green_channel": GREEN}
    # without the flag it registers
    body["elderly_green_channel"] = False
    assert (await client.post(INSTITUTIONS, json=body, headers=county(tokens))).status_code == 201


async def test_medical_and_integrated_institutions_may_run_it(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    hospital = await create_institution(client, tokens, hospital_body(elderly_green_channel=True))
    assert hospital["elderly_green_channel"] is True
    integrated = await create_institution(
        client,
        tokens,
        institution_body(
            name="养办医护理院",
            kind="integrated",
            integrated_model="elderly_care_runs_medical",
            elderly_green_channel=True,
        ),
    )
    assert integrated["elderly_green_channel"] is True


async def test_patch_cannot_give_it_to_an_elderly_care_home_nor_keep_it_across_a_kind_change(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    home = await create_institution(client, tokens)
    path = f"{INSTITUTIONS}/{home['id']}"
    response = await client.patch(
        path, json={"elderly_green_channel": True}, headers=_if_match(county(tokens), home["version"])
    )
    assert response.json()["code"] == "invalid_institution"
    assert set(_codes(response).values()) == {GREEN}
    after = (await client.get(path, headers=county(tokens))).json()
    assert (after["elderly_green_channel"], after["version"]) == (False, home["version"])

    # an integrated institution with the channel cannot become a pure elderly-care one and keep it
    integrated = await create_institution(
        client,
        tokens,
        institution_body(
            name="转型护理院",
            kind="integrated",
            integrated_model="elderly_care_runs_medical",
            elderly_green_channel=True,
        ),
    )
    response = await client.patch(
        f"{INSTITUTIONS}/{integrated['id']}",
        json={"kind": "elderly_care", "integrated_model": None},
        headers=_if_match(county(tokens), integrated["version"]),
    )
    assert set(_codes(response).values()) == {GREEN}


async def test_bulk_rejects_a_record_of_an_elderly_care_home_with_the_channel(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    platform = tokens.headers(Role.city_platform, "350200", sub="client:xm_city_platform")
    records = [
        {"external_id": "GC1", **institution_body(name="平台通道甲")},
        {"external_id": "GC2", **institution_body(name="平台通道乙", elderly_green_channel=True)},
        {"external_id": "GC3", **hospital_body(name="平台通道医院", elderly_green_channel=True)},
    ]
    response = await client.post(
        f"{INSTITUTIONS}/bulk", json={"source_system": "xm-ijiankang", "records": records}, headers=platform
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "rejected", "created"]
    assert {e["field"]: e["code"] for e in results[1]["errors"]} == {"records.1.elderly_green_channel": GREEN}
    # nor may an update of a known record switch it on
    again = await client.post(
        f"{INSTITUTIONS}/bulk",
        json={"source_system": "xm-ijiankang", "records": [{**records[0], "elderly_green_channel": True}]},
        headers=platform,
    )
    assert again.json()["results"][0]["outcome"] == "rejected"
    assert GREEN in {e["code"] for e in again.json()["results"][0]["errors"]}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_import_rejects_the_row_of_an_elderly_care_home_with_the_channel(
    client: httpx.AsyncClient, tokens: Tokens, fmt: str
) -> None:
    rows = [row(f"导入通道甲{fmt}"), row(f"导入通道乙{fmt}", 老年人绿色通道="是")]
    content = as_csv(rows) if fmt == "csv" else as_xlsx(rows)
    response = await upload(client, county(tokens), content, f"list.{fmt}", mode="partial")
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "rejected"]
    assert {e["field"]: e["code"] for e in results[1]["errors"]} == {"rows.3.elderly_green_channel": GREEN}


# ------------------------------------------------------------------------------------- 老年友善


async def test_a_hospital_is_recognised_with_a_year_and_the_flag_follows_it(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    hospital = await create_institution(client, tokens, hospital_body(elderly_friendly_year=2021))
    assert (hospital["elderly_friendly"], hospital["elderly_friendly_year"]) == (True, 2021)
    path = f"{INSTITUTIONS}/{hospital['id']}"
    listed = await client.get(INSTITUTIONS, params={"elderly_friendly": "true"}, headers=county(tokens))
    assert hospital["id"] in {i["id"] for i in listed.json()["items"]}

    # this year is allowed; withdrawing the year withdraws the recognition
    patched = await client.patch(
        path,
        json={"elderly_friendly_year": THIS_YEAR},
        headers=_if_match(county(tokens), hospital["version"]),
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["elderly_friendly"], patched.json()["elderly_friendly_year"]) == (True, THIS_YEAR)
    cleared = await client.patch(
        path,
        json={"elderly_friendly_year": None},
        headers=_if_match(county(tokens), patched.json()["version"]),
    )
    assert (cleared.json()["elderly_friendly"], cleared.json()["elderly_friendly_year"]) == (False, None)
    listed = await client.get(INSTITUTIONS, params={"elderly_friendly": "true"}, headers=county(tokens))
    assert hospital["id"] not in {i["id"] for i in listed.json()["items"]}


@pytest.mark.parametrize(
    ("year", "code"), [(2019, "greater_than_equal"), (THIS_YEAR + 1, FUTURE)], ids=["before_2020", "future"]
)
async def test_the_year_is_from_2020_and_not_in_the_future(
    client: httpx.AsyncClient, tokens: Tokens, year: int, code: str
) -> None:
    response = await client.post(
        INSTITUTIONS, json=hospital_body(elderly_friendly_year=year), headers=county(tokens)
    )
    assert _codes(response) == {"body.elderly_friendly_year": code}
    hospital = await create_institution(client, tokens, hospital_body(name="友善年份医院"))
    response = await client.patch(
        f"{INSTITUTIONS}/{hospital['id']}",
        json={"elderly_friendly_year": year},
        headers=_if_match(county(tokens), hospital["version"]),
    )
    assert set(_codes(response).values()) == {code}


@pytest.mark.parametrize("overrides", PURE_ELDERLY_CARE, ids=lambda o: o["category"])
async def test_only_an_institution_with_a_medical_side_is_recognised(
    client: httpx.AsyncClient, tokens: Tokens, overrides: dict[str, Any]
) -> None:
    body = institution_body(name=f"友善{overrides['category']}", elderly_friendly_year=2022, **overrides)
    response = await client.post(INSTITUTIONS, json=body, headers=county(tokens))
    assert _codes(response) == {"body.elderly_friendly_year": FRIENDLY_KIND}


@pytest.mark.parametrize("value", [True, False])
async def test_the_flag_itself_is_no_input(client: httpx.AsyncClient, tokens: Tokens, value: bool) -> None:
    response = await client.post(
        INSTITUTIONS, json=hospital_body(elderly_friendly=value), headers=county(tokens)
    )
    assert DERIVED in _codes(response).values()
    hospital = await create_institution(client, tokens, hospital_body(name="友善标志医院"))
    response = await client.patch(
        f"{INSTITUTIONS}/{hospital['id']}",
        json={"elderly_friendly": value},
        headers=_if_match(county(tokens), hospital["version"]),
    )
    assert DERIVED in _codes(response).values()


async def test_bulk_and_import_take_the_year(client: httpx.AsyncClient, tokens: Tokens) -> None:
    platform = tokens.headers(Role.city_platform, "350200", sub="client:xm_city_platform")
    records = [
        {"external_id": "EF1", **hospital_body(name="平台友善医院", elderly_friendly_year=2023)},
        {"external_id": "EF2", **institution_body(name="平台友善养老院", elderly_friendly_year=2023)},
        {"external_id": "EF3", **hospital_body(name="平台友善标志", elderly_friendly=True)},
    ]
    response = await client.post(
        f"{INSTITUTIONS}/bulk", json={"source_system": "xm-ijiankang", "records": records}, headers=platform
    )
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "rejected", "rejected"]
    assert {e["code"] for e in results[1]["errors"]} == {FRIENDLY_KIND}
    assert DERIVED in {e["code"] for e in results[2]["errors"]}
    seen = (await client.get(f"{INSTITUTIONS}/{results[0]['id']}", headers=platform)).json()
    assert (seen["elderly_friendly"], seen["elderly_friendly_year"]) == (True, 2023)

    # the spreadsheet: the year column is read, the derived yes/no column is shown but never read back
    headers = [*HEADERS, "医院等级", "老年友善医疗机构认定年份", "老年友善医疗机构"]
    hospital_row = row("导入友善医院", 机构类别="医疗机构", 机构细类="医院", 养老机构性质="", 养老床位=0)
    hospital_row[HEADERS.index("入住人数")] = 0
    hospital_row[HEADERS.index("轻度失能人数")] = 0
    hospital_row[HEADERS.index("失智人数")] = 0
    rows = [[*hospital_row, "二级", 2024, "否"], [*row("导入友善养老院"), "", 2024, ""]]
    response = await upload(client, county(tokens), as_csv(rows, headers), "list.csv", mode="partial")
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "rejected"], response.text
    assert {e["field"]: e["code"] for e in results[1]["errors"]} == {
        "rows.3.elderly_friendly_year": FRIENDLY_KIND
    }
    detail = (await client.get(f"{INSTITUTIONS}/{results[0]['id']}", headers=county(tokens))).json()
    assert (detail["elderly_friendly"], detail["elderly_friendly_year"]) == (True, 2024)


async def test_the_feed_carries_the_year(client: httpx.AsyncClient, tokens: Tokens) -> None:
    hospital = await create_institution(
        client, tokens, hospital_body(name="友善入流医院", elderly_friendly_year=2020)
    )
    status, entries = await read_feed(
        client, "/api/v1/registry/changes", tokens.headers(Role.service, "350000"), entity_types="institution"
    )
    assert status == 200
    (entry,) = [e for e in entries if e["entity_id"] == hospital["id"]]
    assert (entry["data"]["elderly_friendly"], entry["data"]["elderly_friendly_year"]) == (True, 2020)


# ------------------------------------------------------------------------------------- migration


def _institution_row(**values: Any) -> dict[str, Any]:
    """A row of the institution table as it was at registry_0006 (the model's defaults)."""
    now = datetime.now(UTC)
    row_values: dict[str, Any] = {}
    for column in Institution.__table__.columns:
        if column.name == "elderly_friendly_year":
            continue  # not there yet at registry_0006
        default = (
            column.default.arg if column.default is not None and not callable(column.default.arg) else None
        )
        row_values[column.name] = default
    row_values.update(
        {
            "id": uuid.uuid4(),
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "region_code": "350206",
            "active": True,
            **values,
        }
    )
    return row_values


async def test_the_migration_clears_what_cannot_stand_and_logs_how_many(
    test_databases: TestDatabases, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        RegistrySettings,
        test_databases,
        database_schema="registry_0007_check",
        database_url=test_databases.url_for("registry_0007_check"),
    )
    config = alembic_config(settings)
    await asyncio.to_thread(command.upgrade, config, "registry_0006")
    table = Institution.__table__
    old_columns = [c for c in table.columns if c.name != "elderly_friendly_year"]
    old = sa.Table("institution", sa.MetaData(), *(sa.Column(c.name, c.type) for c in old_columns))
    rows = {
        "home": _institution_row(
            name="通道养老院",
            kind="elderly_care",
            category="elderly_care_home",
            elderly_green_channel=True,
        ),
        "happy": _institution_row(
            name="通道幸福院",
            kind="elderly_care",
            category="rural_happiness_home",
            elderly_green_channel=True,
        ),
        "hospital": _institution_row(
            name="通道医院",
            kind="medical",
            category="hospital",
            elderly_green_channel=True,
            elderly_friendly=True,
        ),
        "integrated": _institution_row(
            name="通道医养",
            kind="integrated",
            category="integrated_institution",
            integrated_model="medical_runs_elderly_care",
            elderly_green_channel=True,
        ),
    }
    engine = create_async_engine(settings.database_url)
    schema = settings.database_schema if engine.dialect.name == "postgresql" else None
    old.schema = schema
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.insert(old), list(rows.values()))
        with caplog.at_level(logging.INFO, logger="alembic.runtime.migration"):
            await asyncio.to_thread(command.upgrade, config, "registry_0007")
        async with engine.connect() as connection:
            result = await connection.execute(
                sa.text(
                    f"SELECT name, elderly_green_channel, elderly_friendly FROM "
                    f"{schema + '.' if schema else ''}institution"
                )
            )
            stored = {name: (bool(green), bool(friendly)) for name, green, friendly in result.all()}
    finally:
        await engine.dispose()
    assert stored == {
        "通道养老院": (False, False),
        "通道幸福院": (False, False),
        "通道医院": (True, False),  # recognised without a year: the year must be entered again
        "通道医养": (True, False),
    }
    messages = [r.getMessage() for r in caplog.records]
    assert any("绿色通道 cleared on 2 elderly-care institutions" in m for m in messages), messages
    assert any("flag cleared on 1 institutions without a recognition year" in m for m in messages), messages


# ------------------------------------------------------------------------------ year figures in the feed

FIGURES = {
    "operating_beds": 150,
    "occupied_bed_days": 43800,
    "residents": 120,
    "disabled_residents": 60,
    "dementia_residents": 10,
    "disabled_or_dementia_residents": 65,
}


async def _year_stat_entries(
    client: httpx.AsyncClient, tokens: Tokens, institution_id: str
) -> list[dict[str, Any]]:
    status, entries = await read_feed(
        client,
        "/api/v1/registry/changes",
        tokens.headers(Role.service, "350000"),
        entity_types="institution_year_stat",
    )
    assert status == 200
    return [e for e in entries if e["data"] is None or e["data"]["institution_id"] == institution_id]


async def test_a_years_figures_enter_the_feed_in_the_institutions_county(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    """``large_homes_integrated`` for year Y asks the residents of year Y (its reference date)."""
    home = await create_institution(client, tokens, institution_body(name="年报养老院", residents=30))
    url = f"{INSTITUTIONS}/{home['id']}/year-stats"
    created = await client.put(f"{url}/2025", json=FIGURES, headers=county(tokens))
    assert created.status_code == 201, created.text
    replaced = await client.put(
        f"{url}/2025", json={**FIGURES, "residents": 130}, headers={**county(tokens), "If-Match": '"1"'}
    )
    assert replaced.status_code == 200, replaced.text

    entries = await _year_stat_entries(client, tokens, home["id"])
    assert [(e["op"], e["region_code"], e["version"]) for e in entries] == [
        ("upsert", "350206", 1),
        ("upsert", "350206", 2),
    ]
    assert {k: entries[-1]["data"][k] for k in ("institution_id", "year", "residents")} == {
        "institution_id": home["id"],
        "year": 2025,
        "residents": 130,
    }
    # a county outside sees nothing of it
    status, other = await read_feed(
        client,
        "/api/v1/registry/changes",
        tokens.headers(Role.county_admin, "350203"),
        entity_types="institution_year_stat",
    )
    assert status == 200
    assert not [e for e in other if e["entity_id"] == entries[0]["entity_id"]]


async def test_the_figures_move_with_their_institution(client: httpx.AsyncClient, tokens: Tokens) -> None:
    platform = tokens.headers(Role.city_platform, "350200", sub="client:xm_city_platform")
    record = {"external_id": "YS1", **institution_body(name="搬迁养老院")}
    first = await client.post(
        f"{INSTITUTIONS}/bulk", json={"source_system": "xm-ijiankang", "records": [record]}, headers=platform
    )
    home_id = first.json()["results"][0]["id"]
    put = await client.put(f"{INSTITUTIONS}/{home_id}/year-stats/2025", json=FIGURES, headers=county(tokens))
    assert put.status_code == 201, put.text

    moved = await client.post(
        f"{INSTITUTIONS}/bulk",
        json={"source_system": "xm-ijiankang", "records": [{**record, "region_code": "350203"}]},
        headers=platform,
    )
    assert moved.json()["results"][0]["outcome"] == "updated", moved.text
    entries = await _year_stat_entries(client, tokens, home_id)
    # created in 湖里; on the move a tombstone in 湖里 and the row again in 思明
    assert [(e["op"], e["region_code"]) for e in entries] == [
        ("upsert", "350206"),
        ("delete", "350206"),
        ("upsert", "350203"),
    ]
    siming = tokens.headers(Role.county_admin, "350203")
    seen = await client.get(f"{INSTITUTIONS}/{home_id}/year-stats", headers=siming)
    assert [row["residents"] for row in seen.json()] == [120]


async def test_the_migration_enters_the_existing_figures_in_the_feed(
    test_databases: TestDatabases, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(
        RegistrySettings,
        test_databases,
        database_schema="registry_0008_check",
        database_url=test_databases.url_for("registry_0008_check"),
    )
    config = alembic_config(settings)
    await asyncio.to_thread(command.upgrade, config, "registry_0007")
    engine = create_async_engine(settings.database_url)
    schema = settings.database_schema if engine.dialect.name == "postgresql" else None
    prefix = f"{schema}." if schema else ""
    home = _institution_row(
        name="存量养老院", kind="elderly_care", category="elderly_care_home", region_code="350203"
    )
    institution = sa.Table(
        "institution",
        sa.MetaData(),
        *(sa.Column(c.name, c.type) for c in Institution.__table__.columns),
        schema=schema,
    )
    stats = sa.Table(
        "institution_year_stat",
        sa.MetaData(),
        *(
            sa.Column(c.name, c.type)
            for c in InstitutionYearStat.__table__.columns
            if c.name != "region_code"
        ),
        schema=schema,
    )
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.insert(institution), [{**home, "elderly_friendly_year": None}])
            await connection.execute(
                sa.insert(stats),
                [
                    {
                        "id": uuid.uuid4(),
                        "institution_id": home["id"],
                        "year": 2025,
                        **FIGURES,
                        "version": 1,
                        "created_at": datetime.now(UTC),
                        "updated_at": datetime.now(UTC),
                    }
                ],
            )
        with caplog.at_level(logging.INFO, logger="alembic.runtime.migration"):
            await asyncio.to_thread(command.upgrade, config, "registry_0008")
        async with engine.connect() as connection:
            region = (
                await connection.execute(sa.text(f"SELECT region_code FROM {prefix}institution_year_stat"))
            ).scalar_one()
            entries = (
                await connection.execute(
                    sa.text(
                        f"SELECT entity_type, op, region_code, entity_version FROM {prefix}change_record "
                        "WHERE entity_type = 'institution_year_stat'"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert region == "350203"
    assert [tuple(e) for e in entries] == [("institution_year_stat", "upsert", "350203", 1)]
    assert any("1 institution year figures entered the change feed" in r.getMessage() for r in caplog.records)
