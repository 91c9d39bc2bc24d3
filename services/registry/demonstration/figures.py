"""What the registry knows about an applicant: the facts the criteria are computed from.

Institutions and their yearly figures belong to the institutions domain of this same service; they are
read here through its models and ``year_stats`` (no copy, no second source of truth).
"""

from __future__ import annotations

import calendar
import uuid
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.demonstration.criteria import (
    InstitutionFacts,
    Thresholds,
    YearFigures,
    assessment_years,
    percent,
)
from services.registry.demonstration.models import DemonstrationBatch
from services.registry.institutions import service as institutions
from services.registry.institutions.models import Institution, InstitutionKind


def thresholds_of(batch: DemonstrationBatch) -> Thresholds:
    return Thresholds(
        operating_cutoff_date=batch.operating_cutoff_date,
        operating_years_min=batch.operating_years_min,
        occupancy_min_pct=batch.occupancy_min_pct,
        disabled_share_min_pct=batch.disabled_share_min_pct,
        satisfaction_min_pct=batch.satisfaction_min_pct,
    )


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


async def institution_facts(
    session: AsyncSession, institution: Institution, cutoff: date
) -> tuple[InstitutionFacts, dict[str, Any]]:
    """The criteria's inputs, and the registry figures behind them (frozen into the application)."""
    years = assessment_years(cutoff)
    stats = await institutions.year_stats(session, institution.id, years)
    figures = tuple(
        YearFigures(
            year=stat.year,
            # occupancy = occupied bed-days ÷ (operating beds × days in the year), as the registry defines it
            occupancy_pct=percent(stat.occupied_bed_days, stat.operating_beds * days_in_year(stat.year)),
            residents=stat.residents,
            disabled_or_dementia_residents=stat.disabled_or_dementia_residents,
            operating_beds=stat.operating_beds,
        )
        for stat in stats
    )
    facts = InstitutionFacts(
        medical_operating_since=institution.medical_operating_since,
        elderly_care_operating_since=institution.elderly_care_operating_since,
        years=figures,
    )
    registry = {
        "institution_id": str(institution.id),
        "name": institution.name,
        "kind": institution.kind.value if isinstance(institution.kind, InstitutionKind) else institution.kind,
        "region_code": institution.region_code,
        "medical_operating_since": _iso(institution.medical_operating_since),
        "elderly_care_operating_since": _iso(institution.elderly_care_operating_since),
        "beds_elderly_care": institution.beds_elderly_care,
        "beds_medical": institution.beds_medical,
        "beds_integrated": institution.beds_integrated,
        "year_stats": [
            {
                "year": stat.year,
                "operating_beds": stat.operating_beds,
                "occupied_bed_days": stat.occupied_bed_days,
                "days_in_year": days_in_year(stat.year),
                "residents": stat.residents,
                "disabled_residents": stat.disabled_residents,
                "dementia_residents": stat.dementia_residents,
                "disabled_or_dementia_residents": stat.disabled_or_dementia_residents,
            }
            for stat in stats
        ],
    }
    return facts, registry


async def county_figures(session: AsyncSession, region_code: str) -> dict[str, Any]:
    """Active institutions of the county by kind, and its 医养结合 beds (one SQL aggregate)."""
    stmt = (
        select(Institution.kind, func.count(), func.coalesce(func.sum(Institution.beds_integrated), 0))
        .where(Institution.region_code == region_code, Institution.active.is_(True))
        .group_by(Institution.kind)
    )
    counts = {kind.value: 0 for kind in InstitutionKind}
    beds_integrated = 0
    for kind, count, beds in (await session.execute(stmt)).all():
        counts[str(kind)] = int(count)
        beds_integrated += int(beds)
    return {
        "region_code": region_code,
        "institutions_by_kind": counts,
        "integrated_institutions": counts.get(InstitutionKind.integrated.value, 0),
        "beds_integrated": beds_integrated,
    }


async def load_institution(session: AsyncSession, institution_id: uuid.UUID | None) -> Institution | None:
    if institution_id is None:
        return None
    return await session.get(Institution, institution_id)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None
