"""The platform clock: business dates follow Asia/Shanghai (UTC+8, no DST), instants are UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from libs.common import clock


def test_a_utc_evening_is_the_next_business_day_in_china() -> None:
    assert clock.china_date(datetime(2026, 3, 1, 15, 59, tzinfo=UTC)) == date(2026, 3, 1)
    assert clock.china_date(datetime(2026, 3, 1, 16, 0, tzinfo=UTC)) == date(2026, 3, 2)


def test_a_business_day_starts_at_16_utc_the_day_before() -> None:
    assert clock.start_of_day(date(2026, 3, 2)) == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)


def test_the_wall_clock_is_aware_utc_and_today_is_chinas() -> None:
    moment = clock.now()
    assert moment.utcoffset() == timedelta(0)
    assert clock.today_in_china() in {
        (moment + timedelta(hours=8)).date(),
        (clock.now() + timedelta(hours=8)).date(),
    }


def test_a_manual_clock_stands_still_until_moved() -> None:
    manual = clock.ManualClock(datetime(2026, 6, 30, 15, 30, tzinfo=UTC))
    assert manual.today() == date(2026, 6, 30)
    manual.advance(timedelta(minutes=30))
    assert manual.today() == date(2026, 7, 1)
    manual.set_today(date(2027, 1, 1), at=time(0, 30))
    assert manual.now() == datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
