"""The demo's residents figures end to end (issue 19): 湖里's demo residents seeded through the residents
service's bulk paths (``demo.residents`` at the test stacks' scale, 2 %), the indicators' residents
follower catching up on the residents feed (the real residents app, read with the indicators' service
token), the demo population loaded (``demo.indicators``), and the report's three rates for 湖里, 厦门 and
the province.

Expected values are counted in the residents database with the definitions of indicators.md (not with
the indicators' code): 规范健康管理率 = people whose check-up of the year is 规范 by 12-31 / 65+ population;
签约率 = people 65+ at their contract's start with a contract in force on 12-31 / 65+ population; 续签率 =
contracts whose term ended in the year (ran to it: active, renewed or expired; unrenewed ones only once
their end date has passed) renewed / all of them. Only 湖里 holds records, so 厦门's and the province's
figures are 湖里's, with the coverage 1 of 6 and 1 of 83 counties (金门县 is not administered).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, or_, select

from demo import residents as demo
from demo.indicators import seed_reference
from libs.common import divisions
from libs.common.auth import Role, TokenVerifier
from libs.common.clock import today_in_china
from libs.common.database import Database, session_scope
from libs.common.http_client import StaticTokenSource
from libs.common.migrations import upgrade_head_async
from libs.common.testing import TestDatabases, Tokens, make_settings, running
from services.indicators.app import create_app as create_indicators_app
from services.indicators.clients.feeds import FeedClient
from services.indicators.followers.follower import Follower
from services.indicators.settings import IndicatorsSettings
from services.residents.app import create_app as create_residents_app
from services.residents.checkups.models import Checkup
from services.residents.settings import ResidentsSettings
from services.residents.signings.models import Signing
from tests import platform_apps
from tests.demo.test_residents_seed import province

HULI, XIAMEN, PROVINCE = "350206", "350200", "350000"
SCALE = 0.02  # what the test stacks seed (DEMO_RESIDENTS_SCALE)
YEAR = today_in_china().year - 1  # the demo's check-ups and contracts start in the last year
CODES = ("health_management_rate", "family_doctor_signing_rate", "family_doctor_renewal_rate")


@dataclass(frozen=True)
class Stack:
    indicators: httpx.AsyncClient
    residents: ResidentsSettings
    tokens: Tokens
    entries: int  # feed entries the follower applied


@pytest.fixture(scope="module")
async def stack(
    test_databases: TestDatabases, token_verifier: TokenVerifier, tokens: Tokens
) -> AsyncIterator[Stack]:
    async with platform_apps.database_urls(
        test_databases, ("residents", "indicators"), sqlite_prefix="demo_ind", postgres_suffix="demo_ind"
    ) as urls:
        residents_settings = make_settings(ResidentsSettings, test_databases, database_url=urls["residents"])
        await upgrade_head_async(residents_settings)
        made = await demo.seed(residents_settings, counties=[HULI], scale=SCALE, province=province())
        assert made[HULI]["checkups"] > 0
        assert made[HULI]["renewals"] > 0
        settings = make_settings(
            IndicatorsSettings, test_databases, database_url=urls["indicators"], follow_interval_seconds=0
        )
        residents_app = create_residents_app(residents_settings, verifier=token_verifier)
        async with (
            running(residents_app),
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=residents_app), base_url="http://gateway"
            ) as feed,
        ):
            indicators_app: FastAPI = create_indicators_app(
                settings, verifier=token_verifier, gateway_http=feed
            )
            async with running(indicators_app):
                database: Database = indicators_app.state.database
                async with session_scope(database) as session:
                    await seed_reference(session)  # the demo population and targets
                token = tokens.token(Role.service, sub="service:indicators", audience="residents")
                follower = Follower(
                    "residents",
                    FeedClient("residents", feed, StaticTokenSource(token)),
                    database,
                    batch_size=settings.follow_batch_size,
                )
                entries = await follower.catch_up()
                async with httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=indicators_app), base_url="http://indicators"
                ) as client:
                    yield Stack(client, residents_settings, tokens, entries)


async def _expected(settings: ResidentsSettings, year: int) -> dict[str, tuple[int, int]]:
    """The three rates' numerator and denominator for 湖里, counted in the residents database."""
    day, today = date(year, 12, 31), today_in_china()
    aged = demo.aged_65_plus(HULI)
    database = Database(settings)
    try:
        async with session_scope(database, write=False) as session:
            managed = await session.scalar(
                select(func.count(func.distinct(Checkup.person_id))).where(
                    Checkup.region_code == HULI,
                    Checkup.year == year,
                    Checkup.standard.is_(True),
                    Checkup.standard_date <= day,
                )
            )
            signed = await session.scalar(
                select(func.count(func.distinct(Signing.person_id))).where(
                    Signing.region_code == HULI,
                    Signing.elderly_at_start.is_(True),
                    Signing.start_date <= day,
                    func.coalesce(Signing.ended_date, Signing.end_date) >= day,
                )
            )
            due = (
                (
                    await session.execute(
                        select(Signing.status).where(
                            Signing.region_code == HULI,
                            Signing.end_date >= date(year, 1, 1),
                            Signing.end_date <= day,
                            Signing.status.in_(("active", "renewed", "expired")),
                            or_(Signing.status == "renewed", Signing.end_date < today),
                        )
                    )
                )
                .scalars()
                .all()
            )
    finally:
        await database.dispose()
    return {
        "health_management_rate": (int(managed or 0), aged),
        "family_doctor_signing_rate": (int(signed or 0), aged),
        "family_doctor_renewal_rate": (sum(1 for s in due if s == "renewed"), len(due)),
    }


