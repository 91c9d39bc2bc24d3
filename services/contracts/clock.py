"""Time for the contracts service: business dates follow the Asia/Shanghai calendar.

The clock lives on ``app.state.clock`` so that tests can move "today" across a date boundary
(:class:`ManualClock`) instead of sleeping.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Annotated

from fastapi import Depends, Request

# China has had no daylight saving time since 1991: a fixed offset is exact and needs no tzdata.
CHINA_TZ = timezone(timedelta(hours=8), name="Asia/Shanghai")


class Clock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(CHINA_TZ).date()


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


def china_date(moment: datetime) -> date:
    return moment.astimezone(CHINA_TZ).date()


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


ClockDep = Annotated[Clock, Depends(get_clock)]
