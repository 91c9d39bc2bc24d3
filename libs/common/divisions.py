"""Fujian's administrative divisions (GB/T 2260) and the region-scope arithmetic built on them.

The list is the project's own copy (``libs/common/data/fujian_divisions.csv``). 平潭 (``350128``) is a
county code that health administration treats as a city-level unit: it is its own "city" here, and
福州市's scope does not include it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import case, func, literal
from sqlalchemy.sql.elements import ColumnElement

PROVINCE_CODE = "350000"
PINGTAN_CODE = "350128"


class DivisionLevel(StrEnum):
    province = "province"
    city = "city"
    county = "county"


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    level: DivisionLevel
    parent_code: str | None
    #: False only for 金门县 (350527): in GB/T 2260 but Taiwan-administered (the data file's ``note``)
    administered: bool = True

    @property
    def is_city_unit(self) -> bool:
        """A city, or 平潭 which is administered as one."""
        return self.level is DivisionLevel.city or self.code == PINGTAN_CODE


@cache
def _divisions() -> dict[str, Division]:
    text = resources.files("libs.common").joinpath("data/fujian_divisions.csv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines())
    return {
        row["code"]: Division(
            code=row["code"],
            name=row["name"],
            level=DivisionLevel(row["level"]),
            parent_code=row["parent_code"] or None,
            administered=row["administered"] != "no",
        )
        for row in rows
    }


def get(code: str) -> Division | None:
    return _divisions().get(code)


def all_divisions() -> list[Division]:
    return list(_divisions().values())


def is_county(code: str) -> bool:
    division = get(code)
    return division is not None and division.level is DivisionLevel.county


def city_units() -> list[Division]:
    """The ten city-level units: nine cities and 平潭."""
    return [d for d in _divisions().values() if d.is_city_unit]


def city_unit_of(code: str) -> str | None:
    """The city-level unit a county (or city) belongs to; 平潭 is its own."""
    division = get(code)
    if division is None or division.level is DivisionLevel.province:
        return None
    if division.is_city_unit:
        return division.code
    return division.parent_code


def city_unit_sql(region_column: Any) -> ColumnElement[str]:
    """:func:`city_unit_of` as SQL, for a county-code column (SQLite and PostgreSQL): 平潭 is its own;
    every other county belongs to the city of its first four digits."""
    return case(
        (region_column == PINGTAN_CODE, literal(PINGTAN_CODE)),
        else_=func.substr(region_column, 1, 4).concat("00"),
    )


@cache
def _counties_by_city_unit() -> dict[str, tuple[Division, ...]]:
    """The counties of each city-level unit, indexed once (a report asks hundreds of times)."""
    found: dict[str, list[Division]] = {}
    for d in _divisions().values():
        if d.level is DivisionLevel.county and d.parent_code is not None and d.code != PINGTAN_CODE:
            found.setdefault(d.parent_code, []).append(d)
    pingtan = _divisions().get(PINGTAN_CODE)
    found[PINGTAN_CODE] = [pingtan] if pingtan is not None else []
    return {code: tuple(counties) for code, counties in found.items()}


def counties_of(city_code: str) -> list[Division]:
    """The counties of a city-level unit (福州 without 平潭; 平潭 is its own one county); a new list."""
    return list(_counties_by_city_unit().get(city_code, ()))


@dataclass(frozen=True, slots=True)
class RegionScope:
    """A region as a code prefix, minus the city-level units carved out of it (平潭 from 福州)."""

    prefix: str
    excluded: tuple[str, ...] = ()

    @classmethod
    def for_region(cls, region_code: str) -> RegionScope:
        division = get(region_code)
        if division is None:
            raise ValueError(f"未知的行政区划代码 {region_code}")
        if division.level is DivisionLevel.province:
            return cls(region_code[:2])
        if division.code == PINGTAN_CODE:
            return cls(PINGTAN_CODE)
        if division.level is DivisionLevel.city:
            excluded = (PINGTAN_CODE,) if PINGTAN_CODE.startswith(region_code[:4]) else ()
            return cls(region_code[:4], excluded)
        return cls(region_code)

    def contains(self, region_code: str | None) -> bool:
        if region_code is None or not region_code.startswith(self.prefix):
            return False
        return not any(region_code.startswith(ex) for ex in self.excluded)

    @property
    def upper_bound(self) -> str:
        """The smallest string above every code with this prefix (for index-friendly range scans)."""
        return self.prefix[:-1] + chr(ord(self.prefix[-1]) + 1)
