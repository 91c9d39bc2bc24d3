"""Reading and loading the reference tables (population, targets).

The reports read the current version through two functions:

- :func:`population` — ``{county code: PopulationRow}`` for a year (empty: nothing loaded for it, which
  the reports show as missing, never as 0);
- :func:`targets` — every target of the current version, optionally only those due on or before a date.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from libs.common import divisions
from libs.common.auth import Principal, Role
from libs.common.divisions import RegionScope
from libs.common.errors import FieldError, NotFound, Unprocessable
from libs.common.pagination import PageParams, paginate
from libs.common.scope import RegionColumn, region_condition, visible_condition
from services.indicators.reference.catalogue import COMPARISON_SIGNS, DATASET_LABELS, INDICATORS, Unit
from services.indicators.reference.catalogue import Comparison as Comparison  # re-exported
from services.indicators.reference.catalogue import Dataset as Dataset  # re-exported
from services.indicators.reference.loading import ImportTooLarge, load, plain_decimal
from services.indicators.reference.models import PopulationRecord, ReferenceVersion, TargetRecord
from services.indicators.reference.schemas import (
    PopulationFilter,
    PopulationPage,
    PopulationRead,
    SourceCount,
    TargetFilter,
    TargetPage,
    TargetRead,
    VersionRead,
)
from services.indicators.reference.spreadsheet import POPULATION, TARGETS, SheetError, read_xlsx, write_xlsx


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


# ------------------------------------------------------------------------------ the tables over HTTP


async def version_for(session: AsyncSession, dataset: Dataset, number: int | None) -> ReferenceVersion | None:
    """Version ``number`` of ``dataset`` (404 ``version_not_found`` if there is none), or the current one."""
    if number is None:
        return await current_version(session, dataset)
    version = await session.scalar(
        select(ReferenceVersion).where(
            ReferenceVersion.dataset == dataset.value, ReferenceVersion.number == number
        )
    )
    if version is None:
        raise NotFound(f"{DATASET_LABELS[dataset]}没有第 {number} 版", code="version_not_found")
    return version


async def _latest_number(session: AsyncSession, dataset: Dataset) -> int | None:
    return await session.scalar(
        select(func.max(ReferenceVersion.number)).where(ReferenceVersion.dataset == dataset.value)
    )


def version_read(version: ReferenceVersion, latest: int | None) -> VersionRead:
    return VersionRead(
        dataset=Dataset(version.dataset),
        number=version.number,
        current=version.number == latest,
        loaded_at=version.loaded_at,
        loaded_by=version.loaded_by,
        loaded_by_role=version.loaded_by_role,
        filename=version.filename,
        row_count=version.row_count,
        sources=[SourceCount(source=source, rows=rows) for source, rows in version.sources.items()],
    )


async def versions(
    session: AsyncSession, dataset: Dataset, params: PageParams
) -> tuple[list[VersionRead], str | None]:
    """Every load of ``dataset``, newest first."""
    latest = await _latest_number(session, dataset)
    rows, next_cursor = await paginate(
        session,
        select(ReferenceVersion).where(ReferenceVersion.dataset == dataset.value),
        order_by=[ReferenceVersion.number],
        params=params,
        descending=True,
    )
    return [version_read(row, latest) for row in rows], next_cursor


def _region_name(code: str) -> str:
    division = divisions.get(code)
    return division.name if division else code


def _within(region: str, column: RegionColumn) -> ColumnElement[bool]:
    try:
        scope = RegionScope.for_region(region)
    except ValueError:
        raise Unprocessable(
            f"未知的行政区划代码 {region}",
            code="unknown_region",
            errors=[FieldError(field="query.region", message="未知的行政区划代码", code="unknown_region")],
        ) from None
    return region_condition(scope.prefix, scope.excluded, column)


def population_visible(principal: Principal) -> ColumnElement[bool]:
    """Officials read the counties of their region; nobody else reads any row."""
    if principal.is_institution_user or principal.role is Role.city_platform:
        return false()
    return visible_condition(principal, PopulationRecord.region_code)


def targets_visible(principal: Principal) -> ColumnElement[bool]:
    """Officials read the targets set for a region inside theirs, and those that apply to them: set for
    the province, their city (平潭 its own) or themselves, whether for the region or for each county."""
    if principal.is_institution_user or principal.role is Role.city_platform:
        return false()
    if principal.role is Role.service:
        return true()
    above = {divisions.PROVINCE_CODE, principal.region_code}
    city = divisions.city_unit_of(principal.region_code)
    if city is not None:
        above.add(city)
    scope = principal.scope
    return or_(
        TargetRecord.region_code.in_(sorted(above)),
        region_condition(scope.prefix, scope.excluded, TargetRecord.region_code),
    )


def population_read(row: PopulationRecord) -> PopulationRead:
    return PopulationRead(
        region_code=row.region_code,
        region_name=_region_name(row.region_code),
        year=row.year,
        residents=row.residents,
        aged_65_plus=row.aged_65_plus,
        source=row.source,
    )


def target_read(row: TargetRecord) -> TargetRead:
    indicator = INDICATORS.get(row.indicator)
    return TargetRead(
        indicator=row.indicator,
        indicator_name=indicator.name if indicator else row.indicator,
        unit=indicator.unit if indicator else Unit.number,
        region_code=row.region_code,
        region_name=_region_name(row.region_code),
        each_county=row.each_county,
        comparison=Comparison(row.comparison),
        value=plain_decimal(row.value),
        due_date=row.due_date,
        source=row.source,
    )


def _population_stmt(
    principal: Principal, version: ReferenceVersion, filters: PopulationFilter
) -> Select[PopulationRecord]:
    stmt = select(PopulationRecord).where(
        PopulationRecord.version_id == version.id, population_visible(principal)
    )
    if filters.year is not None:
        stmt = stmt.where(PopulationRecord.year == filters.year)
    if filters.region is not None:
        stmt = stmt.where(_within(filters.region, PopulationRecord.region_code))
    return stmt


def _targets_stmt(
    principal: Principal, version: ReferenceVersion, filters: TargetFilter
) -> Select[TargetRecord]:
    stmt = select(TargetRecord).where(TargetRecord.version_id == version.id, targets_visible(principal))
    if filters.indicator is not None:
        stmt = stmt.where(TargetRecord.indicator == filters.indicator)
    if filters.region is not None:
        stmt = stmt.where(_within(filters.region, TargetRecord.region_code))
    if filters.due_on_or_before is not None:
        stmt = stmt.where(TargetRecord.due_date <= filters.due_on_or_before)
    return stmt


async def population_page(
    session: AsyncSession, principal: Principal, filters: PopulationFilter, params: PageParams
) -> PopulationPage:
    version = await version_for(session, Dataset.population, filters.version)
    if version is None:
        return PopulationPage(items=[], next_cursor=None, limit=params.limit, version=None)
    rows, next_cursor = await paginate(
        session,
        _population_stmt(principal, version, filters),
        order_by=[PopulationRecord.position],
        params=params,
    )
    return PopulationPage(
        items=[population_read(row) for row in rows],
        next_cursor=next_cursor,
        limit=params.limit,
        version=version_read(version, await _latest_number(session, Dataset.population)),
    )


async def targets_page(
    session: AsyncSession, principal: Principal, filters: TargetFilter, params: PageParams
) -> TargetPage:
    version = await version_for(session, Dataset.targets, filters.version)
    if version is None:
        return TargetPage(items=[], next_cursor=None, limit=params.limit, version=None)
    rows, next_cursor = await paginate(
        session, _targets_stmt(principal, version, filters), order_by=[TargetRecord.position], params=params
    )
    return TargetPage(
        items=[target_read(row) for row in rows],
        next_cursor=next_cursor,
        limit=params.limit,
        version=version_read(version, await _latest_number(session, Dataset.targets)),
    )


async def population_export(
    session: AsyncSession, principal: Principal, filters: PopulationFilter
) -> tuple[bytes, ReferenceVersion | None]:
    """The population rows the principal reads (the template's header alone if none), as XLSX."""
    version = await version_for(session, Dataset.population, filters.version)
    rows: list[dict[str, Any]] = []
    if version is not None:
        records = await session.scalars(
            _population_stmt(principal, version, filters).order_by(PopulationRecord.position)
        )
        for record in records:
            read = population_read(record)
            rows.append(
                {
                    "区划代码": read.region_code,
                    "区划名称": read.region_name,
                    "年份": read.year,
                    "常住人口": read.residents,
                    "65岁及以上人口": read.aged_65_plus,
                    "来源": read.source,
                }
            )
    return write_xlsx(POPULATION, rows), version


async def targets_export(
    session: AsyncSession, principal: Principal, filters: TargetFilter
) -> tuple[bytes, ReferenceVersion | None]:
    """The targets the principal reads (the template's header alone if none), as XLSX; a rate's value
    is written as the fraction with a percentage format, so that it shows as 85.00 % and reads back 0.85."""
    version = await version_for(session, Dataset.targets, filters.version)
    rows: list[dict[str, Any]] = []
    rates: list[bool] = []
    if version is not None:
        records = await session.scalars(
            _targets_stmt(principal, version, filters).order_by(TargetRecord.position)
        )
        for record in records:
            read = target_read(record)
            rows.append(
                {
                    "指标代码": read.indicator,
                    "指标名称": read.indicator_name,
                    "区域": read.region_code,
                    "区域名称": read.region_name,
                    "逐县评价": "是" if read.each_county else "否",
                    "比较": COMPARISON_SIGNS[read.comparison],
                    "目标值": read.value,
                    "截止日期": read.due_date,
                    "来源": read.source,
                }
            )
            rates.append(read.unit is Unit.rate)
    return write_xlsx(TARGETS, rows, rate_fields=rates), version


async def load_file(
    session: AsyncSession,
    principal: Principal,
    dataset: Dataset,
    content: bytes,
    *,
    filename: str | None,
    max_rows: int,
) -> VersionRead:
    """Read an uploaded XLSX file of ``dataset`` and load it as the next version (all or nothing)."""
    layout = POPULATION if dataset is Dataset.population else TARGETS
    try:
        # parsing is CPU work: off the event loop
        rows = await asyncio.to_thread(read_xlsx, layout, content, max_rows=max_rows)
    except SheetError as exc:
        raise Unprocessable(str(exc), code=exc.code, extra=exc.extra) from None
    if len(rows) > max_rows:
        raise ImportTooLarge(
            f"每次最多导入 {max_rows} 行（at most {max_rows} rows）", extra={"max_rows": max_rows}
        )
    version = await load(session, principal, dataset, rows, filename=filename)
    return version_read(version, version.number)
