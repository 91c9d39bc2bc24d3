"""The agreement calendar as rule functions, on a bare database (no app): fast enough to run once per
mutant (tests/mutation/run.py, module ``agreements``).

Expectations come from services/contracts/README.md ("Calendar"): reads report the stored state refined
by today's date — a signed agreement (countersigned or active) is 待生效 before its start date, in force
from its start date through its end date (both days included), expired after its end date; draft,
submitted, expired and terminated are as stored. The periodic job persists the same moves (expiry first,
then activation), each row once, writing a change-feed entry per moved agreement; a second run moves
nothing. The batch form moves only the agreements of the given (medical, elderly-care) pairs.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import services.contracts.feed  # noqa: F401  (declares the agreement's feed payload)
from libs.common.changes import write_pending_changes
from libs.common.database import Database
from libs.common.models import ChangeRecord
from libs.common.testing import TestDatabases
from services.contracts.agreements.lifecycle import (
    advance_calendar,
    effective_status,
    in_force_condition,
    signed_state_for,
    status_condition,
)
from services.contracts.agreements.models import Agreement, AgreementState, FeePayer, VisitPeriod
from services.contracts.base import Base
from services.contracts.settings import ContractsSettings
from tests.mutation.rule_db import rolled_back_session, rule_database

S = AgreementState
TODAY = date(2026, 3, 16)
YESTERDAY = TODAY - timedelta(days=1)
TOMORROW = TODAY + timedelta(days=1)
LONG_AGO = date(2025, 1, 1)
LATER = date(2027, 3, 31)
NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)

# (stored state, start, end) → effective status today, from the README's calendar rule
CALENDAR: list[tuple[AgreementState, date, date, AgreementState]] = [
    (S.countersigned, TOMORROW, LATER, S.countersigned),  # not yet begun
    (S.countersigned, TODAY, LATER, S.active),  # begins today
    (S.countersigned, LONG_AGO, TODAY, S.active),  # its last day
    (S.countersigned, LONG_AGO, YESTERDAY, S.expired),  # ended yesterday, job not run
    (S.countersigned, YESTERDAY, YESTERDAY, S.expired),
    (S.active, YESTERDAY, LATER, S.active),
    (S.active, TODAY, TODAY, S.active),  # a one-day term, today
    (S.active, LONG_AGO, TODAY, S.active),
    (S.active, LONG_AGO, YESTERDAY, S.expired),
    (S.draft, LONG_AGO, LATER, S.draft),  # dates never move an unsigned agreement
    (S.draft, LONG_AGO, YESTERDAY, S.draft),
    (S.submitted, LONG_AGO, LATER, S.submitted),
    (S.submitted, LONG_AGO, YESTERDAY, S.submitted),
    (S.expired, LONG_AGO, YESTERDAY, S.expired),
    (S.terminated, LONG_AGO, LATER, S.terminated),  # terminated while its term runs: stays terminated
    (S.terminated, TOMORROW, LATER, S.terminated),
]


@pytest.mark.parametrize(("state", "start", "end", "expected"), CALENDAR)
def test_effective_status_refines_the_stored_state_by_the_date(
    state: AgreementState, start: date, end: date, expected: AgreementState
) -> None:
    assert effective_status(state, start, end, TODAY) is expected


def test_an_agreement_signed_today_is_stored_by_its_dates() -> None:
    assert signed_state_for(TOMORROW, LATER, TODAY) is S.countersigned
    assert signed_state_for(TODAY, LATER, TODAY) is S.active
    assert signed_state_for(LONG_AGO, TODAY, TODAY) is S.active
    assert signed_state_for(LONG_AGO, YESTERDAY, TODAY) is S.expired  # a historical record pushed in bulk


@pytest.fixture(scope="module")
async def database(test_databases: TestDatabases) -> AsyncIterator[Database]:
    async with rule_database(ContractsSettings, test_databases, Base.metadata) as database:
        yield database


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    async with rolled_back_session(database) as session:
        yield session


def _agreement(
    state: AgreementState,
    start: date,
    end: date,
    *,
    medical: uuid.UUID | None = None,
    elderly: uuid.UUID | None = None,
) -> Agreement:
    return Agreement(
        medical_institution_id=medical or uuid.uuid4(),
        medical_name="厦门莲花医院",
        medical_region_code="350203",
        elderly_institution_id=elderly or uuid.uuid4(),
        elderly_name="兰馨颐养院",
        elderly_region_code="350206",
        elderly_kind="elderly_care",
        region_code="350206",
        state=state,
        title="医养结合服务协议",
        services=["medical_rounds"],
        visit_count=1,
        visit_period=VisitPeriod.week,
        fee_payer=FeePayer.free,
        start_date=start,
        end_date=end,
    )


async def _store(session: AsyncSession, agreements: list[Agreement]) -> None:
    session.add_all(agreements)
    await session.flush()
    session.sync_session.info.clear()  # the feed entries of the set-up are not the job's


async def test_status_filter_selects_by_effective_status(session: AsyncSession) -> None:
    rows = [(_agreement(state, start, end), expected) for state, start, end, expected in CALENDAR]
    await _store(session, [a for a, _ in rows])
    for status in AgreementState:
        selected = set(await session.scalars(select(Agreement.id).where(status_condition(status, TODAY))))
        assert selected == {a.id for a, expected in rows if expected is status}, status
    in_force = set(await session.scalars(select(Agreement.id).where(in_force_condition(TODAY))))
    assert in_force == {a.id for a, expected in rows if expected is S.active}


async def _stored(session: AsyncSession, agreement: Agreement) -> Agreement:
    found = await session.scalar(
        select(Agreement).where(Agreement.id == agreement.id).execution_options(populate_existing=True)
    )
    assert found is not None
    return found


async def test_the_job_persists_the_calendar_once_and_feeds_each_move(session: AsyncSession) -> None:
    rows = [(_agreement(state, start, end), expected) for state, start, end, expected in CALENDAR]
    await _store(session, [a for a, _ in rows])
    before = {a.id: (a.state, a.version) for a, _ in rows}
    moving = {a.id: expected for a, expected in rows if expected is not a.state}
    assert len(moving) == 5  # 2 activations, 3 expiries

    assert await advance_calendar(session, today=TODAY, now=NOW) == len(moving)
    for agreement, expected in rows:
        stored = await _stored(session, agreement)
        state, version = before[agreement.id]
        assert stored.state is expected, (state, agreement.start_date, agreement.end_date)
        if agreement.id in moving:
            assert stored.version == version + 1
            assert stored.updated_at == NOW
            if expected is S.active:
                assert (stored.activated_at, stored.expired_at) == (NOW, None)
            else:
                assert (stored.expired_at, stored.activated_at) == (NOW, None)
        else:
            assert stored.version == version
            assert stored.activated_at is None
            assert stored.expired_at is None

    assert await write_pending_changes(session) == len(moving)
    records = list(await session.scalars(select(ChangeRecord).where(ChangeRecord.entity_type == "agreement")))
    assert {r.entity_id: r.entity_version for r in records} == {
        agreement_id: before[agreement_id][1] + 1 for agreement_id in moving
    }
    assert {r.entity_id: r.payload["state"] for r in records if r.payload} == {
        agreement_id: status.value for agreement_id, status in moving.items()
    }

    # idempotent: a second run (or another replica) finds nothing to move
    assert await advance_calendar(session, today=TODAY, now=NOW + timedelta(minutes=5)) == 0
    assert await write_pending_changes(session) == 0


async def test_the_batch_form_moves_only_the_given_pairs(session: AsyncSession) -> None:
    medical, elderly, other_medical, other_elderly = (uuid.uuid4() for _ in range(4))
    ours = _agreement(S.countersigned, TODAY, LATER, medical=medical, elderly=elderly)
    ours_ended = _agreement(S.active, LONG_AGO, YESTERDAY, medical=medical, elderly=elderly)
    same_medical = _agreement(S.countersigned, TODAY, LATER, medical=medical, elderly=other_elderly)
    same_elderly = _agreement(S.active, LONG_AGO, YESTERDAY, medical=other_medical, elderly=elderly)
    await _store(session, [ours, ours_ended, same_medical, same_elderly])

    moved = await advance_calendar(session, today=TODAY, now=NOW, pairs=[(medical, elderly)])
    assert moved == 2
    assert (await _stored(session, ours)).state is S.active
    assert (await _stored(session, ours_ended)).state is S.expired
    assert (await _stored(session, same_medical)).state is S.countersigned
    assert (await _stored(session, same_elderly)).state is S.active
    assert await advance_calendar(session, today=TODAY, now=NOW, pairs=[]) == 0
    assert (await _stored(session, same_medical)).state is S.countersigned
