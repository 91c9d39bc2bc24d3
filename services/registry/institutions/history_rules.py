"""Date rules of records that arrive with their original dates (historical imports, issue 14).

A past record is checked by the rules of its single write plus these, each refusal with a stable code:

- ``date_in_future`` (422): a date after now (an instant) or after today (a business date, Asia/Shanghai);
- ``dates_out_of_order`` (422): a later step dated before an earlier one (accepted ≤ revoked);
- ``before_institution_opened`` (422): a record dated before its institution opened (``operating_since``);
- ``year_not_past`` (422): a year's figures for the current or a future year (a year is reported once it
  is over).
"""

from __future__ import annotations

from datetime import date, datetime

from libs.common.errors import FieldError, Unprocessable
from services.registry.institutions.models import Institution


class DateInFuture(Unprocessable):
    default_code = "date_in_future"

    def __init__(self, field: str) -> None:
        super().__init__(
            f"{field} 不能晚于现在（date in the future）",
            errors=[FieldError(field=f"body.{field}", message="不能晚于现在", code="date_in_future")],
        )


class DatesOutOfOrder(Unprocessable):
    default_code = "dates_out_of_order"

    def __init__(self, earlier: str, later: str) -> None:
        super().__init__(
            f"{later} 不能早于 {earlier}（dates out of order）",
            errors=[
                FieldError(field=f"body.{later}", message=f"不能早于 {earlier}", code="dates_out_of_order")
            ],
        )


class BeforeInstitutionOpened(Unprocessable):
    default_code = "before_institution_opened"

    def __init__(self, field: str, opened: date) -> None:
        super().__init__(
            f"{field} 早于机构开业日期 {opened.isoformat()}（before the institution opened）",
            errors=[
                FieldError(
                    field=f"body.{field}",
                    message=f"早于机构开业日期 {opened}",
                    code="before_institution_opened",
                )
            ],
            extra={"operating_since": opened.isoformat()},
        )


class YearNotPast(Unprocessable):
    default_code = "year_not_past"

    def __init__(self, year: int, today: date) -> None:
        super().__init__(
            f"只能填报已结束年度的统计（{year} 年尚未结束，今天是 {today.isoformat()}）（year not over）",
            errors=[FieldError(field="body.year", message="只能填报已结束的年度", code="year_not_past")],
        )


def check_not_future(field: str, moment: datetime, now: datetime) -> None:
    if moment > now:
        raise DateInFuture(field)


def check_order(earlier_field: str, earlier: datetime, later_field: str, later: datetime) -> None:
    if later < earlier:
        raise DatesOutOfOrder(earlier_field, later_field)


def check_after_opening(institution: Institution, field: str, day: date) -> None:
    """A record of ``day`` lies inside its institution's life (not before it opened; no date: no check)."""
    opened = institution.operating_since
    if opened is not None and day < opened:
        raise BeforeInstitutionOpened(field, opened)


def check_year_reportable(institution: Institution, year: int, today: date) -> None:
    """A year's figures (year-end residents, the year's bed-days): a year that is over, and not one before
    the institution opened (the rule of ``PUT /institutions/{id}/year-stats/{year}`` and of the bulk)."""
    if year >= today.year:
        raise YearNotPast(year, today)
    opened = institution.operating_since
    if opened is not None and year < opened.year:
        raise BeforeInstitutionOpened("year", opened)
