"""The date checks of a historical import (issue 14): a record pushed with its original dates.

The records of ``POST /agreements/bulk``, ``/visits/bulk`` and ``/referrals/bulk`` carry the moments of
their past (submitted, countersigned, filed, requested, accepted, closed, …) instead of "now". On top of
the single write's rules, each moment must be

- not in the future (422 ``history_in_future``),
- in the order of the lifecycle (422 ``history_out_of_order``: e.g. submitted ≤ countersigned ≤ filed),
- one the record's state can have (422 ``history_not_in_state``: a draft has no countersignature, a
  returned referral has its admission).

Each error names its field as a single write names a body field (``body.<name>``); the bulk writer
renames it ``records.<index>.<name>``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, tzinfo

from libs.common.errors import FieldError, Unprocessable

Moment = datetime | date


class HistoryInvalid(Unprocessable):
    default_code = "history_invalid"

    def __init__(self, detail: str, *, code: str, field: str, message: str) -> None:
        super().__init__(
            detail, code=code, errors=[FieldError(field=f"body.{field}", message=message, code=code)]
        )


def _day(value: Moment, tz: tzinfo | None) -> date:
    return value.astimezone(tz).date() if isinstance(value, datetime) else value


def not_in_future(stamps: Iterable[tuple[str, Moment | None]], *, now: datetime) -> None:
    """Each given moment (or date) lies no later than ``now`` (a date: no later than today there)."""
    for name, value in stamps:
        if value is None:
            continue
        late = value > now if isinstance(value, datetime) else value > _day(now, now.tzinfo)
        if late:
            raise HistoryInvalid(
                f"{name} 不得晚于当前时间", code="history_in_future", field=name, message="不得晚于当前时间"
            )


def in_order(stamps: Iterable[tuple[str, Moment | None]], *, tz: tzinfo) -> None:
    """The given moments follow each other in the order listed (equal is in order); a date compared with
    a moment is compared with the moment's day in ``tz``."""
    previous: tuple[str, Moment] | None = None
    for name, value in stamps:
        if value is None:
            continue
        if previous is not None:
            before_name, before = previous
            if isinstance(before, datetime) and isinstance(value, datetime):
                early = value < before
            else:
                early = _day(value, tz) < _day(before, tz)
            if early:
                raise HistoryInvalid(
                    f"{name} 不得早于 {before_name}",
                    code="history_out_of_order",
                    field=name,
                    message=f"不得早于 {before_name}",
                )
        previous = (name, value)


def absent(stamps: Iterable[tuple[str, object | None]], *, state: str) -> None:
    """None of the given fields is set: the record's ``state`` cannot have them."""
    for name, value in stamps:
        if value is not None:
            raise HistoryInvalid(
                f"状态为 {state} 的记录不应有 {name}",
                code="history_not_in_state",
                field=name,
                message=f"状态 {state} 不应有此项",
            )


def present(stamps: Iterable[tuple[str, object | None]], *, state: str) -> None:
    """Each of the given fields is set: the record's ``state`` was reached through them."""
    for name, value in stamps:
        if value is None:
            raise HistoryInvalid(
                f"状态为 {state} 的记录须有 {name}",
                code="history_not_in_state",
                field=name,
                message=f"状态 {state} 须有此项",
            )
