"""65+ health check-ups: a person's record of a year, its parts merged in as they are done, judged
规范 (standard) by its rule version, counted once per person and year (the health-management rate's
numerator)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.pagination import PageParams, paginate
from libs.common.scope import visible_condition
from services.residents import clock
from services.residents.checkups.errors import (
    BelowCheckupAge,
    CheckupHeldByOtherInstitution,
    CheckupNotFound,
    DateInFuture,
    NotAnInstitutionUser,
    PartsSpanYears,
    UnknownCheckupParts,
)
from services.residents.checkups.models import Checkup, CheckupPartRecord
from services.residents.checkups.rules import RULES
from services.residents.checkups.schemas import (
    CheckupPartIn,
    CheckupPartRead,
    CheckupRead,
    CheckupRecord,
    CheckupSummary,
    CheckupSummaryRow,
)
from services.residents.persons import service as persons
from services.residents.persons.models import ServingReason
from services.residents.settings import ResidentsSettings


def institution_of(principal: Principal, what: str) -> uuid.UUID:
    """The caller's institution: check-ups, assessments and services are recorded by the institution
    that does them."""
    if not principal.is_institution_user or principal.institution_id is None:
        raise NotAnInstitutionUser(what)
    return principal.institution_id


def check_parts(parts: Sequence[CheckupPartIn], settings: ResidentsSettings, today: date) -> int:
    """The year of the parts (all of one year, none in the future, all known to the rule in force)."""
    rule = RULES[settings.checkup_rule_version]
    unknown = [i for i, part in enumerate(parts) if rule.part(part.code) is None]
    if unknown:
        raise UnknownCheckupParts(rule.version, unknown)
    for i, part in enumerate(parts):
        if part.done_date > today:
            raise DateInFuture(f"body.parts.{i}.done_date", "体检项目的完成日期")
    years = {part.done_date.year for part in parts}
    if len(years) != 1:
        raise PartsSpanYears()
    return years.pop()


def check_ages(birth_date: date, parts: Sequence[CheckupPartIn], settings: ResidentsSettings) -> None:
    """Every part done at the check-up age or later."""
    for part in parts:
        age = clock.age_on(birth_date, part.done_date)
        if age < settings.checkup_min_age:
            raise BelowCheckupAge(settings.checkup_min_age, age)


async def _of_year(session: AsyncSession, person_id: uuid.UUID, year: int) -> Checkup | None:
    return await session.scalar(
        select(Checkup).where(Checkup.person_id == person_id, Checkup.year == year).with_for_update()
    )


async def record(
    session: AsyncSession, principal: Principal, settings: ResidentsSettings, data: CheckupRecord
) -> tuple[Checkup, bool]:
    """Record parts of a person's check-up; the year's record is created (``True``) or merged into."""
    institution_id = institution_of(principal, "老年人健康体检")
    year = check_parts(data.parts, settings, clock.today())
    person = await persons.get(session, principal, data.person_id)
    check_ages(person.birth_date, data.parts, settings)

    checkup = await _of_year(session, person.id, year)
    created = checkup is None
    if checkup is None:
        first = min(part.done_date for part in data.parts)
        candidate = Checkup(
            person_id=person.id,
            year=year,
            region_code=person.region_code,
            institution_id=institution_id,
            rule_version=settings.checkup_rule_version,
            age_years=clock.age_on(person.birth_date, first),
            first_date=first,
            last_date=first,
            parts_done=[],
            standard=False,
            created_by_sub=principal.sub,
        )
        try:
            async with session.begin_nested():
                session.add(candidate)
                await session.flush()
            checkup = candidate
        except IntegrityError:
            # another request opened the year's record meanwhile: merge into it
            created = False
            checkup = await _of_year(session, person.id, year)
            if checkup is None:  # pragma: no cover — the constraint that failed names this row
                raise
    if checkup.institution_id != institution_id:
        raise CheckupHeldByOtherInstitution()

    stored = {
        p.part_code: p
        for p in await session.scalars(
            select(CheckupPartRecord).where(CheckupPartRecord.checkup_id == checkup.id)
        )
    }
    for part in data.parts:
        row = stored.get(part.code)
        if row is None:
            row = CheckupPartRecord(checkup_id=checkup.id, part_code=part.code, recorded_by_sub=principal.sub)
            session.add(row)
            stored[part.code] = row
        row.done_date = part.done_date
        row.abnormal = part.abnormal
        row.findings = part.findings
        row.institution_id = institution_id
        row.practitioner_id = principal.practitioner_id
        row.recorded_by_sub = principal.sub
    _judge(checkup, stored)
    await session.flush()
    await persons.link_institution(session, person.id, institution_id, ServingReason.checkup)
    audit.record(
        session,
        principal,
        action="checkup.create" if created else "checkup.merge",
        entity_type="checkup",
        entity_id=checkup.id,
        changes={
            "year": year,
            "parts": sorted(part.code for part in data.parts),
            "standard": checkup.standard,
        },
    )
    return checkup, created


def judgement(rule_version: str, done_dates: Mapping[str, date]) -> dict[str, Any]:
    """Dates, parts done and standard-ness of a record from its parts' dates (by part code) and its rule
    version: the columns ``first_date``, ``last_date``, ``parts_done``, ``standard``, ``standard_date``."""
    rule = RULES[rule_version]
    dates = list(done_dates.values())
    order = [p.code for p in rule.parts]
    done = sorted(done_dates, key=lambda code: order.index(code) if rule.part(code) else 99)
    standard = rule.is_standard(done)
    required_dates = [done_dates[p.code] for p in rule.parts if p.required and p.code in done_dates]
    return {
        "first_date": min(dates),
        "last_date": max(dates),
        "parts_done": done,
        "standard": standard,
        "standard_date": max(required_dates) if standard and required_dates else None,
    }


def _judge(checkup: Checkup, parts: dict[str, CheckupPartRecord]) -> None:
    """Dates, parts done and standard-ness, from the stored parts and the record's rule version."""
    judged = judgement(checkup.rule_version, {code: p.done_date for code, p in parts.items()})
    checkup.first_date = judged["first_date"]
    checkup.last_date = judged["last_date"]
    if checkup.parts_done != judged["parts_done"]:
        checkup.parts_done = judged["parts_done"]
    checkup.standard = judged["standard"]
    checkup.standard_date = judged["standard_date"]


