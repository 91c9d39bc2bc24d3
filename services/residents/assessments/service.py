"""老年人能力评估: validate an assessor's item scores against the scale in force, compute the total and the
level (scale.py), keep the assessment; a person's latest assessment is their current level."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from libs.common import audit
from libs.common.auth import Principal
from libs.common.pagination import PageParams, paginate
from libs.common.scope import visible_condition
from services.residents import clock
from services.residents.assessments.errors import AssessmentNotFound, ScoresInvalid
from services.residents.assessments.models import Assessment
from services.residents.assessments.scale import DOMAIN_LABELS, SCALES, AbilityDomain, score, score_problems
from services.residents.assessments.schemas import (
    AssessmentCreate,
    AssessmentRead,
    AssessmentSummary,
    AssessmentSummaryRow,
    DomainScore,
)
from services.residents.checkups.errors import DateInFuture
from services.residents.checkups.service import institution_of
from services.residents.persons import service as persons
from services.residents.persons.models import Person, ServingReason
from services.residents.settings import ResidentsSettings


def new_values(
    principal: Principal, settings: ResidentsSettings, data: AssessmentCreate, person: Person
) -> dict[str, Any]:
    """The rules of an assessment (the caller's institution, the scores against the scale in force, the
    date not in the future) and its columns (but the key and bookkeeping): the total and the level are
    computed. :func:`create` and the bulk sync write them."""
    institution_id = institution_of(principal, "老年人能力评估")
    scale = SCALES[settings.assessment_scale_version]
    problems = score_problems(scale, data.scores)
    if problems:
        raise ScoresInvalid(scale.version, problems)
    if data.assessed_date > clock.today():
        raise DateInFuture("body.assessed_date", "评估日期")
    result = score(
        scale,
        data.scores,
        dementia=data.dementia,
        mental_disorder=data.mental_disorder,
        care_risk_events_30d=data.care_risk_events_30d,
    )
    return {
        "person_id": person.id,
        "region_code": person.region_code,
        "institution_id": institution_id,
        "assessor_practitioner_id": principal.practitioner_id,
        "assessed_date": data.assessed_date,
        "scale_version": scale.version,
        "scores": {item.code: data.scores[item.code] for item in scale.items},
        "dementia": data.dementia,
        "mental_disorder": data.mental_disorder,
        "care_risk_events_30d": data.care_risk_events_30d,
        "self_care_score": result.domain_totals[AbilityDomain.self_care],
        "basic_motor_score": result.domain_totals[AbilityDomain.basic_motor],
        "mental_score": result.domain_totals[AbilityDomain.mental],
        "perception_social_score": result.domain_totals[AbilityDomain.perception_social],
        "total_score": result.total,
        "total_level": result.total_level,
        "level": result.level,
        "adjustments": [a.value for a in result.adjustments],
        "note": data.note,
        "created_by_sub": principal.sub,
    }


def created_changes(values: dict[str, Any]) -> dict[str, Any]:
    """The audit record's changes of a new assessment."""
    return {
        "scale_version": values["scale_version"],
        "total_score": values["total_score"],
        "level": values["level"],
    }


async def create(
    session: AsyncSession, principal: Principal, settings: ResidentsSettings, data: AssessmentCreate
) -> Assessment:
    institution_of(principal, "老年人能力评估")
    scale = SCALES[settings.assessment_scale_version]
    problems = score_problems(scale, data.scores)
    if problems:
        raise ScoresInvalid(scale.version, problems)
    if data.assessed_date > clock.today():
        raise DateInFuture("body.assessed_date", "评估日期")
    person = await persons.get(session, principal, data.person_id)
    values = new_values(principal, settings, data, person)
    assessment = Assessment(**values)
    session.add(assessment)
    await session.flush()
    await persons.link_institution(session, person.id, values["institution_id"], ServingReason.assessment)
    audit.record(
        session,
        principal,
        action="assessment.create",
        entity_type="assessment",
        entity_id=assessment.id,
        changes=created_changes(values),
    )
    return assessment


def latest_per_person(as_of: date | None = None) -> Any:
    """A subquery of every assessment's ``id`` and ``person_id`` with ``rank`` 1 for each person's latest
    (by assessed date, then recording time) — among those assessed on or before ``as_of`` when given."""
    ranked = select(
        Assessment.id,
        Assessment.person_id,
        func.row_number()
        .over(
            partition_by=Assessment.person_id,
            order_by=(Assessment.assessed_date.desc(), Assessment.created_at.desc(), Assessment.id.desc()),
        )
        .label("rank"),
    )
    if as_of is not None:
        ranked = ranked.where(Assessment.assessed_date <= as_of)
    return ranked.subquery("latest_assessment")


async def latest_of(
    session: AsyncSession, person_id: uuid.UUID, as_of: date | None = None
) -> Assessment | None:
    """The person's latest assessment (on or before ``as_of`` when given), unscoped."""
    stmt = select(Assessment).where(Assessment.person_id == person_id)
    if as_of is not None:
        stmt = stmt.where(Assessment.assessed_date <= as_of)
    ordered = stmt.order_by(
        Assessment.assessed_date.desc(), Assessment.created_at.desc(), Assessment.id.desc()
    )
    return await session.scalar(ordered.limit(1))


