"""The 巡诊 shortfall and the visit-date rule as rule functions, on a bare database (no app): fast enough
to run once per mutant (tests/mutation/run.py, module ``visit_shortfall``).

Expectations come from rules.md ("an agreement falling short of its promised frequency is flagged"),
config_defaults.csv (``agreement.min_rounds_per_month`` 4) and services/contracts/README.md ("Shortfall
arithmetic", "Visits"), computed here by :func:`owed`, not read from the code:

- an agreement counts in a period when it was signed (countersigned, active, expired or terminated) and
  in force on some day of it; its days in force are the days of the period from its start date through
  its end date, or its termination date when that comes first (both ends included);
- owed = max(agreed, minimum) × days in force, the agreed rate n/7 a day for n a week, n/(365/12) for n a
  month, the minimum 4/(365/12) a day; done = the visits dated within the period;
- shortfall = max(0, owed − done), falling short when at least one whole visit is missing; 2 decimals;
- a visit may be dated only within the agreement's term (up to a termination date);
- a report period ends no earlier than it starts and spans at most 10 years.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

import services.contracts.feed  # noqa: F401  (declares the feed payloads of the tracked models)
from libs.common.auth import Principal, Role
from libs.common.database import Database
from libs.common.pagination import PageParams
from libs.common.testing import TestDatabases
from services.contracts.agreements.models import Agreement, AgreementState, FeePayer, VisitPeriod
from services.contracts.base import Base
from services.contracts.settings import ContractsSettings
from services.contracts.visits.errors import PeriodInvalid
from services.contracts.visits.models import Visit
from services.contracts.visits.schemas import Shortfall
from services.contracts.visits.service import (
    agreement_shortfall,
    check_period,
    in_force_on,
    list_shortfalls,
)
from tests.mutation.rule_db import rolled_back_session, rule_database

S = AgreementState
MIN_PER_MONTH = 4  # config_defaults.csv agreement.min_rounds_per_month
START, END = date(2026, 3, 1), date(2026, 3, 31)  # 31 days
PROVINCE = Principal(sub="province", role=Role.province_admin, region_code="350000")


def owed(count: int, period: VisitPeriod, days: int) -> tuple[float, float, float]:
    """(agreed, minimum, required) for ``days`` in force, unrounded."""
    per_day = count / 7 if period is VisitPeriod.week else count / (365 / 12)
    agreed = per_day * days
    minimum = MIN_PER_MONTH / (365 / 12) * days
    return agreed, minimum, max(agreed, minimum)


def expected(agreement: Agreement, days: int, done: int) -> Shortfall:
    agreed, minimum, required = owed(agreement.visit_count, agreement.visit_period, days)
    missing = round(max(0.0, round(required, 2) - done), 2)
    return Shortfall(
        agreement_id=agreement.id,
        region_code=agreement.region_code,
        medical_name=agreement.medical_name,
        elderly_name=agreement.elderly_name,
        period_start=START,
        period_end=END,
        days_in_force=days,
        visit_count=agreement.visit_count,
        visit_period=agreement.visit_period,
        agreed=round(agreed, 2),
        province_minimum=round(minimum, 2),
        required=round(required, 2),
        done=done,
        shortfall=missing,
        falling_short=missing >= 1,
    )


def _agreement(
    state: AgreementState,
    start: date,
    end: date,
    *,
    count: int = 1,
    period: VisitPeriod = VisitPeriod.week,
    terminated_on: date | None = None,
    region_code: str = "350206",
    name: str = "兰馨颐养院",
) -> Agreement:
    return Agreement(
        medical_institution_id=uuid.uuid4(),
        medical_name=f"厦门莲花医院（{name}）",
        medical_region_code="350203",
        elderly_institution_id=uuid.uuid4(),
        elderly_name=name,
        elderly_region_code=region_code,
        elderly_kind="elderly_care",
        region_code=region_code,
        state=state,
        title="医养结合服务协议",
        services=["medical_rounds"],
        visit_count=count,
        visit_period=period,
        fee_payer=FeePayer.free,
        start_date=start,
        end_date=end,
        terminated_on=terminated_on,
    )


def _visits(agreement: Agreement, *days: date) -> list[Visit]:
    return [
        Visit(
            agreement_id=agreement.id,
            region_code=agreement.region_code,
            medical_region_code=agreement.medical_region_code,
            medical_institution_id=agreement.medical_institution_id,
            elderly_institution_id=agreement.elderly_institution_id,
            visit_date=day,
            practitioner_ids=[],
            residents_seen=3,
            services=["medical_rounds"],
            recorded_by="test",
        )
        for day in days
    ]


# ------------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("state", "terminated_on", "day", "allowed"),
    [
        (S.active, None, date(2026, 1, 1), True),  # first day of the term
        (S.active, None, date(2026, 6, 30), True),  # last day
        (S.active, None, date(2025, 12, 31), False),
        (S.active, None, date(2026, 7, 1), False),
        (S.countersigned, None, date(2026, 3, 1), True),
        (S.expired, None, date(2026, 3, 1), True),  # recorded late, within the term
        (S.expired, None, date(2026, 7, 1), False),
        (S.terminated, date(2026, 3, 10), date(2026, 3, 10), True),  # up to the termination date
        (S.terminated, date(2026, 3, 10), date(2026, 3, 11), False),
        (S.terminated, date(2026, 3, 10), date(2026, 1, 1), True),
        (S.terminated, date(2026, 3, 10), date(2025, 12, 31), False),
        (S.terminated, date(2026, 9, 1), date(2026, 7, 1), False),  # never past the term's end
        (S.terminated, None, date(2026, 6, 30), True),
        (S.draft, None, date(2026, 3, 1), False),  # not signed: never in force
        (S.submitted, None, date(2026, 3, 1), False),
    ],
)
def test_a_visit_date_lies_within_the_signed_term(
    state: AgreementState, terminated_on: date | None, day: date, allowed: bool
) -> None:
    agreement = _agreement(state, date(2026, 1, 1), date(2026, 6, 30), terminated_on=terminated_on)
    assert in_force_on(agreement, day) is allowed


def test_a_report_period_is_ordered_and_at_most_ten_years() -> None:
    check_period(START, START)  # one day
    check_period(date(2016, 3, 16), date(2026, 3, 16))  # ten years
    with pytest.raises(PeriodInvalid, match="止日不得早于起日"):
        check_period(START, START - timedelta(days=1))
    with pytest.raises(PeriodInvalid, match="10 年"):
        check_period(date(2016, 2, 1), date(2026, 3, 16))  # ten years and six weeks


# --------------------------------------------------------------------------- on the database


@pytest.fixture(scope="module")
async def database(test_databases: TestDatabases) -> AsyncIterator[Database]:
    async with rule_database(ContractsSettings, test_databases, Base.metadata) as database:
        yield database


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    async with rolled_back_session(database) as session:
        yield session


async def _report(session: AsyncSession, principal: Principal = PROVINCE) -> dict[uuid.UUID, Shortfall]:
    items, cursor = await list_shortfalls(
        session,
        principal,
        start=START,
        end=END,
        min_per_month=MIN_PER_MONTH,
        params=PageParams(limit=200, cursor=None),
        only_falling_short=False,
    )
    assert cursor is None
    return {item.agreement_id: item for item in items}


async def test_owed_visits_follow_the_agreed_rate_and_the_province_minimum(session: AsyncSession) -> None:
    weekly = _agreement(S.active, date(2025, 4, 1), date(2026, 9, 30), count=2, name="每周两次")
    monthly_low = _agreement(
        S.active, date(2026, 3, 11), date(2027, 3, 10), count=1, period=VisitPeriod.month, name="每月一次"
    )
    monthly_high = _agreement(
        S.expired, date(2025, 3, 21), date(2026, 3, 20), count=6, period=VisitPeriod.month, name="每月六次"
    )
    weekly_one = _agreement(S.active, date(2025, 4, 1), date(2026, 9, 30), count=1, name="每周一次")
    session.add_all([weekly, monthly_low, monthly_high, weekly_one])
    await session.flush()
    session.add_all(
        _visits(weekly, START, date(2026, 3, 9), date(2026, 3, 16), date(2026, 3, 23), END)
        + _visits(weekly, date(2026, 2, 28), date(2026, 4, 1))  # outside the period: not counted
        + _visits(monthly_low, date(2026, 3, 12), date(2026, 3, 25))
        + _visits(monthly_high, date(2026, 3, 2), date(2026, 3, 6), date(2026, 3, 12), date(2026, 3, 19))
        + _visits(weekly_one, *(date(2026, 3, d) for d in (2, 9, 16, 23, 30)))
    )
    await session.flush()

    report = await _report(session)
    assert report == {
        weekly.id: expected(weekly, 31, 5),  # owes 8.86: 3.86 short
        monthly_low.id: expected(monthly_low, 21, 2),  # the minimum (2.76) rules: 0.76 short, not flagged
        monthly_high.id: expected(monthly_high, 20, 4),  # 3.95 owed, 4 done: nothing short, never negative
        weekly_one.id: expected(weekly_one, 31, 5),  # 4.43 owed: 0 short (more done than owed)
    }
    assert report[weekly.id].shortfall == 3.86
    assert report[weekly.id].falling_short
    assert (report[monthly_low.id].required, report[monthly_low.id].shortfall) == (2.76, 0.76)
    assert not report[monthly_low.id].falling_short
    assert (report[monthly_high.id].shortfall, report[monthly_high.id].falling_short) == (0.0, False)
    for agreement in (weekly, monthly_low, monthly_high):
        assert (
            await agreement_shortfall(
                session, PROVINCE, agreement, start=START, end=END, min_per_month=MIN_PER_MONTH
            )
            == report[agreement.id]
        )


async def test_days_in_force_are_the_signed_term_within_the_period(session: AsyncSession) -> None:
    cases = {
        # agreement → days in force in March 2026
        _agreement(S.expired, date(2025, 3, 1), START, name="期首日到期"): 1,
        _agreement(S.countersigned, END, date(2027, 3, 30), name="期末日生效"): 1,
        _agreement(S.countersigned, date(2026, 3, 25), date(2027, 3, 24), name="期内生效"): 7,
        _agreement(
            S.terminated,
            date(2025, 4, 1),
            date(2026, 9, 30),
            terminated_on=date(2026, 3, 10),
            name="期内终止",
        ): 10,
        _agreement(
            S.terminated, date(2025, 4, 1), date(2026, 9, 30), terminated_on=START, name="期首日终止"
        ): 1,
        _agreement(
            S.terminated,
            date(2025, 4, 1),
            date(2026, 3, 5),
            terminated_on=date(2026, 3, 25),
            name="终止日晚于到期日",
        ): 5,
        _agreement(S.terminated, date(2025, 4, 1), date(2026, 9, 30), name="无终止日"): 31,
        _agreement(
            S.active, date(2026, 1, 1), date(2026, 12, 31), count=4, period=VisitPeriod.month, name="按月四次"
        ): 31,
    }
    outside = [
        _agreement(S.expired, date(2025, 3, 1), date(2026, 2, 28), name="期前到期"),
        _agreement(S.countersigned, date(2026, 4, 1), date(2027, 3, 31), name="期后生效"),
        _agreement(
            S.terminated,
            date(2025, 4, 1),
            date(2026, 9, 30),
            terminated_on=date(2026, 2, 28),
            name="期前终止",
        ),
        _agreement(S.draft, date(2026, 1, 1), date(2026, 12, 31), name="草稿"),
        _agreement(S.submitted, date(2026, 1, 1), date(2026, 12, 31), name="待会签"),
    ]
    session.add_all([*cases, *outside])
    await session.flush()

    report = await _report(session)
    assert report == {agreement.id: expected(agreement, days, 0) for agreement, days in cases.items()}
    # seven days of one visit a week is exactly one visit owed: flagged
    in_period = next(a for a in cases if a.elderly_name == "期内生效")
    assert (report[in_period.id].required, report[in_period.id].falling_short) == (1.0, True)
    # four a month is the minimum itself
    at_minimum = next(a for a in cases if a.elderly_name == "按月四次")
    assert report[at_minimum.id].agreed == report[at_minimum.id].province_minimum == 4.08

    # not in force during the period: nothing owed
    for agreement in outside:
        assert await agreement_shortfall(
            session, PROVINCE, agreement, start=START, end=END, min_per_month=MIN_PER_MONTH
        ) == Shortfall(
            agreement_id=agreement.id,
            region_code=agreement.region_code,
            medical_name=agreement.medical_name,
            elderly_name=agreement.elderly_name,
            period_start=START,
            period_end=END,
            days_in_force=0,
            visit_count=agreement.visit_count,
            visit_period=agreement.visit_period,
            agreed=0.0,
            province_minimum=0.0,
            required=0.0,
            done=0,
            shortfall=0.0,
            falling_short=False,
        )


async def test_the_report_holds_only_what_the_reader_may_see(session: AsyncSession) -> None:
    huli = _agreement(S.active, date(2026, 1, 1), date(2026, 12, 31), region_code="350206", name="湖里")
    siming = _agreement(S.active, date(2026, 1, 1), date(2026, 12, 31), region_code="350203", name="思明")
    session.add_all([huli, siming])
    await session.flush()

    county = Principal(sub="county", role=Role.county_admin, region_code="350206")
    assert set(await _report(session, county)) == {huli.id}
    institution = Principal(
        sub="staff",
        role=Role.institution_admin,
        region_code="350203",
        institution_id=siming.elderly_institution_id,
    )
    assert set(await _report(session, institution)) == {siming.id}
