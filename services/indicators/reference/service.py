"""Reading and loading the reference tables (population, targets).

The reports read the current version through two functions:

- :func:`population` — ``{county code: PopulationRow}`` for a year (empty: nothing loaded for it, which
  the reports show as missing, never as 0);
- :func:`targets` — every target of the current version, optionally only those due on or before a date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.indicators.reference.catalogue import INDICATORS, Unit
from services.indicators.reference.models import PopulationRecord, ReferenceVersion, TargetRecord


class Dataset(StrEnum):
    population = "population"
    targets = "targets"


class Comparison(StrEnum):
    """How an indicator's value is held against its target: value ≥, >, = or ≤ target."""

    gte = "gte"
    gt = "gt"
    eq = "eq"
    lte = "lte"

    def holds(self, value: Decimal | float | int, target: Decimal | float | int) -> bool:
        """Whether ``value`` meets ``target`` under this comparison (exact arithmetic on Decimals)."""
        actual, wanted = Decimal(str(value)), Decimal(str(target))
        if self is Comparison.gte:
            return actual >= wanted
        if self is Comparison.gt:
            return actual > wanted
        if self is Comparison.eq:
            return actual == wanted
        return actual <= wanted


COMPARISON_SIGNS: Final[dict[str, str]] = {
    Comparison.gte: "≥",
    Comparison.gt: ">",
    Comparison.eq: "=",
    Comparison.lte: "≤",
}


@dataclass(frozen=True, slots=True)
class PopulationRow:
    """A county's resident population and population aged 65+ in a year, and where the figures come from."""

    region_code: str
    year: int
    residents: int
    aged_65_plus: int
    source: str


@dataclass(frozen=True, slots=True)
class TargetRow:
    """A target of the current version.

    ``region_code`` is a division code (``350000`` the province, a city, 平潭 ``350128``, a county);
    ``each_county`` means the target is evaluated county by county within that region (each county must
    meet it; the evaluation names the counties that fall short). ``value`` is in the indicator's
    ``unit``: a rate as a fraction (0.85 = 85 %), a figure per 10,000 residents, or a count.
    """

    indicator: str
    region_code: str
    each_county: bool
    comparison: Comparison
    value: Decimal
    due_date: date
    source: str

    @property
    def unit(self) -> Unit:
        return INDICATORS[self.indicator].unit

    def met_by(self, value: Decimal | float | int) -> bool:
        return self.comparison.holds(value, self.value)


async def current_version(session: AsyncSession, dataset: Dataset) -> ReferenceVersion | None:
    """The latest load of ``dataset``, or None if it was never loaded."""
    latest = (
        select(func.max(ReferenceVersion.number))
        .where(ReferenceVersion.dataset == dataset.value)
        .scalar_subquery()
    )
    return await session.scalar(
        select(ReferenceVersion).where(
            ReferenceVersion.dataset == dataset.value, ReferenceVersion.number == latest
        )
    )


async def population(session: AsyncSession, year: int) -> dict[str, PopulationRow]:
    """The current population table's rows of ``year``, keyed by county code (empty if none)."""
    version = await current_version(session, Dataset.population)
    if version is None:
        return {}
    rows = await session.scalars(
        select(PopulationRecord)
        .where(PopulationRecord.version_id == version.id, PopulationRecord.year == year)
        .order_by(PopulationRecord.position)
    )
    return {
        row.region_code: PopulationRow(
            region_code=row.region_code,
            year=row.year,
            residents=row.residents,
            aged_65_plus=row.aged_65_plus,
            source=row.source,
        )
        for row in rows
    }


async def targets(session: AsyncSession, *, due_on_or_before: date | None = None) -> list[TargetRow]:
    """The current targets (indicator, region, due date order), only those due by a date if given."""
    version = await current_version(session, Dataset.targets)
    if version is None:
        return []
    stmt = select(TargetRecord).where(TargetRecord.version_id == version.id)
    if due_on_or_before is not None:
        stmt = stmt.where(TargetRecord.due_date <= due_on_or_before)
    rows = await session.scalars(stmt.order_by(TargetRecord.position))
    return [
        TargetRow(
            indicator=row.indicator,
            region_code=row.region_code,
            each_county=row.each_county,
            comparison=Comparison(row.comparison),
            value=row.value,
            due_date=row.due_date,
            source=row.source,
        )
        for row in rows
    ]
