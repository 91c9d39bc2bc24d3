"""The rules of a 家庭医生签约 contract, as pure functions over dates.

* A contract runs **one year** by default (rules.md: "agreements are renewed yearly", *confirmed*; the
  term in months is ``RESIDENTS_SIGNING_TERM_MONTHS``, from config_defaults.csv
  ``agreement.default_term_months``): from its start date to the day before the same date a term later.
* A resident has **one contract in force with one team at a time** (seed 002's team model; one active
  contract per person, enforced by a partial unique index).
* **Renewal** (续签) happens before or at expiry: from ``RESIDENTS_SIGNING_RENEWAL_WINDOW_DAYS`` before
  the end date up to the end date itself. The renewal is a new contract starting the day after the old
  one ends, linked to it. After expiry the resident signs anew (that is a new signing, not a renewal).
* **Termination** ends the contract on a date (not before its start, not after today) with a reason code.
* **Transfer** (转签) ends the contract today and starts a new one with another team today, for a new
  term, in one transaction.
* The **signing rate**'s numerator: distinct persons with a contract in force on a day (its start date
  ≤ day ≤ its end, the end being the termination or transfer date when it ended early), counted for
  all ages and for people aged 65 or over on that day.
* The **renewal rate** (续签率 = contracts renewed / contracts due for renewal, indicators.md): a contract
  is due in the period when its end date falls in the period and it ran to its end (not terminated
  nor transferred) and either it was renewed or its end date has passed.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from enum import StrEnum
from typing import Final


class SigningStatus(StrEnum):
    active = "active"
    renewed = "renewed"
    terminated = "terminated"
    transferred = "transferred"
    expired = "expired"


SIGNING_STATUS_LABELS: Final = {
    SigningStatus.active: "履约中",
    SigningStatus.renewed: "已续签",
    SigningStatus.terminated: "已解约",
    SigningStatus.transferred: "已转签",
    SigningStatus.expired: "已到期未续签",
}


class SigningOrigin(StrEnum):
    new = "new"
    renewal = "renewal"
    transfer = "transfer"


SIGNING_ORIGIN_LABELS: Final = {
    SigningOrigin.new: "新签",
    SigningOrigin.renewal: "续签",
    SigningOrigin.transfer: "转签",
}


class TerminationReason(StrEnum):
    died = "died"
    moved_away = "moved_away"
    resident_request = "resident_request"
    team_dissolved = "team_dissolved"
    other = "other"


TERMINATION_REASON_LABELS: Final = {
    TerminationReason.died: "居民死亡",
    TerminationReason.moved_away: "迁出服务区域",
    TerminationReason.resident_request: "居民申请解约",
    TerminationReason.team_dissolved: "签约团队撤销",
    TerminationReason.other: "其他原因",
}

#: the age from which a person counts in the 65+ signing figures
ELDERLY_AGE: Final = 65


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months (the 29th–31st fall back to the month's last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def term_end(start: date, months: int) -> date:
    """The last day of a contract of ``months`` starting on ``start`` (2026-03-16 + 12 → 2027-03-15)."""
    return add_months(start, months) - timedelta(days=1)


def renewal_opens(end: date, window_days: int) -> date:
    """The first day a contract ending on ``end`` may be renewed."""
    return end - timedelta(days=window_days)


def may_renew(end: date, today: date, window_days: int) -> bool:
    """Renewal before or at expiry, within the window."""
    return renewal_opens(end, window_days) <= today <= end


def aged_on(birth: date, day: date) -> int:
    """Age in whole years on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def born_on_or_before_for_age(day: date, age: int) -> date:
    """The latest birth date of someone aged ``age`` or more on ``day`` (29 February → 28 February)."""
    return add_months(day, -12 * age)


def in_force(start: date, end: date, ended: date | None, day: date) -> bool:
    """Whether a contract (ended early on ``ended``, if it was) is in force on ``day``."""
    return start <= day <= (ended if ended is not None else end)
