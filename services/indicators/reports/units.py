"""What every computed indicator is made of: its **units**, one row per record counted.

A family module (``institutions``, ``agreements``, ``homecare``) builds, for an indicator and a period,
one SELECT of its units with these columns:

- ``region_code`` — the county the unit counts in;
- ``record_id`` / ``related_id`` — the record's id in its source service (``related_id``: the second
  institution of a signed pair, else NULL);
- ``name`` — the record's name as the source gave it;
- ``num`` / ``den`` — what the unit adds to the numerator and the denominator (``den`` NULL for a plain
  count);
- ``party_a`` / ``party_b`` — the institutions the unit belongs to (an institution user's contribution).

The figure is one aggregate statement over that SELECT, grouped by county; the drill-down lists the same
units (numerator: ``num`` > 0; denominator: ``den`` > 0; gap: ``den`` > ``num``), so a figure and its
records can never disagree.

A builder is given either a :class:`Period` (its dates are bound values) or :class:`PeriodColumns`: the
columns of a derived table with one row per period (:func:`period_table`), so that ONE statement computes
a whole series — every unit joined to every period it is asked for, grouped by the period's ``key`` and
the county. A builder that groups its own rows adds :func:`period_keys` to its GROUP BY.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Integer, Select, Uuid, cast, literal, null, select, true, union_all
from sqlalchemy.sql.elements import ColumnElement

from libs.common.models import UTCDateTime
from services.indicators.reports.periods import Period

UNIT_COLUMNS = ("region_code", "record_id", "related_id", "name", "num", "den", "party_a", "party_b")


def units(
    *,
    region_code: Any,
    record_id: Any,
    name: Any,
    num: Any,
    den: Any,
    party_a: Any,
    party_b: Any = None,
    related_id: Any = None,
) -> Select[Any]:
    """The SELECT of units, its columns named and typed alike for every family."""

    def number(value: Any) -> ColumnElement[Any]:
        if value is None:
            return cast(null(), Integer)
        if isinstance(value, int):
            return cast(literal(value, Integer), Integer)
        return value  # type: ignore[no-any-return]

    none_id = cast(null(), Uuid())
    return select(
        region_code.label("region_code"),
        record_id.label("record_id"),
        (related_id if related_id is not None else none_id).label("related_id"),
        name.label("name"),
        number(num).label("num"),
        number(den).label("den"),
        party_a.label("party_a"),
        (party_b if party_b is not None else none_id).label("party_b"),
    )


class PeriodColumns:
    """Periods as SQL: the columns of a derived table with one row per period, named as the attributes
    of :class:`Period` a builder reads (``start``, ``end``, ``start_moment``, ``end_moment``, ``months``,
    ``weeks``), plus ``key``: the period's position in the series; ``asked_on`` as the first period's."""

    def __init__(self, periods: Sequence[Period]) -> None:
        if not periods:
            raise ValueError("no period")
        self.asked_on: date = periods[0].asked_on
        rows = [
            select(
                literal(n, Integer).label("key"),
                literal(p.start, Date).label("start_date"),
                literal(p.end, Date).label("end_date"),
                literal(p.start_moment, UTCDateTime()).label("start_moment"),
                literal(p.end_moment, UTCDateTime()).label("end_moment"),
                literal(p.months, Integer).label("months"),
                literal(p.weeks, Integer).label("weeks"),
            )
            for n, p in enumerate(periods)
        ]
        table = (rows[0] if len(rows) == 1 else union_all(*rows)).subquery("periods")
        self.table = table
        self.key: ColumnElement[int] = table.c.key
        self.start: ColumnElement[date] = table.c.start_date
        self.end: ColumnElement[date] = table.c.end_date
        self.start_moment: ColumnElement[datetime] = table.c.start_moment
        self.end_moment: ColumnElement[datetime] = table.c.end_moment
        self.months: ColumnElement[int] = table.c.months
        self.weeks: ColumnElement[int] = table.c.weeks


AnyPeriod = Period | PeriodColumns
UnitsBuilder = Callable[[AnyPeriod], Select[Any]]


def for_each_period(built: Select[Any], periods: PeriodColumns) -> Select[Any]:
    """A builder's SELECT for every period: its units joined to the periods (a cross join, written as a
    join ON true so it reads as intended), with the period's ``key`` as column ``period_key``."""
    froms = built.get_final_froms()
    return built.select_from(froms[0].join(periods.table, true())).add_columns(
        periods.key.label("period_key")
    )


def period_keys(period: AnyPeriod) -> list[ColumnElement[int]]:
    """What a builder that groups its rows adds to its GROUP BY: the period's key for a series, else
    nothing."""
    return [period.key] if isinstance(period, PeriodColumns) else []


@dataclass(frozen=True, slots=True)
class RecordKind:
    """What a unit is, for the drill-down: 机构, 签约对, 协议, 家庭病床, 订单, 转诊, 县, and the residents'
    records (体检记录, 家庭医生签约, 能力评估)."""

    code: str
    label: str
    source: str  # the source service whose ids the records carry


INSTITUTION = RecordKind("institution", "机构", "registry")
PAIR = RecordKind("pair", "签约机构对（医疗机构—养老机构）", "contracts")
AGREEMENT = RecordKind("agreement", "签约协议", "contracts")
HOME_BED = RecordKind("home_bed", "家庭病床", "homecare")
ORDER = RecordKind("order", "护理服务订单", "homecare")
REFERRAL = RecordKind("referral", "双向转诊", "contracts")
COUNTY = RecordKind("county", "县（区）", "divisions")
CHECKUP = RecordKind("checkup", "老年人健康体检记录", "residents")
SIGNING = RecordKind("signing", "家庭医生签约", "residents")
ASSESSMENT = RecordKind("assessment", "老年人能力评估", "residents")


def uuid_or_none(value: Any) -> uuid.UUID | None:
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(str(value))
