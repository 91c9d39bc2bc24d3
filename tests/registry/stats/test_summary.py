"""The registry statistics' summary cells (services/registry/stats/summary.py, issue 16): kept in step with
the institution table by the feed's commit hook whatever the write (create, edit, move to another county,
deactivate), filled by the migration from the institutions already there, and the statistics of a
region's officials read from them — the same figures as counted from the institutions."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import sqlalchemy as sa
from alembic import command
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from libs.common.auth import Role
from libs.common.migrations import alembic_config
from libs.common.testing import TestDatabases, Tokens, make_settings
from services.registry.institutions.models import Institution
from services.registry.settings import RegistrySettings
from services.registry.stats import summary
from services.registry.stats.summary import InstitutionStatsCell
from tests.registry.factories import INSTITUTIONS, create_institution, hospital_body, institution_body
from tests.registry.filings.test_router import file_complete
from tests.registry.institutions.test_indicator_source_fields import _institution_row

STATS = "/api/v1/registry/stats"
Cells = dict[tuple[str, str, str], tuple[int, ...]]


def _as_cells(rows: Any) -> Cells:
    return {(str(r[0]), str(r[1]), str(r[2])): tuple(int(v) for v in r[3:]) for r in rows}


async def _stored(db: AsyncSession) -> Cells:
    cell = InstitutionStatsCell
    columns = [getattr(cell, c.name) for c in cell.__table__.columns]
    return _as_cells((await db.execute(sa.select(*columns))).all())


async def _counted(db: AsyncSession) -> Cells:
    return _as_cells((await db.execute(summary.cells_of())).all())


async def _check(db: AsyncSession) -> Cells:
    stored = await _stored(db)
    assert stored == await _counted(db)
    return stored


def _if_match(headers: dict[str, str], version: int) -> dict[str, str]:
    return {**headers, "If-Match": f'"{version}"'}


async def test_every_write_keeps_the_cells_in_step(
    client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession
) -> None:
    before = await _check(db)
    home = await create_institution(client, tokens, name="汇总养老院", beds_elderly_care=100)
    hospital = await create_institution(
        client, tokens, hospital_body(name="汇总医院", beds_medical=300, beds_elderly_care=10)
    )
    cells = await _check(db)
    key = ("350206", "elderly_care", "elderly_care_home")
    assert cells[key][0] == before.get(key, (0,))[0] + 1
    hospital_key = ("350206", "medical", "hospital")
    # a medical institution with elderly-care beds counts as 医养结合, with its medical + elderly beds
    assert cells[hospital_key][1] == before.get(hospital_key, (0, 0))[1] + 1
    assert cells[hospital_key][2] == before.get(hospital_key, (0, 0, 0))[2] + 310

    # an edit through the form, as the county's officials make it
    huli = tokens.headers(Role.county_admin, "350206")
    url = f"{INSTITUTIONS}/{home['id']}"
    response = await client.patch(
        url, json={"beds_elderly_care": 130}, headers=_if_match(huli, home["version"])
    )
    assert response.status_code == 200, response.text
    await _check(db)

    # an accepted 内设医疗机构 filing makes the home 医养结合 (indicators.md): its cell counts it, beds too
    filing = await file_complete(client, tokens, home)
    assert filing["state"] == "accepted", filing
    cells = await _check(db)
    earlier = before.get(key, (0, 0, 0))
    assert cells[key][1] == earlier[1] + 1
    assert cells[key][2] == earlier[2] + 130

    # a platform's bulk upsert, then the same record moved to 思明: the old county's cell loses it
    platform = tokens.headers(Role.city_platform, "350200", sub="client:xm_city_platform")
    record = {"external_id": "SUM1", **institution_body(name="汇总搬迁院", category="day_care_center")}
    bulk = {"source_system": "xm-ijiankang", "records": [record]}
    created = await client.post(f"{INSTITUTIONS}/bulk", json=bulk, headers=platform)
    assert created.json()["results"][0]["outcome"] == "created", created.text
    day_care = ("350206", "elderly_care", "day_care_center")
    cells = await _check(db)
    assert cells[day_care][0] == before.get(day_care, (0,))[0] + 1
    moved_record = {**record, "region_code": "350203", "beds_elderly_care": 7}
    moved = await client.post(
        f"{INSTITUTIONS}/bulk", json={**bulk, "records": [moved_record]}, headers=platform
    )
    assert moved.json()["results"][0]["outcome"] == "updated", moved.text
    cells = await _check(db)
    assert cells.get(day_care, (0,))[0] == before.get(day_care, (0,))[0]
    siming = ("350203", "elderly_care", "day_care_center")
    assert cells[siming][0] == before.get(siming, (0,))[0] + 1

    # deactivated: no longer counted
    response = await client.post(
        f"{INSTITUTIONS}/{hospital['id']}/deactivate",
        json={"reason": "汇总测试停用"},
        headers=_if_match(huli, hospital["version"]),
    )
    assert response.status_code == 200, response.text
    cells = await _check(db)
    assert cells.get(hospital_key, (0,))[0] == before.get(hospital_key, (0,))[0]


async def test_officials_read_the_cells(
    client: httpx.AsyncClient, tokens: Tokens, db: AsyncSession, registry_app: FastAPI
) -> None:
    await create_institution(
        client,
        tokens,
        institution_body(
            name="汇总结合院",
            region_code="350203",
            kind="integrated",
            integrated_model="elderly_care_runs_medical",
            beds_elderly_care=200,
            beds_integrated=150,
            beds_medical=30,
        ),
    )
    engine = registry_app.state.database.engine.sync_engine
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    headers = {**tokens.headers(Role.city_admin, "350200"), "Cache-Control": "no-cache"}
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        response = await client.get(STATS, params={"group_by": "county"}, headers=headers)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.text
    grouped = [s for s in seen if "GROUP BY" in s]
    assert len(grouped) == 1
    assert "FROM institution_stats_cell" in grouped[0]

    # the city's figures from the cells are the institutions' own count
    live = _as_cells((await db.execute(summary.cells_of(Institution.region_code.startswith("3502")))).all())
    totals = response.json()["totals"]
    assert totals["institutions"] == sum(v[0] for v in live.values())
    assert totals["integrated_institutions"] == sum(v[1] for v in live.values())
    assert totals["integrated_institution_beds"] == sum(v[2] for v in live.values())
    assert totals["beds"]["beds_integrated"] == sum(v[5] for v in live.values())
    counties = {g["region_code"]: g["institutions"] for g in response.json()["groups"]}
    for county in {k[0] for k in live}:
        assert counties[county] == sum(v[0] for k, v in live.items() if k[0] == county)


async def test_rebuild_counts_what_the_hook_kept(
    db: AsyncSession, client: httpx.AsyncClient, tokens: Tokens
) -> None:
    await create_institution(client, tokens, name="重算养老院", region_code="350102", beds_elderly_care=12)
    kept = await _check(db)
    await summary.rebuild(db)
    assert await _stored(db) == kept


async def test_the_migration_fills_the_cells_from_the_institutions(test_databases: TestDatabases) -> None:
    settings = make_settings(
        RegistrySettings,
        test_databases,
        database_schema="registry_0012_check",
        database_url=test_databases.url_for("registry_0012_check"),
    )
    config = alembic_config(settings)
    await asyncio.to_thread(command.upgrade, config, "registry_0011")
    rows = [
        _institution_row(
            name="迁移养老院一", kind="elderly_care", category="elderly_care_home", beds_elderly_care=10
        ),
        _institution_row(
            name="迁移养老院二", kind="elderly_care", category="elderly_care_home", beds_elderly_care=5
        ),
        _institution_row(
            name="迁移医院", kind="medical", category="hospital", beds_medical=100, beds_elderly_care=20
        ),
        _institution_row(
            name="迁移停用院",
            kind="elderly_care",
            category="elderly_care_home",
            beds_elderly_care=9,
            active=False,
        ),
    ]
    engine = create_async_engine(settings.database_url)
    schema = settings.database_schema if engine.dialect.name == "postgresql" else None
    table = sa.Table(
        "institution",
        sa.MetaData(),
        *(sa.Column(c.name, c.type) for c in Institution.__table__.columns),
        schema=schema,
    )
    try:
        async with engine.begin() as connection:
            await connection.execute(sa.insert(table), rows)
        await asyncio.to_thread(command.upgrade, config, "registry_0012")
        prefix = f"{schema}." if schema else ""
        async with engine.connect() as connection:
            result = await connection.execute(
                sa.text(
                    "SELECT region_code, kind, category, institutions, integrated_institutions, "
                    "integrated_institution_beds, beds_elderly_care, beds_medical "
                    f"FROM {prefix}institution_stats_cell"
                )
            )
            cells = {(r[0], r[1], r[2]): tuple(r[3:]) for r in result.all()}
        await asyncio.to_thread(command.downgrade, config, "registry_0011")
    finally:
        await engine.dispose()
    assert cells == {
        ("350206", "elderly_care", "elderly_care_home"): (2, 0, 0, 15, 0),
        ("350206", "medical", "hospital"): (1, 1, 120, 20, 100),
    }
