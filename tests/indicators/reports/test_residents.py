"""The residents' indicators (issue 19): 规范健康管理率, 体检人次, 家庭医生签约率 and 续签率, 失能老年人评估.

The facts arrive as the residents feed's entries, applied by the followers' own code (``apply_entries``,
the follower's cursor row as it stores it). Expected figures are indicators.md's definitions applied by
hand to the records below (two counties of 厦门: 思明 350203, 湖里 350206; the 2025 report, reference
date 2025-12-31):

- check-ups 湖里: P1 standard 03-01; P2 standard 05-01 and again 11-01; P3 incomplete 06-01; P4 standard
  2024-12-31 and P5 standard 2026-01-01 (outside) → 4 check-ups, 2 people managed; 思明: P6 standard
  12-31 → 1 and 1.
- signings 湖里 in force on 12-31: S1 (P1), S3 (P2, the renewal of S2), S5 (P3, who moved team on 12-31:
  S4 ended that day) → 3; 思明: S8 (starts 12-31) → 1, S9 starts 2026 → not.
- renewal 湖里: terms ending in 2025 that ran to term — S2 (renewed by S3), S6 (not renewed) → 1 / 2; S7
  was terminated early (not due for renewal); S4's term ends in 2026.
- 失能 assessed: 湖里 P1 (twice: once), P2 能力完好 (not), P3 in 2024 (not) → 1; 思明 P6 → 1.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from libs.common.auth import Role
from libs.common.database import Database, session_scope
from services.indicators.clients.feeds import FeedEntry
from services.indicators.facts.apply import RESIDENT_FACTS, apply_entries
from services.indicators.followers.models import FeedCursor
from tests.cross_service.conftest import Live
from tests.indicators.conftest import Indicators
from tests.indicators.reports.test_reports import _clear_reference, load_population

BASE = "/api/v1/indicators"
SIMING, HULI = "350203", "350206"
RESIDENT_CODES = (
    "health_management_rate",
    "elder_checkups",
    "family_doctor_signing_rate",
    "family_doctor_renewal_rate",
    "disabled_elder_assessments",
)
P = {n: uuid.UUID(int=100 + n) for n in range(1, 8)}
INSTITUTION = uuid.UUID(int=999)


def _id(kind: str, n: int) -> uuid.UUID:
    return uuid.UUID(int={"checkup": 1000, "signing": 2000, "assessment": 3000}[kind] + n)


def _checkup(
    n: int, person: int, county: str, day: date, standard: bool
) -> tuple[str, uuid.UUID, str, dict[str, Any]]:
    data = {"person_id": str(P[person]), "institution_id": str(INSTITUTION), "checkup_date": day.isoformat()}
    return "checkup", _id("checkup", n), county, {**data, "standard": standard}


def _signing(
    n: int,
    person: int,
    county: str,
    start: date,
    end: date,
    *,
    ended_on: date | None = None,
    renewal_of: int | None = None,
) -> tuple[str, uuid.UUID, str, dict[str, Any]]:
    return (
        "signing",
        _id("signing", n),
        county,
        {
            "person_id": str(P[person]),
            "team_id": str(uuid.UUID(int=77)),
            "institution_id": str(INSTITUTION),
            "status": "ended" if ended_on else "active",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "ended_on": ended_on.isoformat() if ended_on else None,
            "renewal_of_id": str(_id("signing", renewal_of)) if renewal_of else None,
        },
    )


def _assessment(
    n: int, person: int, county: str, day: date, level: str, disabled: bool
) -> tuple[str, uuid.UUID, str, dict[str, Any]]:
    return (
        "assessment",
        _id("assessment", n),
        county,
        {
            "person_id": str(P[person]),
            "institution_id": str(INSTITUTION),
            "assessed_on": day.isoformat(),
            "level": level,
            "disabled": disabled,
        },
    )


RECORDS = [
    _checkup(1, 1, HULI, date(2025, 3, 1), True),
    _checkup(2, 2, HULI, date(2025, 5, 1), True),
    _checkup(3, 2, HULI, date(2025, 11, 1), True),
    _checkup(4, 3, HULI, date(2025, 6, 1), False),
    _checkup(5, 4, HULI, date(2024, 12, 31), True),
    _checkup(6, 5, HULI, date(2026, 1, 1), True),
    _checkup(7, 6, SIMING, date(2025, 12, 31), True),
    _signing(1, 1, HULI, date(2025, 1, 10), date(2026, 1, 9)),
    _signing(2, 2, HULI, date(2024, 6, 1), date(2025, 5, 31)),
    _signing(3, 2, HULI, date(2025, 6, 1), date(2026, 5, 31), renewal_of=2),
    _signing(4, 3, HULI, date(2025, 2, 1), date(2026, 1, 31), ended_on=date(2025, 12, 31)),
    _signing(5, 3, HULI, date(2025, 12, 31), date(2026, 12, 30)),
    _signing(6, 4, HULI, date(2024, 3, 1), date(2025, 2, 28)),
    _signing(7, 5, HULI, date(2024, 8, 1), date(2025, 7, 31), ended_on=date(2025, 4, 1)),
    _signing(8, 6, SIMING, date(2025, 12, 31), date(2026, 12, 30)),
    _signing(9, 7, SIMING, date(2026, 1, 1), date(2026, 12, 31)),
    _assessment(1, 1, HULI, date(2025, 4, 1), "moderate", True),
    _assessment(2, 1, HULI, date(2025, 10, 1), "severe", True),
    _assessment(3, 2, HULI, date(2025, 5, 1), "intact", False),
    _assessment(4, 3, HULI, date(2024, 12, 1), "mild", True),
    _assessment(5, 6, SIMING, date(2025, 7, 1), "mild", True),
]
#: 65+ population of the two counties (load_population stores residents // 10)
AGED = {SIMING: 1_000, HULI: 2_000}
EXPECTED = {  # county → code → (numerator, denominator)
    HULI: {
        "health_management_rate": (2, 2_000),
        "elder_checkups": (4, None),
        "family_doctor_signing_rate": (3, 2_000),
        "family_doctor_renewal_rate": (1, 2),
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
    # 厦门 has four more counties without a population row: its rates cannot be computed, its counts can
    city = await _report(live, "350200")
    assert city["elder_checkups"]["value"] == 5
    assert city["disabled_elder_assessments"]["value"] == 2
    assert city["family_doctor_renewal_rate"]["value"] == pytest.approx(1 / 2)
    assert city["health_management_rate"]["missing_reason"] == "未导入人口数据"
    assert city["health_management_rate"]["numerator"] == 3
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
    # once the feed has delivered (even records of other counties), a county with none counts 0
    await feed_applied(indicators.database, [_checkup(7, 6, SIMING, date(2025, 12, 31), True)])
    figures = await _report(live, HULI)
    assert figures["elder_checkups"]["value"] == 0
    assert figures["health_management_rate"]["value"] == 0
    assert figures["family_doctor_renewal_rate"]["missing_reason"] == "分母为 0（区域内没有符合条件的记录）"


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

    # P2 counts once: their latest standard record of the year
    assert await ids("health_management_rate", "numerator") == (
        200,
        {str(_id("checkup", 1)), str(_id("checkup", 3))},
    )
    assert await ids("health_management_rate", "denominator") == (422, {"no_denominator_records"})
    assert await ids("family_doctor_renewal_rate", "gap") == (200, {str(_id("signing", 6))})
    assert await ids("family_doctor_signing_rate", "numerator") == (
        200,
        {str(_id("signing", n)) for n in (1, 3, 5)},
    )
    assert await ids("disabled_elder_assessments", "numerator") == (200, {str(_id("assessment", 2))})


async def test_quarterly_series_of_check_ups(
    population: Database, indicators: Indicators, live: Live
) -> None:
    await feed_applied(indicators.database, RECORDS)
    response = await live.gateway.get(
        BASE + "/series",
        params={
            "indicator": "elder_checkups",
            "region": HULI,
            "by": "quarter",
            "from": "2025Q1",
            "to": "2025Q4",
        },
        headers=live.tokens.headers(Role.province_admin, "350000"),
    )
    assert response.status_code == 200, response.text
    assert [p["value"] for p in response.json()["points"]] == [1, 2, 0, 1]


async def test_an_institution_user_sees_its_own_contribution(
    population: Database, indicators: Indicators, live: Live
) -> None:
    """Check-ups of another institution in the same county are not this institution's contribution."""
    other = _checkup(8, 7, HULI, date(2025, 8, 1), True)
    other[3]["institution_id"] = str(uuid.UUID(int=998))
    await feed_applied(indicators.database, [*RECORDS, other])
    assert (await _report(live, HULI))["elder_checkups"]["value"] == 5
    response = await live.gateway.get(
        BASE + "/report",
        params={"period": "2025"},
        headers=live.tokens.headers(Role.institution_admin, HULI, institution_id=INSTITUTION),
    )
    assert response.status_code == 200, response.text
    mine = {f["indicator"]: f for f in response.json()["region"]["figures"]}
    assert mine["elder_checkups"]["value"] == 4
    assert mine["health_management_rate"]["numerator"] == 2
    assert mine["family_doctor_signing_rate"]["numerator"] == 3
