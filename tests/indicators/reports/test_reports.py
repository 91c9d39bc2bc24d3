"""The reports over a randomised read model, against the indicators of indicators.md computed in plain
Python (world.py); scope per role; drill-down sets; targets; errors; XLSX."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete

from libs.common.auth import Role
from libs.common.database import Database, session_scope
from services.indicators.reference.models import PopulationRecord, ReferenceVersion, TargetRecord
from tests.cross_service.conftest import Live
from tests.indicators.conftest import Indicators
from tests.indicators.reports import world
from tests.indicators.reports.world import COMPUTED, MISSING, RATES, World

BASE = "/api/v1/indicators"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def _clear_reference(database: Database) -> None:
    async with session_scope(database) as session:
        for model in (PopulationRecord, TargetRecord, ReferenceVersion):
            await session.execute(delete(model))


@pytest.fixture
async def reference(indicators: Indicators) -> AsyncIterator[Database]:
    await _clear_reference(indicators.database)
    yield indicators.database
    await _clear_reference(indicators.database)


async def load_population(database: Database, residents: dict[str, int], year: int = 2025) -> None:
    async with session_scope(database) as session:
        version = ReferenceVersion(
            dataset="population",
            number=1,
            loaded_by="t",
            loaded_by_role="province_admin",
            row_count=len(residents),
            sources={"test": len(residents)},
        )
        session.add(version)
        await session.flush()
        session.add_all(
            PopulationRecord(
                version_id=version.id,
                position=n,
                region_code=code,
                year=year,
                residents=people,
                aged_65_plus=people // 10,
                source="test",
            )
            for n, (code, people) in enumerate(sorted(residents.items()), start=1)
        )


async def load_targets(database: Database, rows: list[dict[str, Any]]) -> None:
    async with session_scope(database) as session:
        version = ReferenceVersion(
            dataset="targets",
            number=1,
            loaded_by="t",
            loaded_by_role="province_admin",
            row_count=len(rows),
            sources={"002": len(rows)},
        )
        session.add(version)
        await session.flush()
        session.add_all(
            TargetRecord(version_id=version.id, position=n, source="002", **row)
            for n, row in enumerate(rows, start=1)
        )


async def _world(indicators: Indicators, seed: int) -> World:
    w = world.build(seed)
    await world.store(indicators.database, w)
    return w


async def _get(
    live: Live, path: str, role: Role = Role.province_admin, region: str = "350000", **kw: Any
) -> Any:
    params = kw.pop("params", None)
    response = await live.gateway.get(
        BASE + path, params=params, headers=live.tokens.headers(role, region, **kw)
    )
    return response


def _figures(block: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["indicator"]: f for f in block["figures"]}


def _assert_figure(
    w: World, figure: dict[str, Any], region: str, residents: dict[str, int] | None = None
) -> None:
    numerator, denominator, value = world.expected(w, figure["indicator"], region, residents)
    assert (figure["numerator"], figure["denominator"]) == (numerator, denominator), (region, figure)
    if figure["indicator"] == "referrals":
        median = world.median_response_minutes(w, region)
        assert figure["median_response_minutes"] == (
            None if median is None else pytest.approx(median, abs=0.051)
        )
    else:
        assert figure["median_response_minutes"] is None
    if value is None:
        assert figure["value"] is None
        assert figure["status"] == "missing"
        assert figure["missing_reason"]
    else:
        assert figure["value"] == pytest.approx(value), (region, figure)


@pytest.mark.parametrize("seed", [1, 2])
async def test_every_figure_equals_the_definition_and_levels_add_up(
    reference: Database, indicators: Indicators, live: Live, seed: int
) -> None:
    w = await _world(indicators, seed)
    response = await _get(live, "/report", params={"period": "2025"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reference_date"] == "2025-12-31"
    assert [c["region_code"] for c in body["breakdown"]] == sorted(
        ["350100", "350200", "350300", "350400", "350500", "350600", "350700", "350800", "350900", "350128"]
    )
    province = _figures(body["region"])
    for code in COMPUTED:
        _assert_figure(w, province[code], "350000")
    for city in body["breakdown"]:
        for code in COMPUTED:
            _assert_figure(w, _figures(city)[code], city["region_code"])
    # additivity: counts and the numerators / denominators of rates are the sums of the level below
    for code in COMPUTED:
        for part in ("numerator", "denominator"):
            if province[code][part] is not None and code != "public_integrated_beds_per_10k":
                assert province[code][part] == sum(_figures(c)[code][part] or 0 for c in body["breakdown"])
    for city in ("350100", "350200", "350128"):
        body = (await _get(live, "/report", params={"period": "2025", "region": city})).json()
        assert body["region"]["level"] == "city"
        expected_counties = sorted(world.counties_in(city))
        assert [c["region_code"] for c in body["breakdown"]] == expected_counties
        for county in body["breakdown"]:
            assert county["level"] == "county"
            for code in COMPUTED:
                _assert_figure(w, _figures(county)[code], county["region_code"])
        for code in RATES:
            figure = _figures(body["region"])[code]
            assert figure["numerator"] == sum(_figures(c)[code]["numerator"] for c in body["breakdown"])
            assert figure["denominator"] == sum(_figures(c)[code]["denominator"] for c in body["breakdown"])


async def test_missing_figures_say_why_and_population_makes_the_per_10k_figure(
    reference: Database, indicators: Indicators, live: Live
) -> None:
    w = await _world(indicators, 3)
    figures = _figures(
        (await _get(live, "/report", params={"period": "2025", "region": "350200"})).json()["region"]
    )
    for code, reason in MISSING.items():
        assert figures[code]["status"] == "missing"
        assert figures[code]["value"] is None
        assert figures[code]["missing_reason"] == reason
    per_10k = figures["public_integrated_beds_per_10k"]
    assert per_10k["value"] is None
    assert per_10k["missing_reason"] == "未导入人口数据"
    # the facts exist now (ratings reach a home bed through its order; the referral feed is followed)
    for code in ("home_bed_satisfaction", "referrals"):
        assert figures[code]["missing_reason"] is None, figures[code]
        _assert_figure(w, figures[code], "350200")
    residents = {c: 100_000 + 1_000 * n for n, c in enumerate(sorted(world.counties_in("350200")))}
    await load_population(reference, residents)
    figures = _figures(
        (await _get(live, "/report", params={"period": "2025", "region": "350200"})).json()["region"]
    )
    _assert_figure(w, figures["public_integrated_beds_per_10k"], "350200", residents)
    assert figures["public_integrated_beds_per_10k"]["status"] == "computed"


async def _all_records(live: Live, indicator: str, region: str, part: str, **kw: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"period": "2025", "region": region, "part": part, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        response = await _get(live, f"/report/{indicator}/records", params=params, **kw)
        assert response.status_code == 200, response.text
        page = response.json()
        found.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def _in_part(unit: world.Unit, part: str) -> bool:
    if part == "numerator":
        return unit.num > 0
    if part == "denominator":
        return (unit.den or 0) > 0
    return (unit.den or 0) > unit.num


@pytest.mark.parametrize(
    ("indicator", "parts"),
    [
        ("agreement_coverage", ("numerator", "denominator", "gap")),
        ("signed_pairs", ("numerator",)),
        ("round_visits_done", ("numerator", "denominator", "gap")),
        ("home_bed_providers", ("numerator",)),
        ("homecare_orders", ("numerator",)),
        ("hospice_counties", ("numerator", "gap")),
        ("large_homes_integrated", ("numerator", "denominator", "gap")),
        ("elder_friendly_rate", ("numerator", "denominator", "gap")),
        ("home_bed_satisfaction", ("numerator", "denominator", "gap")),
        ("referrals", ("numerator",)),
    ],
)
async def test_drill_down_lists_exactly_the_records_behind_each_part(
    reference: Database, indicators: Indicators, live: Live, indicator: str, parts: tuple[str, ...]
) -> None:
    w = await _world(indicators, 4)
    for region in ("350200", "350128"):
        units = [u for u in world.units(w, indicator) if u.county in world.counties_in(region)]
        for part in parts:
            rows = await _all_records(live, indicator, region, part)
            got = {(r["region_code"], r["id"], *([r["related_id"]] if r["related_id"] else [])) for r in rows}
            assert len(got) == len(rows)  # no record twice across pages
            if indicator == "hospice_counties":
                with_hospice = {u.county for u in units}
                counties = world.counties_in(region)
                want: set[tuple[str, ...]] = {
                    (c, c) for c in (with_hospice if part == "numerator" else counties - with_hospice)
                }
            else:
                want = {(u.county, *u.key) for u in units if _in_part(u, part)}
            assert got == want, (region, part)


async def test_an_agreement_counts_on_the_reference_date_of_its_period(
    reference: Database, indicators: Indicators, live: Live
) -> None:
    w = World()
    base = world.build(5)
    hospital = next(i for i in base.institutions if i["kind"] == "medical") | {
        "active": True,
        "region_code": "350206",
    }
    home = next(i for i in base.institutions if i["kind"] == "elderly_care") | {
        "active": True,
        "region_code": "350206",
        "category": "elderly_care_home",
    }
    w.institutions = [hospital, home]
    agreement = next(iter(base.agreements)) | {
        "state": "terminated",
        "start_date": date(2025, 1, 1),
        "end_date": date(2027, 1, 1),
        "terminated_on": date(2026, 2, 1),
        "medical_institution_id": hospital["id"],
        "elderly_institution_id": home["id"],
        "medical_region_code": "350206",
        "elderly_region_code": "350206",
        "region_code": "350206",
    }
    w.agreements = [agreement]
    await world.store(indicators.database, w)

    async def pairs(period: str) -> int:
        body = (await _get(live, "/report", params={"period": period, "region": "350206"})).json()
        return int(_figures(body["region"])["signed_pairs"]["numerator"])

    assert await pairs("2025") == 1  # terminated after the period's end: in force on 2025-12-31
    assert await pairs("2025Q4") == 1
    assert await pairs("2026Q1") == 0  # terminated on 2026-02-01, before 2026-03-31


async def test_large_homes_read_the_residents_of_the_period_year_never_today_s(
    reference: Database, indicators: Indicators, live: Live
) -> None:
    """入住 100 人以上 for year Y: the year-end residents of Y, else of the latest earlier year; a home
    with no year figure up to Y is not counted (its size is unknown), whatever today's ``residents``; a
    region with none is missing with its reason, not 0. 老年友善 counts from its recognition year."""
    base = world.build(11)
    county = "350206"
    template = next(i for i in base.institutions if i["kind"] == "elderly_care")

    def home(name: str, today: int) -> dict[str, Any]:
        return template | {
            "id": uuid.uuid4(),
            "name": name,
            "active": True,
            "region_code": county,
            "kind": "integrated",  # 医养结合 itself: numerator = denominator
            "category": "elderly_care_home",
            "residents": today,
            "elderly_friendly": False,
            "elderly_friendly_year": None,
        }

    fallback, small, unknown = (
        home("去年以前超过100人", 10),
        home("当年不足100人", 300),
        home("无年度数", 500),
    )
    hospital = next(i for i in base.institutions if i["kind"] == "medical") | {
        "active": True,
        "region_code": county,
        "elderly_friendly": True,
        "elderly_friendly_year": 2025,
    }
    w = World(institutions=[fallback, small, unknown, hospital])

    def stat(institution: dict[str, Any], year: int, residents: int) -> dict[str, Any]:
        return {
            **{k: template[k] for k in ("version", "source_seq", "changed_at")},
            "id": uuid.uuid4(),
            "region_code": county,
            "institution_id": institution["id"],
            "year": year,
            "operating_beds": 200,
            "occupied_bed_days": 0,
            "residents": residents,
            "disabled_or_dementia_residents": 0,
        }

    w.year_stats = [stat(fallback, 2024, 150), stat(small, 2025, 80), stat(small, 2023, 120)]
    await world.store(indicators.database, w)

    async def figure(code: str, period: str) -> dict[str, Any]:
        body = (await _get(live, "/report", params={"period": period, "region": county})).json()
        return _figures(body["region"])[code]

    got = await figure("large_homes_integrated", "2025")  # fallback: 2024's 150; small: 2025's 80
    assert (got["numerator"], got["denominator"], got["value"]) == (1, 1, 1.0)
    got = await figure("large_homes_integrated", "2024Q2")  # fallback: 150; small: 2023's 120
    assert (got["numerator"], got["denominator"]) == (2, 2)
    got = await figure("large_homes_integrated", "2022")  # no figure up to 2022: not today's 10/300/500
    assert (got["numerator"], got["denominator"], got["status"]) == (0, 0, "missing")
    assert got["missing_reason"]
    rows = await _all_records(live, "large_homes_integrated", county, "denominator")
    assert [r["id"] for r in rows] == [str(fallback["id"])]
    assert (await figure("elder_friendly_rate", "2025"))["numerator"] == 1
    assert (await figure("elder_friendly_rate", "2024"))["numerator"] == 0  # flag set, recognised later
    # the denominator: every medical institution, the integrated homes included
    assert (await figure("elder_friendly_rate", "2024"))["denominator"] == 4


async def test_scope_per_role(reference: Database, indicators: Indicators, live: Live) -> None:
    w = await _world(indicators, 6)
    ok = [
        (Role.province_admin, "350000", "350128"),
        (Role.city_admin, "350200", "350200"),
        (Role.city_admin, "350200", "350206"),
        (Role.city_admin, "350128", "350128"),
        (Role.county_admin, "350206", "350206"),
        (Role.city_platform, "350200", "350200"),
    ]
    for role, own, asked in ok:
        response = await _get(live, "/report", role, own, params={"period": "2025", "region": asked})
        assert response.status_code == 200, (role, own, asked, response.text)
        _assert_figure(w, _figures(response.json()["region"])["signed_pairs"], asked)
    refused = [
        (Role.city_admin, "350200", "350000"),
        (Role.city_admin, "350200", "350100"),
        (Role.city_admin, "350100", "350128"),  # 平潭 is not 福州's
        (Role.county_admin, "350206", "350203"),
        (Role.county_admin, "350206", "350200"),
    ]
    for role, own, asked in refused:
        response = await _get(live, "/report", role, own, params={"period": "2025", "region": asked})
        assert response.status_code == 404, (role, own, asked)
        response = await _get(
            live, "/report/signed_pairs/records", role, own, params={"period": "2025", "region": asked}
        )
        assert response.status_code == 404
    response = await _get(live, "/report", Role.county_admin, "350206", params={"period": "2025"})
    assert response.json()["region"]["region_code"] == "350206"
    assert response.json()["breakdown"] == []
    for role in (Role.institution_staff, Role.service):
        response = await _get(
            live,
            "/report",
            role,
            "350206",
            params={"period": "2025"},
            **({"institution_id": uuid.uuid4()} if role is Role.institution_staff else {}),
        )
        assert response.status_code == 403


async def test_an_institution_user_sees_its_own_contribution(
    reference: Database, indicators: Indicators, live: Live
) -> None:
    w = await _world(indicators, 7)
    hospital = max(
        (i for i in w.institutions if i["kind"] == "medical"),
        key=lambda i: sum(
            1 for a in w.agreements if a["medical_institution_id"] == i["id"] and world.in_force(a)
        ),
    )
    county = hospital["region_code"]
    headers = {"institution_id": hospital["id"]}
    response = await _get(
        live, "/report", Role.institution_admin, county, params={"period": "2025"}, **headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["institution_id"] == str(hospital["id"])
    assert body["breakdown"] == []
    figures = _figures(body["region"])
    for code in (
        "signed_pairs",
        "round_visits_done",
        "home_beds_opened",
        "homecare_orders",
        "integrated_beds",
        "referrals",
        "home_bed_satisfaction",
    ):
        numerator, denominator, _ = world.expected(w, code, county, only=hospital["id"])
        assert (figures[code]["numerator"], figures[code]["denominator"]) == (numerator, denominator), code
    other = "350203" if county != "350203" else "350206"
    response = await _get(
        live, "/report", Role.institution_admin, county, params={"period": "2025", "region": other}, **headers
    )
    assert response.status_code == 404
    response = await _get(live, "/targets/evaluation", Role.institution_admin, county, **headers)
    assert response.status_code == 403


async def test_targets_are_evaluated_county_by_county_and_as_a_whole(
    reference: Database, indicators: Indicators, live: Live
) -> None:
    w = await _world(indicators, 8)
    await load_targets(
        reference,
        [
            {
                "indicator": "home_bed_providers",
                "region_code": "350200",
                "each_county": True,
                "comparison": "gte",
                "value": Decimal(1),
                "due_date": date(2025, 12, 31),
            },
            {
                "indicator": "agreement_coverage",
                "region_code": "350200",
                "each_county": False,
                "comparison": "gte",
                "value": Decimal(1),
                "due_date": date(2025, 12, 31),
            },
            {
                "indicator": "agreement_coverage",
                "region_code": "350200",
                "each_county": False,
                "comparison": "gte",
                "value": Decimal("0.1"),
                "due_date": date(2030, 12, 31),
            },
        ],
    )
    response = await _get(
        live, "/targets/evaluation", Role.city_admin, "350200", params={"due": "2025-12-31"}
    )
    assert response.status_code == 200, response.text
    by_indicator = {t["indicator"]: t for t in response.json()["targets"]}
    assert set(by_indicator) == {"home_bed_providers", "agreement_coverage"}  # the 2030 one is not due
    providers = by_indicator["home_bed_providers"]
    counties = world.counties_in("350200")
    with_beds = {c for c in counties if world.expected(w, "home_bed_providers", c)[0]}
    assert {r["region_code"] for r in providers["met"]} == with_beds
    assert {r["region_code"] for r in providers["short"]} == counties - with_beds
    assert all(r["short_by"] == 1 for r in providers["short"])
    coverage = by_indicator["agreement_coverage"]
    numerator, denominator, value = world.expected(w, "agreement_coverage", "350200")
    assert value is not None
    if value >= 1:
        assert [r["region_code"] for r in coverage["met"]] == ["350200"]
    else:
        assert coverage["short"][0]["short_by"] == pytest.approx(1 - value)
    # the report shows the target due by the reference date for the region, and each county's shortfall
    figures = _figures(
        (await _get(live, "/report", params={"period": "2025", "region": "350200"})).json()["region"]
    )
    [target] = [t for t in figures["agreement_coverage"]["targets"]]
    assert (target["value"], target["status"]) == (1, "met" if value >= 1 else "short")
    [each] = figures["home_bed_providers"]["targets"]
    assert {c["region_code"] for c in each["counties_short"]} == counties - with_beds
    # a county admin sees only its own county in the "each county" list
    response = await _get(live, "/targets/evaluation", Role.county_admin, "350206")
    listed = {
        r["region_code"] for t in response.json()["targets"] for r in t["met"] + t["short"] + t["missing"]
    }
    assert listed == {"350206"}


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/report", {"period": "2025Q5"}, "invalid_period"),
        ("/report", {"period": "25"}, "invalid_period"),
        ("/report", {"period": "1800"}, "invalid_period"),
        ("/report", {"period": "2025", "region": "999999"}, "invalid_region"),
        ("/report", {"period": "2025", "region": "35"}, "invalid_region"),
        ("/report/no_such/records", {"period": "2025"}, "unknown_indicator"),
        ("/report/signed_pairs/records", {"period": "2025", "part": "gap"}, "no_denominator_records"),
        ("/report/health_management_rate/records", {"period": "2025"}, "indicator_missing"),
        ("/report/signed_pairs/records", {"period": "2025", "cursor": "!!"}, "invalid_cursor"),
        ("/report/signed_pairs/records", {"period": "2025", "cursor": "WyJhIiwiYiJd"}, "invalid_cursor"),
        ("/series", {"indicator": "nope", "from": "2024", "to": "2025"}, "unknown_indicator"),
        ("/series", {"indicator": "signed_pairs", "from": "2024Q1", "to": "2025"}, "invalid_period"),
        ("/series", {"indicator": "signed_pairs", "from": "2025", "to": "2024"}, "invalid_period"),
        ("/series", {"indicator": "signed_pairs", "from": "2000", "to": "2100"}, "period_range_too_long"),
        ("/report/export", {"period": "x"}, "invalid_period"),
    ],
)
async def test_bad_input_is_a_422_with_a_stable_code(
    indicators: Indicators, live: Live, path: str, params: dict[str, str], code: str
) -> None:
    response = await _get(live, path, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code


async def test_series_by_quarter_matches_each_quarter(
    reference: Database, indicators: Indicators, live: Live
) -> None:
    await _world(indicators, 9)
    params = {
        "indicator": "homecare_orders",
        "region": "350200",
        "by": "quarter",
        "from": "2025Q1",
        "to": "2025Q4",
    }
    response = await _get(live, "/series", params=params)
    assert response.status_code == 200, response.text
    points = response.json()["points"]
    assert [p["period"] for p in points] == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    year = (await _get(live, "/report", params={"period": "2025", "region": "350200"})).json()
    assert sum(p["numerator"] for p in points) == _figures(year["region"])["homecare_orders"]["numerator"]


async def test_xlsx_summary_has_a_sheet_per_level_and_the_drill_down_exports(
    reference: Database, indicators: Indicators, live: Live
) -> None:
    w = await _world(indicators, 10)
    response = await _get(live, "/report/export", params={"period": "2025", "region": "350200"})
    assert response.status_code == 200, response.text
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["市", "县（区）"]
    rows = list(book["县（区）"].iter_rows(values_only=True))
    assert rows[0][:8] == ("区划代码", "区划名称", "层级", "指标代码", "指标名称", "分子", "分母", "数值")
    by_key = {(r[0], r[3]): r for r in rows[1:]}
    for county in world.counties_in("350200"):
        assert by_key[(county, "signed_pairs")][5] == world.expected(w, "signed_pairs", county)[0]
    assert by_key[("350206", "health_management_rate")][12] == "缺失"
    response = await _get(
        live,
        "/report/agreement_coverage/records/export",
        params={"period": "2025", "region": "350200", "part": "gap"},
    )
    assert response.status_code == 200
    rows = list(
        load_workbook(io.BytesIO(response.content), read_only=True).active.iter_rows(values_only=True)
    )
    want = {
        u.key[0]
        for u in world.units(w, "agreement_coverage")
        if u.county in world.counties_in("350200") and u.den and u.den > u.num
    }
    assert {r[4] for r in rows[1:]} == want


def _quanzhou_counties_administered() -> tuple[set[str], set[str]]:
    """泉州's counties from the division list, and those its note says are not administered by Fujian."""
    path = Path(__file__).parents[3] / "libs" / "common" / "data" / "fujian_divisions.csv"
    rows = [r for r in csv.DictReader(path.open(encoding="utf-8")) if r["parent_code"] == "350500"]
    foreign = {r["code"] for r in rows if "Taiwan-administered" in r["note"]}
    return {r["code"] for r in rows if r["level"] == "county"}, foreign


