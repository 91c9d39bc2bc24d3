"""Time for the residents service: the platform clock (:mod:`libs.common.clock`), and ages."""

from __future__ import annotations

from datetime import date

from libs.common.clock import CHINA_TZ, now, start_of_day
from libs.common.clock import china_date as local_date
from libs.common.clock import today_in_china as today

__all__ = ["CHINA_TZ", "age_on", "local_date", "now", "start_of_day", "today"]


def age_on(birth: date, day: date) -> int:
    """Whole years of age on ``day`` (a 29 February birthday counts on 1 March in other years)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
