"""The regions a report is asked for, their counties and the level below them.

A report's region is the province (``350000``), a city-level unit (the nine cities and 平潭 ``350128``)
or a county. Its breakdown is one level down: the province → the ten city-level units, a city → its
counties, 平潭 → itself (its only county), a county → none. Every count is computed per county and summed
upwards, so the levels always add up.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import and_, not_
from sqlalchemy.sql.elements import ColumnElement

from libs.common import divisions
from libs.common.auth import Principal
from libs.common.divisions import Division, DivisionLevel, RegionScope
from libs.common.errors import NotFound, Unprocessable

LEVEL_LABELS = {"province": "省", "city": "市", "county": "县（区）"}


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    level: str  # province | city | county (平潭 is a city)

    @property
    def scope(self) -> RegionScope:
        return RegionScope.for_region(self.code)

    def counties(self) -> tuple[str, ...]:
        """The region's county codes, in order (the divisions are constants: worked out once)."""
        return _counties(self.code, self.level)

    def children(self) -> list[Region]:
        if self.level == "province":
            return sorted((_region(d) for d in divisions.city_units()), key=lambda r: r.code)
        if self.level == "city":  # 平潭's one county is itself
            return [Region(code, _name(code), "county") for code in self.counties()]
        return []

    def condition(self, column: ColumnElement[str]) -> ColumnElement[bool]:
        """SQL: a county-code column lies in this region (平潭 excluded from 福州)."""
        scope = self.scope
        condition = and_(column >= scope.prefix, column < scope.upper_bound)
        for code in scope.excluded:
            condition = and_(condition, not_(column.startswith(code)))
        return condition


@cache
def _counties(code: str, level: str) -> tuple[str, ...]:
    if level == "province":
        return tuple(sorted(d.code for d in divisions.all_divisions() if d.level is DivisionLevel.county))
    if level == "city":
        return tuple(sorted(d.code for d in divisions.counties_of(code)))
    return (code,)


def _name(code: str) -> str:
    division = divisions.get(code)
    return division.name if division else code


def _region(division: Division) -> Region:
    if division.level is DivisionLevel.province:
        level = "province"
    elif division.is_city_unit:
        level = "city"
    else:
        level = "county"
    return Region(division.code, division.name, level)


def region_of(code: str) -> Region:
    division = divisions.get(code)
    if division is None:
        raise Unprocessable(f"未知的行政区划代码 {code}", code="invalid_region")
    return _region(division)


def city_of(county: str) -> str:
    return divisions.city_unit_of(county) or county


def requested_region(principal: Principal, code: str | None) -> Region:
    """The region asked for (default: the caller's own), which must lie within the caller's scope.

    An unknown code is a 422 ``invalid_region``; a region outside the caller's scope answers 404 (as any
    read outside scope: its existence is not revealed). An institution user's region is its own county.
    """
    if principal.is_institution_user:
        own = region_of(principal.region_code)
        if code is not None and region_of(code).code != own.code:
            raise NotFound("统计区域不存在", code="not_found")
        return own
    region = region_of(code if code is not None else principal.region_code)
    if not principal.scope.contains(region.code):
        raise NotFound("统计区域不存在", code="not_found")
    return region
