"""The residents demo (issue 19) goes through the residents service's bulk paths and its size follows
the seeds: 湖里's 38,833 check-ups a year over its 65+ population, the rest scaled by theirs.

A tiny scale (1/1000) on a province of two primary-care institutions of 湖里 (a doctor and a nurse each)
and one without a doctor (no team).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest_asyncio
from sqlalchemy import func, select, text

from demo import residents as demo
from demo.province import Person, Place, Province
from libs.common.auth import Principal, Role
from libs.common.clock import today_in_china
from libs.common.database import Database
from libs.common.migrations import upgrade_head_async
from libs.common.testing import TestDatabases, make_settings
from services.residents import models as _all_models  # noqa: F401  (every model)
from services.residents.assessments.models import Assessment
from services.residents.checkups.models import Checkup
from services.residents.persons.models import Person as ResidentPerson
from services.residents.settings import ResidentsSettings
from services.residents.signings import service as signings_service
from services.residents.signings.models import Signing
from services.residents.teams.models import Team

HULI = "350206"
SCALE = 0.001


def _place(name: str, category: str = "community_health_center") -> Place:
    return Place(
        id=uuid.uuid5(uuid.NAMESPACE_OID, name),
        name=name,
        kind="medical",
        category=category,
        region_code=HULI,
        hospital_grade=None,
        ws218_kind_code="B100",
        latitude=None,
        longitude=None,
        operating_since=date(2005, 1, 1),
        beds_elderly_care=0,
        home_bed_service=False,
        internet_nursing_provider=False,
        has_medical_unit=True,
    )


def province() -> Province:
    places = [
        _place("湖里区殿前街道社区卫生服务中心"),
        _place("湖里区禾山街道社区卫生服务中心"),
        _place("无医生中心"),
    ]
    people = []
    for place in places[:2]:
        for kind, title in (("doctor", "attending_physician"), ("nurse", "supervising_nurse")):
            people.append(
                Person(uuid.uuid5(place.id, kind), place.id, f"{place.name[:3]}{kind}", kind, title, 10)
            )
    people.append(Person(uuid.uuid5(places[2].id, "nurse"), places[2].id, "护士", "nurse", "nurse", 3))
    return Province(places, people)


@pytest_asyncio.fixture(scope="module")
async def residents(test_databases: TestDatabases) -> AsyncIterator[ResidentsSettings]:
    url = test_databases.postgres_url or f"sqlite+aiosqlite:///{test_databases.root / 'demo_residents.db'}"
    settings = make_settings(
        ResidentsSettings, test_databases, database_url=url, database_schema="demo_residents"
    )
    await upgrade_head_async(settings)
    yield settings


async def _count(settings: ResidentsSettings, model: type, *where: object) -> int:
    database = Database(settings)
    try:
        async with database.session() as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]
    finally:
        await database.dispose()


async def _estimated_rows(settings: ResidentsSettings, model: type) -> float:
    database = Database(settings)
    try:
        async with database.session() as session:
            found = await session.scalar(
                text("SELECT reltuples FROM pg_class WHERE oid = CAST(:table AS regclass)"),
                {"table": model.__tablename__},  # type: ignore[attr-defined]
            )
            return float(found)
    finally:
        await database.dispose()


def test_the_scale_is_huli_s_check_ups_over_its_65_plus_population() -> None:
    # the demo population of 湖里: what 001's 38,833 check-ups at 77.96 % (93 % of them 规范) imply
    assert demo.aged_65_plus(HULI) == 46_300
    assert abs(38_833 * demo.STANDARD_SHARE / demo.aged_65_plus(HULI) - 0.7796) < 0.002
    assert round(demo.aged_65_plus(HULI) * demo.checkup_share()) == 38_833
    # a county of 南平 (older): more people 65+, so more check-ups at the same share
    assert demo.aged_65_plus("350702") > demo.aged_65_plus(HULI) // 2


def test_the_elders_are_the_same_at_every_run() -> None:
    first = demo.elders(HULI, 50, 30, 5, 2025)
    assert first == demo.elders(HULI, 50, 30, 5, 2025)
    numbers = {demo.id_number(HULI, e.birth, e.seq) for e in first}
    assert len(numbers) == 50  # one person each


def test_the_residents_seed_leaves_the_other_seeds_numbers_alone() -> None:
    # make run links homecare's and contracts' demo elders to the persons this seed registers, by ID
    # number: a number this seed gives to someone else would make the link refuse that elder (another
    # name). The named elders hold sequences below 100 (李秀英 350206194003150029: 湖里, 1940-03-15, 002),
    # the homecare and contracts seeds 500–999; this seed — 湖里 in full, as make run seeds it — 100–499.
    full = demo.elders(HULI, 38_833, 0, 0, 2025)
    sequences = {int(demo.id_number(HULI, e.birth, e.seq)[14:17]) for e in full}
    assert min(sequences) >= 100
    assert max(sequences) < 500
    assert "350206194003150029" not in {demo.id_number(HULI, e.birth, e.seq) for e in full}


async def test_the_seed_writes_through_the_service_and_runs_once(residents: ResidentsSettings) -> None:
    made = await demo.seed(residents, counties=[HULI], scale=SCALE, province=province())
    expected = round(46_300 * demo.checkup_share() * SCALE)  # 39 elders
    signed = round(46_300 * demo.SIGNED_SHARE * SCALE)
    assert made[HULI]["persons"] == made[HULI]["checkups"] == expected
    assert made[HULI]["signings"] == signed
    assert made[HULI]["assessments"] == round(expected * demo.ASSESSED_SHARE)
    # two teams (the centre without a doctor has none); every record by the service, in 湖里
    assert await _count(residents, Team) == 2
    assert await _count(residents, ResidentPerson, ResidentPerson.source_system == "demo") == expected
    assert await _count(residents, Checkup, Checkup.region_code == HULI) == expected
    assert await _count(residents, Signing) == signed + made[HULI]["renewals"]
    assert await _count(residents, Signing, Signing.origin == "renewal") == made[HULI]["renewals"]
    assert await _count(residents, Assessment) == made[HULI]["assessments"]
    standard = await _count(residents, Checkup, Checkup.standard.is_(True))
    assert 0 < standard < expected or expected < 20
    # PostgreSQL: the seed analysed the tables it filled (the planner's estimate is their rows)
    if not residents.is_sqlite:
        assert await _estimated_rows(residents, Checkup) == expected
    # a second run leaves the database alone
    assert await demo.seed(residents, counties=[HULI], scale=SCALE, province=province()) == {}
    assert await _count(residents, Checkup) == expected


@pytest_asyncio.fixture(scope="module")
async def residents_at_a_hundredth(test_databases: TestDatabases) -> AsyncIterator[ResidentsSettings]:
    url = test_databases.postgres_url or f"sqlite+aiosqlite:///{test_databases.root / 'demo_rates.db'}"
    settings = make_settings(
        ResidentsSettings, test_databases, database_url=url, database_schema="demo_rates"
    )
    await upgrade_head_async(settings)
    yield settings


async def test_the_rates_are_the_seeds_within_the_generator_s_randomness(
    residents_at_a_hundredth: ResidentsSettings,
) -> None:
    """湖里 at 1/100 (463 people 65+): check-ups 38,833 / 46,300 exactly, 规范 ≈ 93 % (≈ 77.96 % of them);
    contracts of 53.8 % of them, renewed at 96.51 % of those due (the seed's shares, 001) — within a few
    points (about 380 contracts: one standard deviation of the renewal rate is ~1 point)."""
    settings = residents_at_a_hundredth
    made = await demo.seed(settings, counties=[HULI], scale=0.01, province=province())
    aged = round(46_300 * 0.01)
    assert made[HULI]["checkups"] == round(aged * demo.checkup_share()) == 388
    standard = await _count(settings, Checkup, Checkup.standard.is_(True))
    assert abs(standard / 388 - demo.STANDARD_SHARE) < 0.05
    assert made[HULI]["signings"] == round(aged * demo.SIGNED_SHARE)
    today = today_in_china()
    database = Database(settings)
    try:
        async with database.session() as session:
            rates = await signings_service.rates(
                session, Principal(sub="t", role=Role.province_admin, region_code="350000"), today.year, today
            )
    finally:
        await database.dispose()
    huli = next(item for item in rates.items if item.region_code == HULI)
    assert huli.renewal_rate_pct is not None
    assert abs(float(huli.renewal_rate_pct) - 96.51) < 4
    # in force today: the renewed contracts and the unrenewed ones not yet over (53.8 % × ~96.5 %)
    assert 0.49 < huli.signed_persons_65_plus / aged <= demo.SIGNED_SHARE + 0.005
