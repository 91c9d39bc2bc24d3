"""The contract's date rules (signings/rules.py), at and around their boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from services.residents.signings.rules import (
    add_months,
    aged_on,
    born_on_or_before_for_age,
    in_force,
    may_renew,
    renewal_opens,
    term_end,
)


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2026, 3, 16), 12, date(2027, 3, 15)),
        (date(2026, 1, 1), 12, date(2026, 12, 31)),
        (date(2024, 2, 29), 12, date(2025, 2, 27)),  # no 29 February in 2025: to the 28th, less a day
        (date(2026, 1, 31), 1, date(2026, 2, 27)),
        (date(2026, 3, 16), 24, date(2028, 3, 15)),
    ],
)
def test_a_term_ends_the_day_before_the_same_date_a_term_later(start: date, months: int, end: date) -> None:
    assert term_end(start, months) == end


def test_months_move_across_years_both_ways() -> None:
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 3, 31), -13) == date(2025, 2, 28)


@pytest.mark.parametrize(
    ("today", "allowed"),
    [
        (date(2027, 2, 12), False),  # a day before the window opens
        (date(2027, 2, 13), True),  # 30 days before the end
        (date(2027, 3, 15), True),  # the end date itself
        (date(2027, 3, 16), False),  # the day after: a new signing, not a renewal
    ],
)
def test_renewal_is_open_from_the_window_to_the_end_date(today: date, allowed: bool) -> None:
    end = date(2027, 3, 15)
    assert renewal_opens(end, 30) == date(2027, 2, 13)
    assert may_renew(end, today, 30) is allowed


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(1961, 3, 16), date(2026, 3, 16), 65),
        (date(1961, 3, 17), date(2026, 3, 16), 64),
        (date(1960, 2, 29), date(2025, 2, 28), 64),
        (date(1960, 2, 29), date(2025, 3, 1), 65),
    ],
)
def test_age_in_whole_years(birth: date, day: date, age: int) -> None:
    assert aged_on(birth, day) == age
    assert (birth <= born_on_or_before_for_age(day, 65)) is (age >= 65)


def test_in_force_runs_to_the_end_or_to_the_early_end() -> None:
    start, end = date(2026, 3, 16), date(2027, 3, 15)
    assert not in_force(start, end, None, date(2026, 3, 15))
    assert in_force(start, end, None, date(2026, 3, 16))
    assert in_force(start, end, None, date(2027, 3, 15))
    assert not in_force(start, end, None, date(2027, 3, 16))
    assert in_force(start, end, date(2026, 6, 1), date(2026, 6, 1))
    assert not in_force(start, end, date(2026, 6, 1), date(2026, 6, 2))
