"""No double-booking of a nurse, as rule functions on a bare database (no app): fast enough to run once per
mutant (tests/mutation/run.py, module ``booking``).

Expectations come from services/homecare/README.md ("assign"): overlapping windows of one nurse are
409 ``nurse_double_booked`` (windows that only touch do not overlap; another nurse is free); an order
that ends early gives its time back; on PostgreSQL the check runs under a per-nurse lock row
(``nurse_lock``) held ``FOR UPDATE`` until the transaction ends, so two bookings of one nurse cannot
race. The HTTP and live race tests (``test_lifecycle.py``, ``test_concurrency.py``) prove the same through
the API.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, MetaData, Table, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.database import Database
from libs.common.testing import TestDatabases
from services.homecare.orders.booking import book, release
from services.homecare.orders.errors import NurseDoubleBooked
from services.homecare.orders.models import NurseBooking, NurseLock, Order
from services.homecare.settings import HomecareSettings
from tests.mutation.rule_db import rolled_back_session, rule_database

DAY = datetime(2026, 3, 16, tzinfo=UTC)


def at(hour: float) -> datetime:
    return DAY + timedelta(hours=hour)


def _order(start: float, end: float) -> Order:
    """An order as booking sees it: its id and wanted window (the order itself is not stored here)."""
    return Order(id=uuid.uuid4(), window_start=at(start), window_end=at(end))


def _tables() -> MetaData:
    """``nurse_lock`` and ``nurse_booking`` as the models declare them, without the booking's foreign key
    to the order (the orders themselves are not what is tested)."""
    metadata = MetaData()
    lock = NurseLock.__table__
    assert isinstance(lock, Table)
    lock.to_metadata(metadata)
    Table(
        NurseBooking.__tablename__,
        metadata,
        *(
            Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in NurseBooking.__table__.columns
        ),
    )
    return metadata


@pytest.fixture(scope="module")
async def database(test_databases: TestDatabases) -> AsyncIterator[Database]:
    async with rule_database(HomecareSettings, test_databases, _tables()) as database:
        yield database


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    async with rolled_back_session(database) as session:
        yield session


async def _bookings(session: AsyncSession, nurse: uuid.UUID) -> dict[uuid.UUID, tuple[datetime, datetime]]:
    rows = await session.execute(
        select(NurseBooking.order_id, NurseBooking.start_at, NurseBooking.end_at).where(
            NurseBooking.practitioner_id == nurse
        )
    )
    return {order_id: (start, end) for order_id, start, end in rows}


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (10, 12),  # runs past its end
        (8, 9.5),  # begins before it
        (9.5, 10.5),  # inside it
        (8, 12),  # around it
        (9, 11),  # the same window
        (10.99, 11),  # its last minute
    ],
)
async def test_an_overlapping_window_of_the_same_nurse_is_refused(
    session: AsyncSession, start: float, end: float
) -> None:
    nurse = uuid.uuid4()
    booked = _order(9, 11)
    await book(session, booked, nurse)
    refused = _order(start, end)
    with pytest.raises(NurseDoubleBooked) as caught:
        await book(session, refused, nurse)
    assert caught.value.code == "nurse_double_booked"
    assert caught.value.extra == {"conflicting_order_id": str(booked.id)}
    assert await _bookings(session, nurse) == {booked.id: (at(9), at(11))}


async def test_touching_windows_and_other_nurses_are_free(session: AsyncSession) -> None:
    nurse, colleague = uuid.uuid4(), uuid.uuid4()
    morning, before, after, same_time = _order(9, 11), _order(7, 9), _order(11, 12.5), _order(9, 11)
    await book(session, morning, nurse)
    await book(session, before, nurse)  # ends as the morning visit begins
    await book(session, after, nurse)  # begins as it ends
    await book(session, same_time, colleague)
    assert await _bookings(session, nurse) == {
        morning.id: (at(9), at(11)),
        before.id: (at(7), at(9)),
        after.id: (at(11), at(12.5)),
    }
    assert await _bookings(session, colleague) == {same_time.id: (at(9), at(11))}
    # one lock row per nurse, however many bookings
    locks = list(await session.scalars(select(NurseLock.practitioner_id)))
    assert sorted(locks) == sorted([nurse, colleague])


async def test_a_released_order_gives_its_time_back_and_only_its_own(session: AsyncSession) -> None:
    nurse = uuid.uuid4()
    first, second = _order(9, 11), _order(13, 15)
    await book(session, first, nurse)
    await book(session, second, nurse)
    await release(session, first)
    assert await _bookings(session, nurse) == {second.id: (at(13), at(15))}
    replacement = _order(10, 12)
    await book(session, replacement, nurse)  # the freed morning
    with pytest.raises(NurseDoubleBooked):
        await book(session, _order(14, 16), nurse)  # the afternoon is still taken
    assert set(await _bookings(session, nurse)) == {second.id, replacement.id}


@pytest.mark.postgres_only
async def test_a_booking_holds_the_nurses_lock_row_until_its_transaction_ends(database: Database) -> None:
    """The lock must be taken even when the nurse's lock row already exists (a nurse with bookings)."""
    nurse = uuid.uuid4()
    async with database.session() as first:
        await book(first, _order(9, 11), nurse)
        await first.commit()
    probe = f"SELECT practitioner_id FROM nurse_lock WHERE practitioner_id = '{nurse}' FOR UPDATE NOWAIT"
    async with database.session() as booking, database.engine.connect() as other:
        await book(booking, _order(13, 15), nurse)
        with pytest.raises(DBAPIError, match="could not obtain lock"):
            await other.execute(text(probe))
        await other.rollback()
        await booking.commit()
        assert (await other.execute(text(probe))).scalar_one() == nurse
        await other.rollback()
