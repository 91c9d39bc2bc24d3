"""The demo province tells the truth: its headline aggregates match the source documents (indicators.md,
seed 000/001) within 5 %, counted by SQL over the registry's own tables with indicators.md's definitions;
names come from the real towns and streets of their county and never repeat there; every point lies in its
county's box and, on the coast, on the landward side of the county's anchor.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from demo.registry import seed_session
from libs.common.auth import Role
from libs.common.changes import write_pending_changes
from libs.common.testing import Tokens

DATA = Path(__file__).resolve().parents[2] / "demo" / "data"

# indicators.md (baselines, seed 000 and 001)
INTEGRATED = 192
INTEGRATED_BEDS = 53_000
GREEN_CHANNEL_RATE = 0.988
HOME_BED_PROVIDERS = 269
HULI_HOMES_WITH_INFIRMARY = 9

# 医养结合 as indicators.md defines it: kind integrated, or an elderly-care institution with an accepted
# 内设医疗机构 filing, or a medical institution with registered elderly-care beds
INTEGRATED_SQL = """
    active AND (
        kind = 'integrated'
        OR (kind = 'elderly_care' AND EXISTS (
            SELECT 1 FROM filing f WHERE f.institution_id = institution.id AND f.state = 'accepted'))
        OR (kind = 'medical' AND beds_elderly_care > 0)
    )