async def latest_of_persons(
    session: AsyncSession, person_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Assessment]:
    """Each of ``person_ids``' latest assessment (a person never assessed absent), unscoped, in ONE
    statement whatever their number (the persons batch: homecare's day bundle reads the current level)."""
    if not person_ids:
        return {}
    ranked = (
        select(
            Assessment.id,
            func.row_number()
            .over(
                partition_by=Assessment.person_id,
                order_by=(
                    Assessment.assessed_date.desc(),
                    Assessment.created_at.desc(),
                    Assessment.id.desc(),
                ),
            )
            .label("rank"),
        )
        # the persons' rows only (ix_assessment_person_id_assessed_date), ranked per person
        .where(Assessment.person_id.in_(list(dict.fromkeys(person_ids))))
        .subquery("latest_of_persons")
    )
    rows = await session.scalars(
        select(Assessment).join(ranked, ranked.c.id == Assessment.id).where(ranked.c.rank == 1)
    )
    return {a.person_id: a for a in rows}


def _visible(principal: Principal) -> ColumnElement[bool]:
    return visible_condition(principal, Assessment.region_code, Assessment.institution_id)


async def get(session: AsyncSession, principal: Principal, assessment_id: uuid.UUID) -> Assessment:
    assessment = await session.scalar(
        select(Assessment).where(Assessment.id == assessment_id, _visible(principal))
    )
    if assessment is None:
        raise AssessmentNotFound()
    return assessment


async def latest(session: AsyncSession, principal: Principal, person_id: uuid.UUID) -> Assessment:
    """The person's latest assessment as the caller may see it: an institution user sees its own
    institution's assessments, officials those of their region, internal callers (homecare) all."""
    stmt = select(Assessment).where(Assessment.person_id == person_id, _visible(principal))
    assessment = await session.scalar(
        stmt.order_by(
            Assessment.assessed_date.desc(), Assessment.created_at.desc(), Assessment.id.desc()
        ).limit(1)
    )
    if assessment is None:
        raise AssessmentNotFound()
    return assessment


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    person_id: uuid.UUID | None,
    level: int | None,
    assessed_from: date | None,
    assessed_to: date | None,
    region_code: str | None,
) -> tuple[list[Assessment], str | None]:
    stmt = select(Assessment).where(_visible(principal))
    if person_id is not None:
        stmt = stmt.where(Assessment.person_id == person_id)
    if level is not None:
        stmt = stmt.where(Assessment.level == level)
    if assessed_from is not None:
        stmt = stmt.where(Assessment.assessed_date >= assessed_from)
    if assessed_to is not None:
        stmt = stmt.where(Assessment.assessed_date <= assessed_to)
    if region_code is not None:
        stmt = stmt.where(Assessment.region_code == region_code)
    return await paginate(session, stmt, order_by=[Assessment.id], params=params)


async def summary(session: AsyncSession, principal: Principal, *, year: int) -> AssessmentSummary:
    """Assessments and persons assessed in ``year`` by county, and the persons whose last assessment of
    the year found them 失能 (level ≥ 1): the 失能老年人健康评估 figure."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    in_year = (Assessment.assessed_date >= start, Assessment.assessed_date <= end, _visible(principal))
    counts = (
        await session.execute(
            select(
                Assessment.region_code, func.count(Assessment.id), func.count(distinct(Assessment.person_id))
            )
            .where(*in_year)
            .group_by(Assessment.region_code)
        )
    ).all()
    ranked = select(
        Assessment.region_code,
        Assessment.level,
        func.row_number()
        .over(
            partition_by=Assessment.person_id,
            order_by=(Assessment.assessed_date.desc(), Assessment.created_at.desc(), Assessment.id.desc()),
        )
        .label("rank"),
    ).where(*in_year)
    last = ranked.subquery()
    disabled: dict[str, int] = dict(
        (
            await session.execute(
                select(last.c.region_code, func.count())
                .where(last.c.rank == 1, last.c.level >= 1)
                .group_by(last.c.region_code)
            )
        ).all()
    )
    rows = [
        AssessmentSummaryRow(
            region_code=r, assessments=n, persons_assessed=p, persons_disabled=disabled.get(r, 0)
        )
        for r, n, p in sorted(counts)
    ]
    return AssessmentSummary(year=year, rows=rows)


def to_read(assessment: Assessment, principal: Principal, *, detail: bool = False) -> AssessmentRead:
    read = AssessmentRead.model_validate(assessment, from_attributes=True)
    if not (principal.is_institution_user and principal.institution_id == assessment.institution_id):
        read.note = None
    if not detail:
        read.scores = None
        return read
    scale = SCALES.get(assessment.scale_version)
    totals = {
        AbilityDomain.self_care: assessment.self_care_score,
        AbilityDomain.basic_motor: assessment.basic_motor_score,
        AbilityDomain.mental: assessment.mental_score,
        AbilityDomain.perception_social: assessment.perception_social_score,
    }
    read.domain_scores = [
        DomainScore(
            domain=domain,
            label=DOMAIN_LABELS[domain],
            score=totals[domain],
            max_score=sum(i.max_score for i in scale.items if i.domain is domain) if scale else 0,
        )
        for domain in AbilityDomain
    ]
    return read
