"""The residents' indicators (issue 19): 规范健康管理率, 体检人次, 家庭医生签约率 and 续签率, 失能老年人评估.

The facts arrive as the residents feed's entries (its payload shapes), applied by the followers' own code
(``apply_entries``, the follower's cursor row as it stores it). Expected figures are indicators.md's
definitions applied by hand to the records below (two counties of 厦门: 思明 350203, 湖里 350206; the
2025 report, reference date 2025-12-31):

- check-ups 湖里 (one record per person and year): P1 opened 03-01, standard since 04-01; P2 opened 05-01,
  standard since 11-01; P3 opened 06-01, incomplete; P4's is of 2024, P5's of 2026 → 3 check-ups, 2
  people managed; 思明: P6 opened and standard 12-31 → 1 and 1.
- signings 湖里 in force on 12-31 of people 65+ at their start: S1 (P1), S3 (P2, the renewal of S2), S5
  (P3, transferred on 12-31: S4 ended that day, both are in force that day, P3 counts once) → 3; S10 (P8)
  is in force but P8 was under 65 at its start. 思明: S8 (starts 12-31) → 1; S9 starts in 2026.
- renewal 湖里: due in 2025 — S2 (renewed), S6 (ran out, never closed: still ``active``), S10 (expired)
  → 1 / 3; S7 was terminated early (not due); S4 was transferred.
- 失能 assessed (level ≥ 1): 湖里 P1 (twice: once), P2 level 0 (not), P3 in 2024 (not) → 1; 思明 P6 → 1.

Reporting (families/residents.py): both counties hold check-ups of 2025, contracts in force in 2025 and
assessments of 2025, so both report each kind; 厦门's four other counties and every other city report
nothing. A region's figure sums its reporting counties only; one with none has no figure (无上报).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from libs.common import divisions
from libs.common.auth import Role
from libs.common.database import Database, session_scope
from services.indicators.clients.feeds import FeedEntry
from services.indicators.facts.apply import RESIDENT_FACTS, apply_entries
from services.indicators.followers.models import FeedCursor
from services.indicators.reports.catalog import NO_REPORTS
from tests.cross_service.conftest import Live
from tests.indicators.conftest import Indicators
from tests.indicators.reports.test_reports import _clear_reference, load_population, load_targets

BASE = "/api/v1/indicators"
SIMING, HULI = "350203", "350206"
RESIDENT_CODES = (
    "health_management_rate",
    "elder_checkups",
    "family_doctor_signing_rate",
    "family_doctor_renewal_rate",
    "disabled_elder_assessments",
)
P = {n: uuid.UUID(int=100 + n) for n in range(1, 9)}
INSTITUTION = uuid.UUID(int=999)


def _id(kind: str, n: int) -> uuid.UUID:
    return uuid.UUID(int={"checkup": 1000, "signing": 2000, "assessment": 3000}[kind] + n)


def _checkup(
    n: int, person: int, county: str, year: int, first: date, standard_since: date | None
) -> tuple[str, uuid.UUID, str, dict[str, Any]]:
    return (
        "checkup",
        _id("checkup", n),
        county,
        {
            "id": str(_id("checkup", n)),
            "person_id": str(P[person]),
            "year": year,
            "region_code": county,
            "institution_id": str(INSTITUTION),
            "rule_version": "2025",
            "first_date": first.isoformat(),
            "last_date": (standard_since or first).isoformat(),
            "parts_done": ["physical_exam"],
            "standard": standard_since is not None,
            "standard_date": standard_since.isoformat() if standard_since else None,
        },
    )


def _signing(
    n: int,
    person: int,
    county: str,
    start: date,
    end: date,
    status: str = "active",
    *,
    ended: date | None = None,
    previous: int | None = None,
    origin: str = "new",
    elderly: bool = True,
) -> tuple[str, uuid.UUID, str, dict[str, Any]]:
    return (
        "signing",
        _id("signing", n),
        county,
        {
            "person_id": str(P[person]),
            "team_id": str(uuid.UUID(int=77)),
            "institution_id": str(INSTITUTION),
            "region_code": county,
            "status": status,
            "origin": origin,
            "previous_signing_id": str(_id("signing", previous)) if previous else None,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "ended_date": ended.isoformat() if ended else None,
            "termination_reason": "moved_away" if status == "terminated" else None,
            "total_fee_yuan": "120.00",
            "elderly_at_start": elderly,
        },
    )


def _assessment(
    n: int, person: int, county: str, day: date, level: int
) -> tuple[str, uuid.UUID, str, dict[str, Any]]:
    return (
        "assessment",
        _id("assessment", n),
        county,
        {
            "id": str(_id("assessment", n)),
            "person_id": str(P[person]),
            "region_code": county,
            "institution_id": str(INSTITUTION),
            "assessor_practitioner_id": None,
            "assessed_date": day.isoformat(),
            "scale_version": "GB/T 42195-2022",
            "total_score": 50,
            "total_level": level,
            "level": level,
        },
    )


D = date
RECORDS = [
    _checkup(1, 1, HULI, 2025, D(2025, 3, 1), D(2025, 4, 1)),
    _checkup(2, 2, HULI, 2025, D(2025, 5, 1), D(2025, 11, 1)),
    _checkup(3, 3, HULI, 2025, D(2025, 6, 1), None),
    _checkup(4, 4, HULI, 2024, D(2024, 12, 31), D(2024, 12, 31)),
    _checkup(5, 5, HULI, 2026, D(2026, 1, 1), D(2026, 1, 1)),
    _checkup(6, 6, SIMING, 2025, D(2025, 12, 31), D(2025, 12, 31)),
    _signing(1, 1, HULI, D(2025, 1, 10), D(2026, 1, 9)),
    _signing(2, 2, HULI, D(2024, 6, 1), D(2025, 5, 31), "renewed"),
    _signing(3, 2, HULI, D(2025, 6, 1), D(2026, 5, 31), previous=2, origin="renewal"),
    _signing(4, 3, HULI, D(2025, 2, 1), D(2026, 1, 31), "transferred", ended=D(2025, 12, 31)),
    _signing(5, 3, HULI, D(2025, 12, 31), D(2026, 12, 30), previous=4, origin="transfer"),
    _signing(6, 4, HULI, D(2024, 3, 1), D(2025, 2, 28)),
    _signing(7, 5, HULI, D(2024, 8, 1), D(2025, 7, 31), "terminated", ended=D(2025, 4, 1)),
    _signing(10, 8, HULI, D(2025, 1, 1), D(2025, 12, 31), "expired", elderly=False),
    _signing(8, 6, SIMING, D(2025, 12, 31), D(2026, 12, 30)),
    _signing(9, 7, SIMING, D(2026, 1, 1), D(2026, 12, 31)),
    _assessment(1, 1, HULI, D(2025, 4, 1), 2),
    _assessment(2, 1, HULI, D(2025, 10, 1), 3),
    _assessment(3, 2, HULI, D(2025, 5, 1), 0),
    _assessment(4, 3, HULI, D(2024, 12, 1), 1),
    _assessment(5, 6, SIMING, D(2025, 7, 1), 1),
]
#: 65+ population of the two counties (load_population stores residents // 10)
AGED = {SIMING: 1_000, HULI: 2_000}
EXPECTED = {  # county → code → (numerator, denominator)
    HULI: {
        "health_management_rate": (2, 2_000),
        "elder_checkups": (3, None),
        "family_doctor_signing_rate": (3, 2_000),
        "family_doctor_renewal_rate": (1, 3),
        "disabled_elder_assessments": (1, None),
    },
    SIMING: {
        "health_management_rate": (1, 1_000),
        "elder_checkups": (1, None),
        "family_doctor_signing_rate": (1, 1_000),
        "family_doctor_renewal_rate": (0, 0),
        "disabled_elder_assessments": (1, None),
    },
}


def entries(records: list[tuple[str, uuid.UUID, str, dict[str, Any]]]) -> list[FeedEntry]:
    return [
        FeedEntry(
            seq=seq,
            entity_type=entity_type,
            entity_id=entity_id,
            op="upsert",
            version=1,
            region_code=county,
            changed_at=datetime(2026, 1, 5, tzinfo=UTC),
            data=data,
        )
        for seq, (entity_type, entity_id, county, data) in enumerate(records, start=1)
    ]


async def feed_applied(database: Database, records: list[tuple[str, uuid.UUID, str, dict[str, Any]]]) -> None:
    """What the residents follower does with a page: its entries applied, its cursor stored."""
    page = entries(records)
    async with session_scope(database) as session:
        await apply_entries(session, "residents", page, facts=RESIDENT_FACTS)
        session.add(
            FeedCursor(feed="residents", cursor="c", last_seq=page[-1].seq, entries_applied=len(page))
        )


@pytest.fixture
async def population(indicators: Indicators) -> AsyncIterator[Database]:
    await _clear_reference(indicators.database)
    await load_population(indicators.database, {county: aged * 10 for county, aged in AGED.items()})
    yield indicators.database
    await _clear_reference(indicators.database)


async def _report(live: Live, region: str, role: Role = Role.province_admin) -> dict[str, dict[str, Any]]:
    response = await live.gateway.get(
        BASE + "/report",
        params={"period": "2025", "region": region},
        headers=live.tokens.headers(role, "350000" if role is Role.province_admin else region),
    )
    assert response.status_code == 200, response.text
    return {f["indicator"]: f for f in response.json()["region"]["figures"]}


def _sum(counties: list[str], code: str) -> tuple[int, int | None]:
    nums = [EXPECTED[c][code] for c in counties]
    dens = [d for _, d in nums]
    return sum(n for n, _ in nums), None if dens[0] is None else sum(d or 0 for d in dens)


async def test_figures_follow_the_definitions_in_each_county_and_add_up(
    population: Database, indicators: Indicators, live: Live
) -> None:
    await feed_applied(indicators.database, RECORDS)
    for region, counties in ((HULI, [HULI]), (SIMING, [SIMING])):
        figures = await _report(live, region)
        for code in RESIDENT_CODES:
            numerator, denominator = _sum(counties, code)
            figure = figures[code]
            assert (figure["numerator"], figure["denominator"]) == (numerator, denominator), (region, figure)
            if denominator == 0:
                assert figure["status"] == "missing"
            else:
                assert figure["status"] == "computed"
                expected = numerator / denominator if denominator else float(numerator)
                assert figure["value"] == pytest.approx(expected)
    # 厦门: its four other counties report nothing (and have no population row): the rates are the two
    # reporting counties' summed numerators over their summed 65+ population, with the coverage 2 of 6
    city = await _report(live, "350200")
    assert city["elder_checkups"]["value"] == 4
    assert city["disabled_elder_assessments"]["value"] == 2
    assert city["family_doctor_renewal_rate"]["value"] == pytest.approx(1 / 3)
    assert (city["health_management_rate"]["numerator"], city["health_management_rate"]["denominator"]) == (
        3,
        3_000,
    )
    assert city["health_management_rate"]["value"] == pytest.approx(3 / 3_000)
    assert city["family_doctor_signing_rate"]["value"] == pytest.approx(4 / 3_000)
    for code in RESIDENT_CODES:
        coverage = city[code]["coverage"]
        assert (coverage["reporting_counties"], coverage["counties"]) == (2, 6), code
        # the population of 厦门's other counties is not loaded: no share
        assert (coverage["aged_65_plus"], coverage["aged_65_plus_share"]) == (None, None)
    # the seeds' baselines are shown beside 湖里's figures
    huli = await _report(live, HULI)
    assert huli["elder_checkups"]["baseline"]["value"] == 38833
    assert huli["health_management_rate"]["baseline"]["value"] == pytest.approx(0.7796)


async def test_missing_until_the_residents_feed_delivers(
    population: Database, indicators: Indicators, live: Live
) -> None:
    figures = await _report(live, HULI)
    for code in RESIDENT_CODES:
        assert figures[code]["status"] == "missing"
        assert figures[code]["missing_reason"] == "居民服务尚未上线"
    response = await live.gateway.get(
        BASE + "/report/elder_checkups/records",
        params={"period": "2025", "region": HULI, "part": "numerator"},
        headers=live.tokens.headers(Role.province_admin, "350000"),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "indicator_missing"
    # once the feed has delivered (records of another county), a county with none of its records does not
    # report: no figure (无上报), never 0 %
    await feed_applied(indicators.database, [_checkup(6, 6, SIMING, 2025, D(2025, 12, 31), D(2025, 12, 31))])
    figures = await _report(live, HULI)
    for code in RESIDENT_CODES:
        figure = figures[code]
        assert (figure["status"], figure["value"], figure["missing_reason"]) == ("missing", None, NO_REPORTS)
        assert (figure["coverage"]["reporting_counties"], figure["coverage"]["counties"]) == (0, 1)
        assert figure["coverage"]["aged_65_plus_share"] == 0
    siming = await _report(live, SIMING)
    assert siming["elder_checkups"]["value"] == 1
    assert siming["health_management_rate"]["value"] == pytest.approx(1 / 1_000)
    # 思明 holds a check-up but no contract: it reports its check-ups, not its signing figures
    assert siming["family_doctor_signing_rate"]["missing_reason"] == NO_REPORTS
    assert siming["family_doctor_signing_rate"]["coverage"]["reporting_counties"] == 0


async def test_records_behind_the_figures(population: Database, indicators: Indicators, live: Live) -> None:
    await feed_applied(indicators.database, RECORDS)

    async def ids(code: str, part: str) -> tuple[int, set[str]]:
        response = await live.gateway.get(
            BASE + f"/report/{code}/records",
            params={"period": "2025", "region": HULI, "part": part},
            headers=live.tokens.headers(Role.province_admin, "350000"),
        )
        return response.status_code, {
            r["id"] for r in response.json().get("items", [])
        } if response.status_code == 200 else {response.json()["code"]}

    assert await ids("health_management_rate", "numerator") == (
        200,
        {str(_id("checkup", 1)), str(_id("checkup", 2))},
    )
    assert await ids("health_management_rate", "denominator") == (422, {"no_denominator_records"})
    assert await ids("family_doctor_renewal_rate", "gap") == (200, {str(_id("signing", n)) for n in (6, 10)})
    assert await ids("family_doctor_signing_rate", "numerator") == (
        200,
        {str(_id("signing", n)) for n in (1, 3, 5)},
    )
    assert await ids("disabled_elder_assessments", "numerator") == (200, {str(_id("assessment", 2))})


async def test_quarterly_series(population: Database, indicators: Indicators, live: Live) -> None:
    """Check-ups by the quarter their record was opened; the rate's quarters are the year to date."""
    await feed_applied(indicators.database, RECORDS)

    async def series(code: str) -> list[Any]:
        response = await live.gateway.get(
            BASE + "/series",
            params={"indicator": code, "region": HULI, "by": "quarter", "from": "2025Q1", "to": "2025Q4"},
            headers=live.tokens.headers(Role.province_admin, "350000"),
        )
        assert response.status_code == 200, response.text
        return [p["numerator"] for p in response.json()["points"]]

    assert await series("elder_checkups") == [1, 2, 0, 0]
    assert await series("health_management_rate") == [0, 1, 1, 2]


