"""The windows in which the twice-yearly 医养结合 services to a 失能 elder are owed.

A year is cut into windows by their start months (setting ``care_service_window_start_months``, default
``[1, 7]``: two half-years); each window runs to the day before the next one starts, the last to 31
December. One service is owed in each window to every person whose latest assessment, as of the window's
end, puts them at or above ``care_service_min_level``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class CareWindow:
    year: int
    number: int  # 1-based, in the year
    start: date
    end: date  # inclusive

    @property
    def label(self) -> str:
        return f"{self.year} 年第 {self.number} 期（{self.start:%m-%d} 至 {self.end:%m-%d}）"


def check_start_months(months: Sequence[int]) -> list[int]:
    """The start months as a setting may hold them: strictly rising, the first January, all in 1–12."""
    values = list(months)
    if not values or values[0] != 1:
        raise ValueError("the first care-service window must start in January")
    if any(not 1 <= m <= 12 for m in values) or any(a >= b for a, b in zip(values, values[1:], strict=False)):
        raise ValueError("care-service window start months must rise strictly within 1–12")
    return values


def windows_of(year: int, start_months: Sequence[int]) -> list[CareWindow]:
    starts = [date(year, month, 1) for month in start_months]
    ends = [nxt - timedelta(days=1) for nxt in starts[1:]] + [date(year, 12, 31)]
    return [
        CareWindow(year=year, number=i + 1, start=start, end=end)
        for i, (start, end) in enumerate(zip(starts, ends, strict=True))
    ]


def window_of(day: date, start_months: Sequence[int]) -> CareWindow:
    return next(w for w in windows_of(day.year, start_months) if w.start <= day <= w.end)
