"""Business dates in Asia/Shanghai (China has no DST since 1991: a fixed +08:00 offset is exact)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), name="Asia/Shanghai")


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return datetime.now(CHINA_TZ).date()


def local_date(moment: datetime) -> date:
    return moment.astimezone(CHINA_TZ).date()


def start_of_day(day: date) -> datetime:
    """The UTC instant at which ``day`` begins in China."""
    return datetime.combine(day, time.min, tzinfo=CHINA_TZ).astimezone(UTC)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