async def _report(stack: Stack, region: str, year: int) -> dict[str, Any]:
    response = await stack.indicators.get(
        "/api/v1/indicators/report",
        params={"period": str(year), "region": region},
        headers=stack.tokens.headers(Role.province_admin, PROVINCE),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _administered(region: str) -> int:
    """The counties a region's coverage counts: its administered counties (a county: itself)."""
    if divisions.is_county(region):
        return 1
    counties = (
        [d for d in divisions.all_divisions() if divisions.is_county(d.code)]
        if region == PROVINCE
        else list(divisions.counties_of(region))
    )
    return sum(1 for d in counties if d.administered)


@pytest.mark.parametrize("year", [YEAR, YEAR + 1])
async def test_the_three_rates_are_the_generated_records(stack: Stack, year: int) -> None:
    assert stack.entries > 0
    expected = await _expected(stack.residents, year)
    for region in (HULI, XIAMEN, PROVINCE):
        body = await _report(stack, region, year)
        figures = {f["indicator"]: f for f in body["region"]["figures"]}
        for code in CODES:
            figure = figures[code]
            numerator, denominator = expected[code]
            if code == "health_management_rate" and year == YEAR + 1:
                # the demo has no check-up of this year: 湖里 does not report it, nor does any region
                assert (figure["status"], figure["value"]) == ("missing", None), (region, figure)
                assert figure["coverage"]["reporting_counties"] == 0
                continue
            assert (figure["numerator"], figure["denominator"]) == (numerator, denominator), (region, code)
            assert figure["value"] == pytest.approx(numerator / denominator), (region, code)
            coverage = figure["coverage"]
            assert (coverage["reporting_counties"], coverage["counties"]) == (1, _administered(region))
            assert coverage["aged_65_plus_reporting"] == demo.aged_65_plus(HULI)
            if region == HULI:
                assert coverage["aged_65_plus_share"] == 1


async def test_the_rates_are_near_the_seeds(stack: Stack) -> None:
    """The seed at 2 % writes 2 % of 湖里's elders (777 check-ups) while the population table stays whole
    (46,300 people 65+), so each 65+ rate is 2 % of the seeds' — over the scale, and the generator's
    randomness aside: 规范健康管理率 near 湖里's 77.96 %, contracts near 53.8 % (less the unrenewed ones
    already over); the renewal rate (contracts over contracts) near 96.51 % as it is."""
    last = {f["indicator"]: f for f in (await _report(stack, PROVINCE, YEAR))["region"]["figures"]}
    this = {f["indicator"]: f for f in (await _report(stack, PROVINCE, YEAR + 1))["region"]["figures"]}
    assert abs(last["health_management_rate"]["value"] / SCALE - 0.7796) < 0.04
    assert 0.49 < last["family_doctor_signing_rate"]["value"] / SCALE <= demo.SIGNED_SHARE + 0.005
    assert abs(this["family_doctor_renewal_rate"]["value"] - 0.9651) < 0.04