"""


def near(value: float, expected: float, tolerance: float = 0.05) -> bool:
    return abs(value - expected) <= tolerance * expected


async def _seeded_rows(app: FastAPI, query: str) -> list[dict[str, Any]]:
    async with app.state.database.session() as session:
        await seed_session(session, app.state.cipher)
        await session.flush()
        await write_pending_changes(session)
        await session.commit()
    async with app.state.database.session() as session:
        return [dict(row) for row in (await session.execute(text(query))).mappings()]


async def _scalar(app: FastAPI, query: str) -> Any:
    async with app.state.database.session() as session:
        return (await session.execute(text(query))).scalar_one()


async def test_headline_aggregates_match_the_sources(
    client: httpx.AsyncClient, registry_app: FastAPI, tokens: Tokens
) -> None:
    rows = await _seeded_rows(
        registry_app,
        f"SELECT count(*) AS n, sum(beds_medical + beds_elderly_care) AS beds FROM institution "
        f"WHERE {INTEGRATED_SQL}",
    )
    assert near(rows[0]["n"], INTEGRATED), rows
    assert near(rows[0]["beds"], INTEGRATED_BEDS), rows
    # and the registry's own statistics show them to the province (make run's figures)
    stats = await client.get(
        "/api/v1/registry/stats", params={"group_by": "city"}, headers=tokens.headers(Role.province_admin)
    )
    totals = stats.json()["totals"]
    assert near(totals["integrated_institutions"], INTEGRATED), totals
    assert near(totals["integrated_institution_beds"], INTEGRATED_BEDS), totals

    graded = await _scalar(
        registry_app,
        "SELECT count(*) FROM institution WHERE active AND kind IN ('medical', 'integrated') "
        "AND hospital_grade IN ('grade_1', 'grade_2', 'grade_3')",
    )
    with_channel = await _scalar(
        registry_app,
        "SELECT count(*) FROM institution WHERE active AND kind IN ('medical', 'integrated') "
        "AND hospital_grade IN ('grade_1', 'grade_2', 'grade_3') AND elderly_green_channel",
    )
    assert graded > 100
    assert near(with_channel / graded, GREEN_CHANNEL_RATE, 0.01)
    assert (
        await _scalar(
            registry_app,
            "SELECT count(*) FROM institution WHERE kind = 'elderly_care' AND elderly_green_channel",
        )
        == 0
    )

    home_beds = await _scalar(
        registry_app,
        "SELECT count(*) FROM institution WHERE active AND kind IN ('medical', 'integrated') "
        "AND home_bed_service",
    )
    assert near(home_beds, HOME_BED_PROVIDERS)
    assert (
        await _scalar(registry_app, "SELECT count(*) FROM institution WHERE internet_nursing_provider") == 33
    )

    huli = await _scalar(
        registry_app,
        "SELECT count(DISTINCT i.id) FROM institution i JOIN filing f ON f.institution_id = i.id "
        "WHERE i.region_code = '350206' AND i.kind = 'elderly_care' AND f.state = 'accepted' "
        "AND f.unit_kind = 'infirmary'",
    )
    assert huli == HULI_HOMES_WITH_INFIRMARY

    # counts follow population: 厦门 (533 万) has more than 三明 (245 万); 鼓楼 not smaller than 泰宁
    per_county = {
        r["region_code"]: r["n"]
        for r in await _rows(
            registry_app, "SELECT region_code, count(*) AS n FROM institution GROUP BY region_code"
        )
    }
    per_city = Counter[str]()
    for code, n in per_county.items():
        per_city[code[:4]] += n
    assert per_city["3502"] > per_city["3504"]
    assert per_county["350102"] > per_county["350429"]

    # a grade pyramid: many 一级 and 未定级, fewer 二级, few 三级 (in the city centres)
    grades = {
        r["hospital_grade"]: r["n"]
        for r in await _rows(
            registry_app,
            "SELECT hospital_grade, count(*) AS n FROM institution WHERE category = 'hospital' "
            "GROUP BY hospital_grade",
        )
    }
    assert grades["grade_1"] > grades["grade_2"] > grades["grade_3"] > 0
    assert grades["grade_1"] + grades["ungraded"] > 1.5 * grades["grade_2"]
    assert grades["grade_3"] <= 25

    # filings are 医务室 / 护理站 / 诊所 (rules.md), never 门诊部; 福州市社会福利院 has its 医务室 and beds
    names = [r["unit_name"] for r in await _rows(registry_app, "SELECT unit_name FROM filing")]
    assert names
    assert all(name.endswith(("医务室", "护理站", "诊所")) for name in names)
    welfare = await _rows(
        registry_app,
        "SELECT i.beds_medical, i.medical_operating_since, i.has_medical_unit, f.unit_kind, f.state "
        "FROM institution i JOIN filing f ON f.institution_id = i.id WHERE i.name = '福州市社会福利院'",
    )
    assert len(welfare) == 1
    assert welfare[0]["beds_medical"] > 0
    assert welfare[0]["has_medical_unit"]
    assert (welfare[0]["unit_kind"], welfare[0]["state"]) == ("infirmary", "accepted")
    assert str(welfare[0]["medical_operating_since"]) <= "2021-01-01"

    # dates respect when each kind appeared
    firsts = {
        r["category"]: str(r["first"])
        for r in await _rows(
            registry_app, "SELECT category, min(operating_since) AS first FROM institution GROUP BY category"
        )
    }
    assert firsts["community_health_center"] >= "1997-01-01"
    assert firsts["day_care_center"] >= "2011-01-01"
    assert firsts["rural_happiness_home"] >= "2012-01-01"

    # the first batch's named 示范 institutions and counties are there
    for name in ("福州市社会福利院", "厦门市莲花爱心护理院"):
        assert await _scalar(registry_app, f"SELECT count(*) FROM institution WHERE name = '{name}'") == 1
    for county in ("350602", "350582", "350821"):  # 芗城, 晋江, 长汀
        assert per_county[county] >= 8


async def _rows(app: FastAPI, query: str) -> list[dict[str, Any]]:
    async with app.state.database.session() as session:
        return [dict(row) for row in (await session.execute(text(query))).mappings()]


def _towns() -> dict[str, set[str]]:
    towns: dict[str, set[str]] = {}
    with (DATA / "fujian_townships.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            towns.setdefault(row["county_code"], set()).add(row["name"])
    return towns


def _areas() -> dict[str, dict[str, str]]:
    with (DATA / "county_areas.csv").open(encoding="utf-8") as handle:
        return {row["code"]: row for row in csv.DictReader(handle)}


SEA = {"E": (0.0, 1.0), "SE": (-0.7071, 0.7071), "S": (-1.0, 0.0)}
NAMED = {
    "兰馨颐养院",
    "厦门新开元医院",
    "厦门莲花医院",
    "厦门弘爱养护院",
    "厦门市莲花爱心护理院",
    "福州市社会福利院",
    "晋江市中医院",
}


async def test_names_and_points_are_local(client: httpx.AsyncClient, registry_app: FastAPI) -> None:
    rows = await _seeded_rows(
        registry_app, "SELECT name, category, region_code, latitude, longitude, address FROM institution"
    )
    towns, areas = _towns(), _areas()
    by_county = Counter((r["region_code"], r["name"]) for r in rows)
    assert [key for key, n in by_county.items() if n > 1] == []
    assert [r["name"] for r in rows if re.search(r"\d", r["name"])] == []  # no counters
    county_names = {code: area["name"] for code, area in areas.items()}
    for row in rows:
        code, name = row["region_code"], row["name"]
        if row["category"] == "township_health_center":
            town = name.removeprefix(county_names[code]).removesuffix("卫生院")
            assert town in towns[code], name
        if row["category"] == "community_health_center":
            street = name.removeprefix(county_names[code]).removesuffix("社区卫生服务中心")
            assert street.endswith("街道"), name
            assert street in towns[code], name
        if row["category"] in ("rural_happiness_home", "village_clinic"):
            assert any(name.startswith(county_names[code] + t) for t in towns[code]), name
        area = areas[code]
        lat, lng = row["latitude"], row["longitude"]
        assert float(area["south"]) <= lat <= float(area["north"]), name
        assert float(area["west"]) <= lng <= float(area["east"]), name
        sea = SEA.get(area["sea"])
        if sea is not None and name not in NAMED:  # coastal: never seaward of the anchor
            outward = (lat - float(area["lat"])) * sea[0] + (lng - float(area["lng"])) * sea[1]
            assert outward <= 1e-6, name
        if area["sea"] == "island" and name not in NAMED:  # small jitter around an inland anchor
            assert abs(lat - float(area["lat"])) <= 0.0101, name
            assert abs(lng - float(area["lng"])) <= 0.0101, name
