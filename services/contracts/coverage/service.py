"""签约覆盖率: elderly-care institutions in scope (the registry's, as ``snapshot.py`` keeps them) against
agreements in force, aggregated in SQL.

Covered: at least one agreement in force today (Asia/Shanghai) whose elderly-care party is the
institution, or the institution has its own medical unit (the registry's ``has_medical_unit``: a
医养结合机构, or an elderly-care institution whose internal clinic filing was accepted — 两证齐全).
Signed pairs and expiring agreements count an agreement in each party's county (a 思明 hospital's
agreement with a 湖里 home counts in 思明 and in 湖里, once in 厦门).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import and_, case, collate, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import divisions
from libs.common.aggregate_plans import plan_for_aggregates
from libs.common.auth import Principal
from libs.common.scope import region_condition, regions_condition
from services.contracts.agreements.lifecycle import in_force_condition
from services.contracts.agreements.models import Agreement
from services.contracts.agreements.service import REGION_COLUMNS
from services.contracts.clients.registry import ELDERLY_CARE_KINDS
from services.contracts.coverage.schemas import Coverage, CoverageGroup, Expiring, UncoveredInstitution
from services.contracts.coverage.snapshot import SnapshotInstitution


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
    region_code: str,
    group_by: str,
    today: date,
    target_pct: float,
    uncovered_limit: int,
) -> Coverage:
    """The region's coverage from the snapshot of the registry's institutions (``snapshot.py``, caught up by
    the caller) and the agreements in force: three statements, each aggregated in the database."""
    scope = divisions.RegionScope.for_region(region_code)
    # covered: the region's elderly-care institutions (the agreement's own county); signed pairs and
    # expiring agreements: those of which either party's county lies in the region (each counted once)
    in_scope = region_condition(scope.prefix, scope.excluded, Agreement.region_code)
    either_party = regions_condition(scope.prefix, scope.excluded, REGION_COLUMNS)
    in_force = in_force_condition(today)
    institution = SnapshotInstitution
    await plan_for_aggregates(session)
    postgresql = session.get_bind().dialect.name == "postgresql"

    signed_ids = select(Agreement.elderly_institution_id.label("id")).where(in_force, in_scope)
    in_region = (
        institution.active.is_(True),
        institution.kind.in_(sorted(ELDERLY_CARE_KINDS)),
        region_condition(scope.prefix, scope.excluded, institution.region_code),
    )
    counted = select(institution).where(*in_region)
    if postgresql:
        # the counts: an outer (hash) join to the distinct signed ids; the uncovered list: NOT EXISTS, one
        # probe of the agreements' elderly-party index per institution: a plan that stays right whatever
        # the planner believes of the snapshot's size (an anti-join against the distinct signed ids,
        # planned for a snapshot never analysed, rescanned them for every institution: 4.8 s)
        signed = signed_ids.distinct().subquery()
        counted = counted.outerjoin(signed, signed.c.id == institution.id)
        has_agreement = signed.c.id.is_not(None)
        uncovered_now = ~signed_ids.where(Agreement.elderly_institution_id == institution.id).exists()
    else:
        # SQLite (never ANALYZEd: no statistics) evaluates an uncorrelated IN list once into a transient
        # index and probes it per institution. The forms above are planned blind there: the NOT EXISTS
        # probe took the (state, end_date) index and read every agreement in force once per institution
        # (1.2 s of the coverage's 1.25 s at scale S), the outer join scanned the distinct ids per row.
        has_agreement = institution.id.in_(signed_ids)
        uncovered_now = institution.id.not_in(signed_ids)
    by_unit_now = and_(~has_agreement, institution.has_medical_unit.is_(True))
    per_county = (
        await session.execute(
            counted.with_only_columns(
                institution.region_code,
                func.count(),
                func.coalesce(func.sum(case((has_agreement, 1), else_=0)), 0),
                func.coalesce(func.sum(case((by_unit_now, 1), else_=0)), 0),
            ).group_by(institution.region_code)
        )
    ).all()

    uncovered: list[UncoveredInstitution] = []
    if uncovered_limit > 0:
        # the order of Python's sort on (county, name, str(id)): names by code point (PostgreSQL's "C")
        name = institution.name
        if postgresql:
            name = collate(institution.name, "C")  # type: ignore[assignment]
        rows = await session.execute(
            select(institution.id, institution.name, institution.kind, institution.region_code)
            .where(*in_region, institution.has_medical_unit.is_(False), uncovered_now)
            .order_by(institution.region_code, name, institution.id)
            .limit(uncovered_limit)
        )
        uncovered = [
            UncoveredInstitution(id=row.id, name=row.name, kind=row.kind, region_code=row.region_code)
            for row in rows
        ]

    pairs = (
        select(func.count())
        .select_from(
            select(Agreement.medical_institution_id, Agreement.elderly_institution_id)
            .where(in_force, either_party)
            .distinct()
            .subquery()
        )
        .scalar_subquery()
    )
    # each expiring count a range of the (state, end_date) index, not a pass over every agreement in force
    expiring_within = [
        select(func.count())
        .where(in_force, either_party, Agreement.end_date <= today + timedelta(days=days))
        .scalar_subquery()
        for days in (30, 60, 90)
    ]
    agreements = (await session.execute(select(pairs, *expiring_within))).one()
    expiring = dict(zip((30, 60, 90), agreements[1:], strict=True))

    totals: Counter[str] = Counter()
    covered_counts: Counter[str] = Counter()
    by_agreement = by_unit = 0
    for county, count, agreement_count, unit_count in per_county:
        group = _group_of(county, group_by)
        totals[group] += int(count)
        covered_counts[group] += int(agreement_count) + int(unit_count)
        by_agreement += int(agreement_count)
        by_unit += int(unit_count)
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
    total = sum(totals.values())
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
        signed_pairs=int(agreements[0] or 0),
        expiring=Expiring(
            within_30_days=int(expiring[30] or 0),
            within_60_days=int(expiring[60] or 0),
            within_90_days=int(expiring[90] or 0),
        ),
        groups=groups,
        uncovered_total=total - covered,
        uncovered=uncovered,
    )