async def test_each_county_targets_skip_the_county_with_no_fujian_administration(
    reference: Database, indicators: Indicators, live: Live
) -> None:
    # 金门县 is in GB/T 2260 under 泉州 but Taiwan-administered: an "each county" target cannot be met,
    # missed or left unevaluable there (no institution, population or figure can exist)
    await _world(indicators, 9)
    await load_targets(
        reference,
        [
            {
                "indicator": indicator,
                "region_code": "350500",
                "each_county": True,
                "comparison": "gte",
                "value": Decimal(1),
                "due_date": date(2025, 12, 31),
            }
            for indicator in ("home_bed_providers", "agreement_coverage")
        ],
    )
    counties, foreign = _quanzhou_counties_administered()
    assert foreign == {"350527"}
    response = await _get(live, "/targets/evaluation", params={"due": "2025-12-31"})
    assert response.status_code == 200, response.text
    by_indicator = {t["indicator"]: t for t in response.json()["targets"]}
    # the test world has nothing in 泉州: no provider anywhere (short), no home to cover (missing)
    providers = by_indicator["home_bed_providers"]
    assert {r["region_code"] for r in providers["short"]} == counties - foreign
    assert providers["met"] == providers["missing"] == []
    coverage = by_indicator["agreement_coverage"]
    assert {r["region_code"] for r in coverage["missing"]} == counties - foreign
    figures = _figures(
        (await _get(live, "/report", params={"period": "2025", "region": "350500"})).json()["region"]
    )
    [each] = figures["home_bed_providers"]["targets"]
    assert {c["region_code"] for c in each["counties_short"]} == counties - foreign
