"""Report periods: a year (``2025``) or a quarter (``2025Q3``), and the period's reference date.

Every date question of a report is asked on the period's **reference date**, the last day of the period
in 中国标准时间 (indicators.md, "Rules for computing them"); a moment (a filing's acceptance, an order's
creation) belongs to the period when it falls before the next day's midnight in China.

A period is also asked on a day (``today``, the app's clock: ``app.state.clock``): one rule reads it (the
renewal rate: an unrenewed contract is due once its end date has passed). It is not part of the
period's identity (equality, label).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Final

from libs.common.clock import today_in_china
from libs.common.errors import Unprocessable

CHINA: Final = timezone(timedelta(hours=8), "CST")
_PERIOD: Final = re.compile(r"(\d{4})(?:Q([1-4]))?")
EARLIEST_YEAR: Final = 2000
LATEST_YEAR: Final = 2100


@dataclass(frozen=True, slots=True)
class Period:
    year: int
    quarter: int | None = None
    #: the day the period is asked on (None: today by the wall clock, :attr:`asked_on`)
    today: date | None = field(default=None, compare=False)

    @property
    def asked_on(self) -> date:
        """The day the period is asked on: ``today`` as given, else the wall clock's (China)."""
        return self.today if self.today is not None else today_in_china()

    @property
    def label(self) -> str:
        return f"{self.year}" if self.quarter is None else f"{self.year}Q{self.quarter}"

    @property
    def start(self) -> date:
        return date(self.year, 1 if self.quarter is None else 3 * self.quarter - 2, 1)

    @property
    def end(self) -> date:
        """The reference date: the period's last day."""
        if self.quarter is None or self.quarter == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.quarter + 1, 1) - timedelta(days=1)

    @property
    def months(self) -> int:
        return 12 if self.quarter is None else 3

    @property
    def weeks(self) -> int:
        return 52 if self.quarter is None else 13

    @property
    def start_moment(self) -> datetime:
        """Midnight (China) at the start of the period, in UTC."""
        return datetime.combine(self.start, time(0), tzinfo=CHINA).astimezone(UTC)

    @property
    def end_moment(self) -> datetime:
        """Midnight (China) after the reference date, in UTC: moments strictly before it are in."""
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=CHINA).astimezone(UTC)

    def following(self) -> Period:
        if self.quarter is None:
            return Period(self.year + 1, today=self.today)
        if self.quarter == 4:
            return Period(self.year + 1, 1, today=self.today)
        return Period(self.year, self.quarter + 1, today=self.today)


def parse_period(text: str, *, field: str = "period", today: date | None = None) -> Period:
    """``2025`` or ``2025Q3`` (years 2000–2100), asked on ``today``; anything else is a 422
    ``invalid_period``."""
    match = _PERIOD.fullmatch(text.strip().upper())
    if match is None or not EARLIEST_YEAR <= int(match.group(1)) <= LATEST_YEAR:
        raise Unprocessable(
            f"统计期无效：{field} 应为年份（如 2025）或季度（如 2025Q3），"
            f"年份在 {EARLIEST_YEAR}–{LATEST_YEAR}",
            code="invalid_period",
        )
    quarter = match.group(2)
    return Period(int(match.group(1)), int(quarter) if quarter else None, today=today)


def periods_between(first: Period, last: Period) -> list[Period]:
    """Every period from ``first`` to ``last`` inclusive (both of the same kind)."""
    found = []
    current = first
    while (current.year, current.quarter or 0) <= (last.year, last.quarter or 0):
        found.append(current)
        current = current.following()
    return found