async def get(session: AsyncSession, principal: Principal, checkup_id: uuid.UUID) -> Checkup:
    checkup = await session.scalar(
        select(Checkup).where(
            Checkup.id == checkup_id,
            visible_condition(principal, Checkup.region_code, Checkup.institution_id),
        )
    )
    if checkup is None:
        raise CheckupNotFound()
    return checkup


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    year: int | None,
    person_id: uuid.UUID | None,
    standard: bool | None,
    region_code: str | None,
) -> tuple[list[Checkup], str | None]:
    stmt = select(Checkup).where(visible_condition(principal, Checkup.region_code, Checkup.institution_id))
    if year is not None:
        stmt = stmt.where(Checkup.year == year)
    if person_id is not None:
        stmt = stmt.where(Checkup.person_id == person_id)
    if standard is not None:
        stmt = stmt.where(Checkup.standard == standard)
    if region_code is not None:
        stmt = stmt.where(Checkup.region_code == region_code)
    return await paginate(session, stmt, order_by=[Checkup.id], params=params)


async def summary(session: AsyncSession, principal: Principal, *, year: int) -> CheckupSummary:
    """Persons checked and persons with a standard record in ``year``, by county (the rate's numerator;
    the denominator, the 65+ resident population, is the indicators' population table)."""
    rows = (
        await session.execute(
            select(
                Checkup.region_code,
                func.count(Checkup.id),
                func.count(Checkup.id).filter(Checkup.standard.is_(True)),
            )
            .where(
                Checkup.year == year,
                visible_condition(principal, Checkup.region_code, Checkup.institution_id),
            )
            .group_by(Checkup.region_code)
            .order_by(Checkup.region_code)
        )
    ).all()
    items = [CheckupSummaryRow(region_code=r, persons_checked=n, persons_standard=s) for r, n, s in rows]
    return CheckupSummary(
        year=year,
        rows=items,
        persons_checked=sum(i.persons_checked for i in items),
        persons_standard=sum(i.persons_standard for i in items),
    )


async def to_read(
    session: AsyncSession, checkup: Checkup, principal: Principal, *, with_parts: bool = False
) -> CheckupRead:
    read = CheckupRead.model_validate(checkup, from_attributes=True)
    if with_parts:
        holder = principal.is_institution_user and principal.institution_id == checkup.institution_id
        parts = await session.scalars(
            select(CheckupPartRecord).where(CheckupPartRecord.checkup_id == checkup.id)
        )
        order = {code: i for i, code in enumerate(checkup.parts_done)}
        read.parts = sorted(
            (
                CheckupPartRead(
                    code=p.part_code,
                    done_date=p.done_date,
                    abnormal=p.abnormal,
                    findings=p.findings if holder else None,
                )
                for p in parts
            ),
            key=lambda p: order.get(p.code, len(order)),
        )
    return read
