"""Counts of institutions and beds by region: SQL aggregates only (GROUP BY), never a loop over rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import divisions
from libs.common.aggregate_plans import plan_for_aggregates
from libs.common.auth import Principal
from libs.common.divisions import PROVINCE_CODE
from libs.common.scope import visible_condition
from services.registry.institutions.kinds import CATEGORY_LABELS, KIND_LABELS
from services.registry.institutions.schemas import BED_FIELDS
from services.registry.stats.schemas import BedCounts, Counts, GroupBy, RegionCounts, RegistryStats
from services.registry.stats.summary import InstitutionStatsCell


def _group_expression(group_by: GroupBy, region_code: Any) -> ColumnElement[str]:
    if group_by is GroupBy.county:
        return region_code  # type: ignore[no-any-return]
    return divisions.city_unit_sql(region_code)


def _scope_divisions(principal: Principal, group_by: GroupBy) -> list[divisions.Division]:
    scope = principal.scope
    if group_by is GroupBy.city:
        return [
            d
            for d in divisions.city_units()
            if any(scope.contains(c.code) for c in divisions.counties_of(d.code))
        ]
    return [
        d
        for d in divisions.all_divisions()
        if d.level is divisions.DivisionLevel.county and scope.contains(d.code)
    ]


def _cell_stmt(principal: Principal, group_by: GroupBy) -> Select[Any]:
    """The summary cells of the caller's scope (``summary.py``), added up per group (institution users
    have no statistics: the router refuses them, and their scope here selects nothing)."""
    cell = InstitutionStatsCell
    group = _group_expression(group_by, cell.region_code).label("region_group")
    sums = [
        func.sum(column)
        for column in (
            cell.institutions,
            cell.integrated_institutions,
            cell.integrated_institution_beds,
            *[getattr(cell, name) for name in BED_FIELDS],
        )
    ]
    return (
        select(group, cell.kind, cell.category, *sums)
        .where(visible_condition(principal, cell.region_code))
        .group_by(group, cell.kind, cell.category)
    )


def _empty() -> dict[str, Any]:
    return {
        "institutions": 0,
        "integrated_institutions": 0,
        "integrated_institution_beds": 0,
        "by_kind": {},
        "by_category": {},
        "beds": {},
        "beds_by_kind": {},
    }


def _add(
    target: dict[str, Any],
    kind: str,
    category: str,
    count: int,
    integrated: tuple[int, int],
    beds: Sequence[int],
) -> None:
    target["institutions"] += count
    target["integrated_institutions"] += int(integrated[0] or 0)
    target["integrated_institution_beds"] += int(integrated[1] or 0)
    target["by_kind"][kind] = target["by_kind"].get(kind, 0) + count
    target["by_category"][category] = target["by_category"].get(category, 0) + count
    kind_beds = target["beds_by_kind"].setdefault(kind, dict.fromkeys(BED_FIELDS, 0))
    for name, value in zip(BED_FIELDS, beds, strict=True):
        target["beds"][name] = target["beds"].get(name, 0) + int(value or 0)
        kind_beds[name] += int(value or 0)


def _counts(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "institutions": raw["institutions"],
        "integrated_institutions": raw["integrated_institutions"],
        "integrated_institution_beds": raw["integrated_institution_beds"],
        "by_kind": {str(kind): raw["by_kind"].get(str(kind), 0) for kind in KIND_LABELS},
        "by_category": {str(c): raw["by_category"].get(str(c), 0) for c in CATEGORY_LABELS},
        "beds": BedCounts(**raw["beds"]),
        "beds_by_kind": {
            str(kind): BedCounts(**raw["beds_by_kind"].get(str(kind), {})) for kind in KIND_LABELS
        },
    }


async def registry_stats(session: AsyncSession, principal: Principal, *, group_by: GroupBy) -> RegistryStats:
    """Active institutions and their beds, by kind and category, per city or county of the caller's scope.

    One GROUP BY (region group, kind, category) query over the summary cells of the scope
    (``summary.py``: a few hundred rows, not every institution); the per-region cells it returns (at most
    84 counties × 12 categories) are arranged into groups and the scope total.
    """
    stmt = _cell_stmt(principal, group_by)
    await plan_for_aggregates(session)
    rows = (await session.execute(stmt)).all()
    per_region: dict[str, dict[str, Any]] = {d.code: _empty() for d in _scope_divisions(principal, group_by)}
    total = _empty()
    for region_code, kind, category, count, in_integrated, integrated_bed_sum, *beds in rows:
        cell = (int(in_integrated or 0), int(integrated_bed_sum or 0))
        _add(per_region.setdefault(region_code, _empty()), str(kind), str(category), int(count), cell, beds)
        _add(total, str(kind), str(category), int(count), cell, beds)
    scope_code = PROVINCE_CODE if principal.scope.prefix == "35" else principal.region_code
    scope_division = divisions.get(scope_code)
    groups = [
        RegionCounts(
            region_code=code,
            region_name=(division.name if (division := divisions.get(code)) else code),
            **_counts(raw),
        )
        for code, raw in sorted(per_region.items())
    ]
    return RegistryStats(
        group_by=group_by,
        scope_region_code=scope_code,
        scope_region_name=scope_division.name if scope_division else scope_code,
        kind_labels={str(k): v for k, v in KIND_LABELS.items()},
        category_labels={str(k): v for k, v in CATEGORY_LABELS.items()},
        groups=groups,
        totals=Counts(**_counts(total)),
    )
