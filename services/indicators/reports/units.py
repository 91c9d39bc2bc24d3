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
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, Uuid, cast, literal, null
from sqlalchemy.sql.elements import ColumnElement

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
    from sqlalchemy import select

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


UnitsBuilder = Callable[[Period], Select[Any]]


@dataclass(frozen=True, slots=True)
class RecordKind:
    """What a unit is, for the drill-down: 机构, 签约对, 协议, 家庭病床, 订单, 县."""

    code: str
    label: str
    source: str  # the source service whose ids the records carry


INSTITUTION = RecordKind("institution", "机构", "registry")
PAIR = RecordKind("pair", "签约机构对（医疗机构—养老机构）", "contracts")
AGREEMENT = RecordKind("agreement", "签约协议", "contracts")
HOME_BED = RecordKind("home_bed", "家庭病床", "homecare")
ORDER = RecordKind("order", "护理服务订单", "homecare")
COUNTY = RecordKind("county", "县（区）", "divisions")


def uuid_or_none(value: Any) -> uuid.UUID | None:
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(str(value))
