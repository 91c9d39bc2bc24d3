"""签约覆盖率: elderly-care institutions in scope (from the registry) against agreements in force (SQL).

Covered: at least one agreement in force today (Asia/Shanghai) whose elderly-care party is the
institution, or the institution has its own medical unit (the registry's ``has_medical_unit``: a
医养结合机构, or an elderly-care institution whose internal clinic filing was accepted — 两证齐全).
Signed pairs and expiring agreements count an agreement in each party's county (a 思明 hospital's
agreement with a 湖里 home counts in 思明 and in 湖里, once in 厦门).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import divisions
from libs.common.auth import Principal
from libs.common.scope import region_condition, regions_condition
from services.contracts.agreements.lifecycle import in_force_condition
from services.contracts.agreements.models import Agreement
from services.contracts.agreements.service import REGION_COLUMNS
from services.contracts.clients.registry import ELDERLY_CARE_KINDS, RegistryClient
from services.contracts.coverage.schemas import Coverage, CoverageGroup, Expiring, UncoveredInstitution


def _group_of(region_code: str, group_by: str) -> str:
    if group_by == "city":
        return divisions.city_unit_of(region_code) or region_code
    return region_code


def _rate(covered: int, total: int) -> float:
    return round(100.0 * covered / total, 2) if total else 100.0


async def coverage(
    session: AsyncSession,
    principal: Principal,
    *,
    registry: RegistryClient,
    region_code: str,
    group_by: str,
    today: date,
    target_pct: float,
    page_size: int,
    uncovered_limit: int,
) -> Coverage:
    scope = divisions.RegionScope.for_region(region_code)
    # covered: the region's elderly-care institutions (the agreement's own county); signed pairs and
    # expiring agreements: those of which either party's county lies in the region (each counted once)
    in_scope = region_condition(scope.prefix, scope.excluded, Agreement.region_code)
    either_party = regions_condition(scope.prefix, scope.excluded, REGION_COLUMNS)
    in_force = in_force_condition(today)

    institutions = await registry.list_institutions(
        kinds=ELDERLY_CARE_KINDS, region_code=region_code, page_size=page_size
    )
    signed = set(
        (
            await session.scalars(
                select(Agreement.elderly_institution_id).where(in_force, in_scope).distinct()
            )
        ).all()
    )
    pairs = await session.scalar(
        select(func.count()).select_from(
            select(Agreement.medical_institution_id, Agreement.elderly_institution_id)
            .where(in_force, either_party)
            .distinct()
            .subquery()
        )
    )
    expiring = {}
    for days in (30, 60, 90):
        expiring[days] = await session.scalar(
            select(func.count()).where(
                in_force, either_party, Agreement.end_date <= today + timedelta(days=days)
            )
        )

    totals: Counter[str] = Counter()
    covered_counts: Counter[str] = Counter()
    by_agreement = by_unit = 0
    uncovered: list[UncoveredInstitution] = []
    for item in institutions:
        group = _group_of(item.region_code, group_by)
        totals[group] += 1
        if item.id in signed:
            by_agreement += 1
            covered_counts[group] += 1
        elif item.has_medical_unit:
            by_unit += 1
            covered_counts[group] += 1
        else:
            uncovered.append(
                UncoveredInstitution(id=item.id, name=item.name, kind=item.kind, region_code=item.region_code)
            )
    uncovered.sort(key=lambda u: (u.region_code, u.name, str(u.id)))
    groups = []
    for group in sorted(totals):
        division = divisions.get(group)
        rate = _rate(covered_counts[group], totals[group])
        groups.append(
            CoverageGroup(
                region_code=group,
                region_name=division.name if division else group,
                institutions=totals[group],
                covered=covered_counts[group],
                rate_pct=rate,
                meets_target=rate >= target_pct,
            )
        )
    total = len(institutions)
    covered = by_agreement + by_unit
    rate = _rate(covered, total)
    return Coverage(
        region_code=region_code,
        group_by=group_by,
        as_of=today,
        target_pct=target_pct,
        institutions=total,
        covered=covered,
        covered_by_agreement=by_agreement,
        covered_by_own_medical_unit=by_unit,
        rate_pct=rate,
        meets_target=rate >= target_pct,
        signed_pairs=int(pairs or 0),
        expiring=Expiring(
            within_30_days=int(expiring[30] or 0),
            within_60_days=int(expiring[60] or 0),
            within_90_days=int(expiring[90] or 0),
        ),
        groups=groups,
        uncovered_total=len(uncovered),
        uncovered=uncovered[:uncovered_limit],
    )