async def test_an_institution_user_sees_its_own_contribution(
    population: Database, indicators: Indicators, live: Live
) -> None:
    """Check-ups of another institution in the same county are not this institution's contribution."""
    other = _checkup(8, 7, HULI, 2025, D(2025, 8, 1), D(2025, 8, 1))
    other[3]["institution_id"] = str(uuid.UUID(int=998))
    await feed_applied(indicators.database, [*RECORDS, other])
    assert (await _report(live, HULI))["elder_checkups"]["value"] == 4
    response = await live.gateway.get(
        BASE + "/report",
        params={"period": "2025"},
        headers=live.tokens.headers(Role.institution_admin, HULI, institution_id=INSTITUTION),
    )
    assert response.status_code == 200, response.text
    mine = {f["indicator"]: f for f in response.json()["region"]["figures"]}
    assert mine["elder_checkups"]["value"] == 3
    assert mine["health_management_rate"]["numerator"] == 2
    assert mine["family_doctor_signing_rate"]["numerator"] == 3


async def test_the_province_sums_its_reporting_counties_and_shows_the_coverage(
    population: Database, indicators: Indicators, live: Live
) -> None:
    """The province's rates are 湖里's and 思明's records over THEIR 65+ population (not the province's);
    the coverage counts the administered counties (金门县 is not one); a city none of whose counties
    reports (福州) shows no figure."""
    await feed_applied(indicators.database, RECORDS)
    response = await live.gateway.get(
        BASE + "/report",
        params={"period": "2025", "region": "350000"},
        headers=live.tokens.headers(Role.province_admin, "350000"),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    province = {f["indicator"]: f for f in body["region"]["figures"]}
    administered = [d.code for d in divisions.all_divisions() if d.level.value == "county" and d.administered]
    for code in RESIDENT_CODES:
        numerator, denominator = _sum([HULI, SIMING], code)
        figure = province[code]
        assert (figure["numerator"], figure["denominator"]) == (numerator, denominator), code
        coverage = figure["coverage"]
        assert (coverage["reporting_counties"], coverage["counties"]) == (2, len(administered)), code
    assert province["health_management_rate"]["value"] == pytest.approx(3 / 3_000)
    assert province["family_doctor_signing_rate"]["value"] == pytest.approx(4 / 3_000)
    assert province["family_doctor_renewal_rate"]["value"] == pytest.approx(1 / 3)
    # figures without a reporting rule carry no coverage
    assert province["signed_pairs"]["coverage"] is None
    cities = {r["region_code"]: {f["indicator"]: f for f in r["figures"]} for r in body["breakdown"]}
    fuzhou = cities["350100"]
    for code in RESIDENT_CODES:
        assert (fuzhou[code]["status"], fuzhou[code]["value"]) == ("missing", None)
        assert fuzhou[code]["missing_reason"] == NO_REPORTS
        assert fuzhou[code]["coverage"]["reporting_counties"] == 0
    assert cities["350200"]["health_management_rate"]["value"] == pytest.approx(3 / 3_000)


async def test_coverage_share_of_the_65_plus_population(indicators: Indicators, live: Live) -> None:
    """With every county of 厦门 in the population table, the coverage gives the share of 厦门's 65+
    people the reporting counties hold."""
    await _clear_reference(indicators.database)
    try:
        counties = sorted(d.code for d in divisions.counties_of("350200"))
        aged = {c: 1_000 * (n + 1) for n, c in enumerate(counties)}
        await load_population(indicators.database, {c: a * 10 for c, a in aged.items()})
        await feed_applied(indicators.database, RECORDS)
        city = await _report(live, "350200")
        reporting = aged[HULI] + aged[SIMING]
        for code in RESIDENT_CODES:
            coverage = city[code]["coverage"]
            assert (coverage["aged_65_plus_reporting"], coverage["aged_65_plus"]) == (
                reporting,
                sum(aged.values()),
            )
            assert coverage["aged_65_plus_share"] == pytest.approx(reporting / sum(aged.values()))
        assert city["health_management_rate"]["denominator"] == reporting
        assert city["health_management_rate"]["value"] == pytest.approx(3 / reporting)
    finally:
        await _clear_reference(indicators.database)


async def test_targets_read_the_reporting_counties_only(
    population: Database, indicators: Indicators, live: Live
) -> None:
    """厦门's ≥ 75 % target is evaluated on its reporting counties' figure; an "each county" target finds
    湖里 and 思明 short and the four counties that do not report not evaluable (无上报), never short at
    0 %."""
    await load_targets(
        indicators.database,
        [
            {
                "indicator": "health_management_rate",
                "region_code": "350200",
                "each_county": each,
                "comparison": "gte",
                "value": Decimal("0.75"),
                "due_date": date(2025, 12, 31),
            }
            for each in (False, True)
        ],
    )
    await feed_applied(indicators.database, RECORDS)
    city = await _report(live, "350200", Role.city_admin)
    targets = {t["each_county"]: t for t in city["health_management_rate"]["targets"]}
    assert (targets[False]["status"], targets[False]["short_by"]) == (
        "short",
        pytest.approx(0.75 - 3 / 3_000),
    )
    assert targets[True]["status"] == "short"
    by_county = {c["region_code"]: c for c in targets[True]["counties_short"]}
    assert {c for c, v in by_county.items() if v["short_by"] is not None} == {HULI, SIMING}
    others = {c for c, v in by_county.items() if v["short_by"] is None}
    assert others == {d.code for d in divisions.counties_of("350200")} - {HULI, SIMING}
    assert {by_county[c]["reason"] for c in others} == {NO_REPORTS}
    response = await live.gateway.get(
        BASE + "/targets/evaluation",
        params={"due": "2025-12-31"},
        headers=live.tokens.headers(Role.city_admin, "350200"),
    )
    assert response.status_code == 200, response.text
    each = next(t for t in response.json()["targets"] if t["each_county"])
    assert {r["region_code"] for r in each["short"]} == {HULI, SIMING}
    assert {r["reason"] for r in each["missing"]} == {NO_REPORTS}
    whole = next(t for t in response.json()["targets"] if not t["each_county"])
    assert [r["value"] for r in whole["short"]] == [pytest.approx(3 / 3_000)]


@pytest.mark.parametrize(("reporting_aged", "judged"), [(1_000, False), (9_000, True)])
async def test_a_region_target_needs_its_reporting_counties_to_hold_most_of_its_elders(
    indicators: Indicators, live: Live, reporting_aged: int, judged: bool
) -> None:
    """厦门's ≥ 75 % target on the figure summed over 湖里 and 思明 is judged only when those two counties
    hold at least 80 % (INDICATORS_TARGET_MIN_COVERAGE's default) of 厦门's 65+ population; below it the
    target is not evaluable (无法评价) with the coverage as the reason — in the report and in the
    evaluation — while the figure itself is still shown."""
    await _clear_reference(indicators.database)
    try:
        counties = sorted(d.code for d in divisions.counties_of("350200"))
        others = [c for c in counties if c not in (HULI, SIMING)]
        aged = {HULI: reporting_aged, SIMING: reporting_aged} | {c: 500 for c in others}
        share = 2 * reporting_aged / sum(aged.values())
        assert (share >= 0.8) is judged  # the two cases sit on either side of the threshold
        await load_population(indicators.database, {c: a * 10 for c, a in aged.items()})
        await load_targets(
            indicators.database,
            [
                {
                    "indicator": "health_management_rate",
                    "region_code": "350200",
                    "each_county": False,
                    "comparison": "gte",
                    "value": Decimal("0.75"),
                    "due_date": date(2025, 12, 31),
                }
            ],
        )
        await feed_applied(indicators.database, RECORDS)
        figure = (await _report(live, "350200", Role.city_admin))["health_management_rate"]
        assert figure["value"] == pytest.approx(3 / (2 * reporting_aged))
        (target,) = figure["targets"]
        response = await live.gateway.get(
            BASE + "/targets/evaluation",
            params={"due": "2025-12-31"},
            headers=live.tokens.headers(Role.city_admin, "350200"),
        )
        assert response.status_code == 200, response.text
        (evaluated,) = [t for t in response.json()["targets"] if t["indicator"] == "health_management_rate"]
        if judged:
            assert target["status"] == "short"
            assert [r["region_code"] for r in evaluated["short"]] == ["350200"]
        else:
            assert (target["status"], target["short_by"]) == ("missing", None)
            assert target["reason"].startswith("上报覆盖不足：2/6 个县（区）上报")
            assert [(r["region_code"], r["value"]) for r in evaluated["missing"]] == [("350200", None)]
            assert evaluated["missing"][0]["reason"] == target["reason"]
    finally:
        await _clear_reference(indicators.database)
