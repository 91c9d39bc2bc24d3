"""Bulk sync for city platforms (issue 19): each record through the single write's rule function.

- **persons** (``POST /persons/bulk``): ``persons.service.find_or_create`` — the person of the ID number,
  registered if new (``created``) or found (``unchanged``: contact data is never overwritten by a
  find-or-create, as the single write), keyed by ``source_system`` + ``external_id`` on creation.
- **check-ups** (``POST /checkups/bulk``): the record's institution must be a primary-care institution
  of the registry in the platform's city (``institution_not_in_scope``) and the person registered in the
  platform's city (``person_not_found``); the parts are then recorded by ``checkups.service.record`` as
  that institution would (``created`` when the year's record is opened, ``updated`` when merged into
  it), with every rule of ``POST /checkups`` (age, dates, part codes).

- **assessments** (``POST /assessments/bulk``): the same institution and person checks, then
  ``assessments.service.create`` (the scores validated against the item table, the total and the level
  computed). The same person assessed by the same institution on the same day with the same answers is
  the record already there (``unchanged``: a replay writes nothing).
- **contracts** (``POST /signings/bulk``): the team must be an active team of an institution of the
  platform's city (``team_not_in_scope``), the person registered in the city; then
  ``signings.service.sign`` as the team's institution (packages, one contract in force per person:
  ``active_signing_exists``). The person's contract in force with the same team from the same day is the
  record already there (``unchanged``).

Each record runs inside :func:`libs.common.bulk.guarded` (a savepoint): a refused record undoes only its
own writes and answers its rule's code. Replaying a batch changes nothing for persons, assessments and
contracts; a check-up's parts recorded again replace themselves (the year's record counts once).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, Role
from libs.common.bulk import BulkOutcome, BulkResponse, guarded, open_batch
from libs.common.errors import NotFound, Unprocessable
from libs.common.personal_data import PersonalDataCipher
from services.residents.assessments import service as assessments
from services.residents.assessments.models import Assessment
from services.residents.assessments.schemas import AssessmentCreate
from services.residents.checkups import service as checkups
from services.residents.checkups.schemas import CheckupRecord
from services.residents.clients.registry import InstitutionInfo
from services.residents.persons import service as persons
from services.residents.persons.models import Person, ServingReason
from services.residents.persons.schemas import PersonCreate
from services.residents.settings import ResidentsSettings
from services.residents.signings import service as signings
from services.residents.signings.models import Signing
from services.residents.signings.schemas import SigningCreate
from services.residents.sync.schemas import (
    AssessmentBulk,
    AssessmentBulkRecord,
    CheckupBulk,
    CheckupBulkRecord,
    PersonBulk,
    SigningBulk,
    SigningBulkRecord,
)
from services.residents.teams.models import Team


class InstitutionNotInScope(Unprocessable):
    def __init__(self) -> None:
        super().__init__(
            "机构不是本市的基层医疗卫生机构（或登记机构中不存在）", code="institution_not_in_scope"
        )


class TeamNotInScope(Unprocessable):
    def __init__(self) -> None:
        super().__init__("签约团队不是本市机构的在用团队", code="team_not_in_scope")


class SyncPersonNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("本市没有该身份证号的居民，请先同步居民", code="person_not_found")


async def persons_bulk(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    data: PersonBulk,
    *,
    max_records: int,
) -> BulkResponse:
    batch = open_batch(data.source_system, data.records, max_records=max_records)
    batch.validate(PersonCreate)
    for record in list(batch.live()):
        assert record.data is not None  # validated
        async with guarded(session, record):
            person, created = await persons.find_or_create(
                session,
                principal,
                cipher,
                record.data,
                source_system=batch.source_system,
                external_id=record.external_id,
            )
            record.written(
                BulkOutcome.created if created else BulkOutcome.unchanged,
                id=person.id,
                version=person.version,
            )
    return batch.response()


def acting_for(principal: Principal, institution_id: uuid.UUID, region_code: str) -> Principal:
    """The platform recording for one of its city's institutions: that institution's staff, in its
    county (the single write's rules then apply as they do to the institution itself)."""
    return Principal(
        sub=principal.sub,
        role=Role.institution_staff,
        region_code=region_code,
        institution_id=institution_id,
    )


def _institution(
    principal: Principal, institutions: Mapping[uuid.UUID, InstitutionInfo | None], institution_id: uuid.UUID
) -> InstitutionInfo:
    info = institutions.get(institution_id)
    if (
        info is None
        or not info.active
        or not info.is_primary_care
        or not principal.scope.contains(info.region_code)
    ):
        raise InstitutionNotInScope()
    return info


async def _person(
    session: AsyncSession, principal: Principal, cipher: PersonalDataCipher, number: str
) -> Person:
    person = await session.scalar(
        select(Person).where(Person.id_number_hash == cipher.lookup_hash(number, "id_card"))
    )
    if person is None or not principal.scope.contains(person.region_code):
        raise SyncPersonNotFound()
    return person


async def checkups_bulk(
    session: AsyncSession,
    principal: Principal,
    settings: ResidentsSettings,
    cipher: PersonalDataCipher,
    data: CheckupBulk,
    institutions: Mapping[uuid.UUID, InstitutionInfo | None],
    *,
    max_records: int,
) -> BulkResponse:
    """``institutions``: the registry's answer for every institution the batch names (asked before the
    first statement)."""
    batch = open_batch(data.source_system, data.records, max_records=max_records)
    batch.validate(CheckupBulkRecord)
    for record in list(batch.live()):
        item = record.data
        assert isinstance(item, CheckupBulkRecord)
        async with guarded(session, record):
            info = _institution(principal, institutions, item.institution_id)
            person = await _person(session, principal, cipher, item.id_number)
            await persons.link_institution(session, person.id, info.id, ServingReason.checkup)
            checkup, created = await checkups.record(
                session,
                acting_for(principal, info.id, info.region_code),
                settings,
                CheckupRecord(person_id=person.id, parts=item.parts),
            )
            record.written(
                BulkOutcome.created if created else BulkOutcome.updated,
                id=checkup.id,
                version=checkup.version,
            )
    return batch.response()


async def assessments_bulk(
    session: AsyncSession,
    principal: Principal,
    settings: ResidentsSettings,
    cipher: PersonalDataCipher,
    data: AssessmentBulk,
    institutions: Mapping[uuid.UUID, InstitutionInfo | None],
    *,
    max_records: int,
) -> BulkResponse:
    batch = open_batch(data.source_system, data.records, max_records=max_records)
    batch.validate(AssessmentBulkRecord)
    for record in list(batch.live()):
        item = record.data
        assert isinstance(item, AssessmentBulkRecord)
        async with guarded(session, record):
            info = _institution(principal, institutions, item.institution_id)
            person = await _person(session, principal, cipher, item.id_number)
            same = await session.scalar(
                select(Assessment).where(
                    Assessment.person_id == person.id,
                    Assessment.institution_id == info.id,
                    Assessment.assessed_date == item.assessed_date,
                )
            )
            if same is not None and (
                same.scores,
                same.dementia,
                same.mental_disorder,
                same.care_risk_events_30d,
            ) == (
                item.scores,
                item.dementia,
                item.mental_disorder,
                item.care_risk_events_30d,
            ):
                record.written(BulkOutcome.unchanged, id=same.id, version=same.version)
                continue
            await persons.link_institution(session, person.id, info.id, ServingReason.assessment)
            made = await assessments.create(
                session,
                acting_for(principal, info.id, info.region_code),
                settings,
                AssessmentCreate(
                    person_id=person.id,
                    assessed_date=item.assessed_date,
                    scores=item.scores,
                    dementia=item.dementia,
                    mental_disorder=item.mental_disorder,
                    care_risk_events_30d=item.care_risk_events_30d,
                ),
            )
            record.written(BulkOutcome.created, id=made.id, version=made.version)
    return batch.response()


async def signings_bulk(
    session: AsyncSession,
    principal: Principal,
    settings: ResidentsSettings,
    cipher: PersonalDataCipher,
    data: SigningBulk,
    *,
    today: date,
    max_records: int,
) -> BulkResponse:
    batch = open_batch(data.source_system, data.records, max_records=max_records)
    batch.validate(SigningBulkRecord)
    for record in list(batch.live()):
        item = record.data
        assert isinstance(item, SigningBulkRecord)
        async with guarded(session, record):
            team = await session.get(Team, item.team_id)
            if team is None or not team.active or not principal.scope.contains(team.region_code):
                raise TeamNotInScope()
            person = await _person(session, principal, cipher, item.id_number)
            start = item.start_date or today
            same = await session.scalar(
                select(Signing).where(
                    Signing.person_id == person.id,
                    Signing.team_id == team.id,
                    Signing.start_date == start,
                    Signing.status == "active",
                )
            )
            if same is not None:
                record.written(BulkOutcome.unchanged, id=same.id, version=same.version)
                continue
            await persons.link_institution(session, person.id, team.institution_id, ServingReason.signed)
            signing = await signings.sign(
                session,
                acting_for(principal, team.institution_id, team.region_code),
                settings,
                SigningCreate(
                    person_id=person.id, team_id=team.id, package_ids=item.package_ids, start_date=start
                ),
                today,
            )
            record.written(BulkOutcome.created, id=signing.id, version=signing.version)
    return batch.response()
