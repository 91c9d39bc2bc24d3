"""Bulk sync for city platforms (issue 19): each record through the single write's rule function.

- **persons** (``POST /persons/bulk``): ``persons.service.find_or_create`` — the person of the ID number,
  registered if new (``created``) or found (``unchanged``: contact data is never overwritten by a
  find-or-create, as the single write), keyed by ``source_system`` + ``external_id`` on creation.
- **check-ups** (``POST /checkups/bulk``): the record's institution must be a primary-care institution
  of the registry in the platform's city (``institution_not_in_scope``) and the person registered in the
  platform's city (``person_not_found``); the parts are then recorded by ``checkups.service.record`` as
  that institution would (``created`` when the year's record is opened, ``updated`` when merged into
  it), with every rule of ``POST /checkups`` (age, dates, part codes).

Each record runs inside :func:`libs.common.bulk.guarded` (a savepoint): a refused record undoes only its
own writes and answers its rule's code. Replaying a batch changes nothing for persons; a check-up's
parts recorded again replace themselves (the year's record counts once).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal, Role
from libs.common.bulk import BulkOutcome, BulkResponse, guarded, open_batch
from libs.common.errors import NotFound, Unprocessable
from libs.common.personal_data import PersonalDataCipher
from services.residents.checkups import service as checkups
from services.residents.checkups.schemas import CheckupRecord
from services.residents.clients.registry import InstitutionInfo
from services.residents.persons import service as persons
from services.residents.persons.models import Person, ServingReason
from services.residents.persons.schemas import PersonCreate
from services.residents.settings import ResidentsSettings
from services.residents.sync.schemas import CheckupBulk, CheckupBulkRecord, PersonBulk


class InstitutionNotInScope(Unprocessable):
    def __init__(self) -> None:
        super().__init__(
            "机构不是本市的基层医疗卫生机构（或登记机构中不存在）", code="institution_not_in_scope"
        )


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


def acting_for(principal: Principal, institution: InstitutionInfo) -> Principal:
    """The platform recording for one of its city's institutions: that institution's staff, in its
    county (the single write's rules then apply as they do to the institution itself)."""
    return Principal(
        sub=principal.sub,
        role=Role.institution_staff,
        region_code=institution.region_code,
        institution_id=institution.id,
    )


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
            info = institutions.get(item.institution_id)
            if (
                info is None
                or not info.active
                or not info.is_primary_care
                or not principal.scope.contains(info.region_code)
            ):
                raise InstitutionNotInScope()
            person = await session.scalar(
                select(Person).where(Person.id_number_hash == cipher.lookup_hash(item.id_number, "id_card"))
            )
            if person is None or not principal.scope.contains(person.region_code):
                raise SyncPersonNotFound()
            await persons.link_institution(session, person.id, info.id, ServingReason.checkup)
            checkup, created = await checkups.record(
                session,
                acting_for(principal, info),
                settings,
                CheckupRecord(person_id=person.id, parts=item.parts),
            )
            record.written(
                BulkOutcome.created if created else BulkOutcome.updated,
                id=checkup.id,
                version=checkup.version,
            )
    return batch.response()
