"""The platform's one clock: instants in UTC, business dates in Asia/Shanghai.

China has had no daylight saving time since 1991, so a fixed ``+08:00`` offset is exact and needs no
tzdata in the container.

Two ways to read it, one implementation:

- :func:`now` / :func:`today_in_china` — the wall clock, for code that has no request at hand;
- :class:`Clock` on ``app.state.clock``, read through :data:`ClockDep` — for routes whose tests move
  "today" across a date boundary with :class:`ManualClock` instead of sleeping.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Annotated, Final

from fastapi import Depends, Request

CHINA_TZ: Final = timezone(timedelta(hours=8), name="Asia/Shanghai")


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


def china_date(moment: datetime) -> date:
    """The business date (Asia/Shanghai) of an instant."""
    return moment.astimezone(CHINA_TZ).date()


def today_in_china() -> date:
    """The business date now."""
    return china_date(now())


def start_of_day(day: date) -> datetime:
    """The UTC instant at which ``day`` begins in China."""
    return datetime.combine(day, time.min, tzinfo=CHINA_TZ).astimezone(UTC)


class Clock:
    """The wall clock."""

    def now(self) -> datetime:
        return now()

    def today(self) -> date:
        return china_date(self.now())


class ManualClock(Clock):
    """A clock that stands still until moved (tests, demos)."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def set_today(self, day: date, at: time = time(9, 0)) -> None:
        self.current = datetime.combine(day, at, CHINA_TZ).astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self.current = self.current + delta


async def get_clock(request: Request) -> Clock:
    """The app's clock (``app.state.clock``)."""
    clock: Clock = request.app.state.clock
    return clock


ClockDep = Annotated[Clock, Depends(get_clock)]
