"""The residents feed followed end to end (issue 19): records made through the real residents API (a
signing, a 65+ check-up, an ability assessment) reach the indicators' read model through the gateway,
with the indicators' service token, and the report counts them.

Expected values are the residents' own rules: the check-up with every required part done is standard
(规范); an assessment totalling 40 is 能力重度受损 (level 3, 失能); the resident born 1950 is 65+ when signed
today, and a one-year contract signed today is in force at the end of this year.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text

from libs.common.auth import Role
from libs.common.clock import today_in_china
from libs.common.database import Database, session_scope
from libs.common.testing import Tokens, live_client
from services.indicators.facts.models import AssessmentFact, CheckupFact, FactColumns, SigningFact
from services.indicators.followers import statistics
from services.indicators.reports.catalog import NO_REPORTS
from services.residents.checkups.rules import RULES
from tests.cross_service.conftest import Live
from tests.indicators.conftest import Indicators
from tests.indicators.helpers import fact
from tests.residents.assessments.scores import scores_totalling
from tests.residents.signings.flows import practice, resident, signed
from tests.residents.world import HULI, RES, World

BASE = "/api/v1/indicators"
LAST_YEAR = today_in_china().year - 1


@pytest.fixture
async def residents_world(
    residents_app: FastAPI, registry_app: FastAPI, tokens: Tokens
) -> AsyncIterator[World]:
    """The residents test world over clients whose writes commit (the feed shows committed records)."""
    async with (
        live_client(registry_app, base_url="http://gateway") as registry,
        live_client(residents_app) as client,
    ):
        yield World(client, registry, tokens)


async def _figures(live: Live, period: str) -> dict[str, dict[str, Any]]:
    response = await live.gateway.get(
        BASE + "/report",
        params={"period": period, "region": HULI},
        headers=live.tokens.headers(Role.province_admin, "350000"),
    )
    assert response.status_code == 200, response.text
    return {f["indicator"]: f for f in response.json()["region"]["figures"]}


async def test_records_made_through_the_residents_api_reach_the_report(
    indicators: Indicators, live: Live, residents_world: World
) -> None:
    world = residents_world
    before_checkups = (await _figures(live, str(LAST_YEAR)))["elder_checkups"]
    assert before_checkups["missing_reason"] == "居民服务尚未上线"  # nothing followed yet

    p = await practice(world)
    person = await resident(world, p.inst, birth=date(1950, 5, 1))
    signing = await signed(world, p, person)
    parts = [
        {"code": part.code, "done_date": date(LAST_YEAR, 4, 8).isoformat()}
        for part in RULES["nbphs3-likely-1"].parts
    ]
    checkup = await world.client.post(
        f"{RES}/checkups", json={"person_id": person["id"], "parts": parts}, headers=world.admin(p.inst)
    )
    assert checkup.status_code == 201, checkup.text
    assessment = await world.client.post(
        f"{RES}/assessments",
        json={
            "person_id": person["id"],
            "assessed_date": date(LAST_YEAR, 5, 1).isoformat(),
            "scores": scores_totalling(40),
        },
        headers=world.admin(p.inst),
    )
    assert assessment.status_code == 201, assessment.text

    counts = await indicators.followers["residents"].catch_up()
    assert counts >= 3

    row = await fact(indicators.database, SigningFact, signing["id"])
    assert (row.person_id.hex, row.status, row.elderly_at_start, row.region_code) == (
        person["id"].replace("-", ""),
        "active",
        True,
        HULI,
    )
    row = await fact(indicators.database, CheckupFact, checkup.json()["id"])
    assert (row.year, row.standard, row.standard_date) == (LAST_YEAR, True, date(LAST_YEAR, 4, 8))
    row = await fact(indicators.database, AssessmentFact, assessment.json()["id"])
    assert (row.level, row.assessed_date) == (3, date(LAST_YEAR, 5, 1))

    last_year = await _figures(live, str(LAST_YEAR))
    assert last_year["elder_checkups"]["numerator"] == 1
    assert last_year["health_management_rate"]["numerator"] == 1
    assert last_year["disabled_elder_assessments"]["numerator"] == 1
    this_year = await _figures(live, str(LAST_YEAR + 1))
    assert this_year["family_doctor_signing_rate"]["numerator"] == 1
    # no check-up of this year: 湖里 does not report this year's check-ups (no figure, not 0)
    assert this_year["elder_checkups"]["numerator"] is None
    assert this_year["elder_checkups"]["missing_reason"] == NO_REPORTS


async def _estimated_rows(database: Database, model: type[FactColumns]) -> float | None:
    """PostgreSQL's row estimate of the table (-1: never analysed); None on SQLite."""
    if database.is_sqlite:
        return None
    async with session_scope(database, write=False) as session:
        found = await session.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)"),
            {"table": model.__tablename__},  # type: ignore[attr-defined]
        )
    return float(found)


async def _rows(database: Database, model: type[FactColumns]) -> int:
    async with session_scope(database, write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_caught_up_follower_analyses_its_tables_after_enough_entries(
    indicators: Indicators, live: Live, residents_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the tables a catch-up filled are analysed (the planner's row estimate becomes the
    table's rows) once the follower has applied ``ANALYZE_AFTER_ENTRIES`` entries since it last did;
    below that they are left to autovacuum. SQLite: nothing to analyse, the catch-up works alike."""
    world = residents_world
    follower = indicators.followers["residents"]
    p = await practice(world)
    person = await resident(world, p.inst, birth=date(1950, 5, 1))
    await signed(world, p, person)
    estimate_before = await _estimated_rows(indicators.database, SigningFact)
    pending = follower.applied_since_analyze  # what earlier catch-ups of the fixtures applied

    monkeypatch.setattr(statistics, "ANALYZE_AFTER_ENTRIES", 1_000)
    applied = await follower.catch_up()  # below the threshold: not analysed

    assert 1 <= applied < 1_000
    assert follower.applied_since_analyze == pending + applied
    assert await _estimated_rows(indicators.database, SigningFact) == estimate_before

    other = await resident(world, p.inst, birth=date(1951, 6, 1))
    await signed(world, p, other)
    monkeypatch.setattr(statistics, "ANALYZE_AFTER_ENTRIES", pending + applied + 1)
    more = await follower.catch_up()  # the threshold reached: analysed once caught up

    assert more >= 1
    assert follower.applied_since_analyze == 0
    rows = await _rows(indicators.database, SigningFact)
    estimate = await _estimated_rows(indicators.database, SigningFact)
    if indicators.database.is_sqlite:
        assert estimate is None
    else:
        assert estimate == rows  # ANALYZE of a small table counts every row
