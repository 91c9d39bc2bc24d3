"""Bulk sync for city platforms (issue 19): each record under the single write's rule functions.

Every path is set-based (a 1,000-record batch costs the statements of a 10-record one): the batch's
existing rows are read in one SELECT each (persons by blind index, the years' check-ups, the assessments
of those days, the contracts in force, the serving links), the single write's rules (``persons.derived``,
``ensure_may_register``, ``check_found``; ``checkups.check_parts``, ``check_ages``, ``judgement``;
``assessments.new_values``; ``signings.contract_values``) run in memory, and rows, feed entries and audit
records are written with ``insert_rows`` / ``changes.track_values`` / ``audit.record_many``. A check-up
merging into a year's record, an assessment of a day already there, a person with a contract in force,
and any batch that meets a concurrent write at a unique constraint go through the single write one
record at a time (as before), after the set-based rows.

- **persons** (``POST /persons/bulk``): ``persons.service.find_or_create`` — the person of the ID number,
  registered if new (``created``) or found (``unchanged``: contact data is never overwritten by a
  find-or-create, as the single write; ``updated`` when the record filled a phone or address the person
  lacked, ``persons.fill_missing``), keyed by ``source_system`` + ``external_id`` on creation.
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
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit, changes
from libs.common.auth import Principal, Role
from libs.common.bulk import Batch, BulkOutcome, BulkRecord, BulkResponse, guarded, open_batch
from libs.common.bulk_insert import insert_rows
from libs.common.errors import DomainError, NotFound, Unprocessable
from libs.common.models import utcnow
from libs.common.personal_data import PersonalDataCipher
from services.residents import clock
from services.residents.assessments import service as assessments
from services.residents.assessments.models import Assessment
from services.residents.assessments.schemas import AssessmentCreate
from services.residents.checkups import service as checkups
from services.residents.checkups.models import Checkup, CheckupPartRecord
from services.residents.checkups.schemas import CheckupRecord
from services.residents.clients.registry import InstitutionInfo
from services.residents.packages import service as packages
from services.residents.persons import service as persons
from services.residents.persons.models import Person, PersonInstitution, ServingReason, Sex
from services.residents.persons.schemas import PersonCreate
from services.residents.settings import ResidentsSettings
from services.residents.signings import service as signings
from services.residents.signings.errors import StartDateInvalid
from services.residents.signings.models import Signing
from services.residents.signings.rules import SigningOrigin
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

PERSON: Table = Person.__table__  # type: ignore[assignment]
CHECKUP: Table = Checkup.__table__  # type: ignore[assignment]
CHECKUP_PART: Table = CheckupPartRecord.__table__  # type: ignore[assignment]
ASSESSMENT: Table = Assessment.__table__  # type: ignore[assignment]
SIGNING: Table = Signing.__table__  # type: ignore[assignment]
PERSON_INSTITUTION: Table = PersonInstitution.__table__  # type: ignore[assignment]
CHUNK = 1000  # keys per IN (…) list: a default batch in one SELECT


class InstitutionNotInScope(Unprocessable):
    def __init__(self) -> None:
        super().__init__(
            "机构不是本市的基层医疗卫生机构（或登记机构中不存在）", code="institution_not_in_scope"
        )


class TeamNotInScope(Unprocessable):
    def __init__(self) -> None:
        super().__init__("签约团队不是本市机构的在用团队", code="team_not_in_scope")


class ExternalIdInUse(Unprocessable):
    def __init__(self) -> None:
        super().__init__(
            "该来源系统的编号已对应另一身份证号的居民（编号不可复用）", code="external_id_in_use"
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
    """Set-based: the batch's persons by blind index in one SELECT, the rules of ``find_or_create`` on
    each record in memory, the new rows, their feed entries and audit records in one statement each."""
    batch = open_batch(data.source_system, data.records, max_records=max_records)
    batch.validate(PersonCreate)
    if principal.is_institution_user:  # not a sync caller (SyncWrite): the single write links the institution
        return await _persons_one_by_one(session, principal, cipher, batch)
    derived: dict[int, tuple[str, Any, Sex]] = {}
    for record in list(batch.live()):
        item = record.data
        assert isinstance(item, PersonCreate)
        try:
            birth, sex = persons.derived(item)
        except DomainError as exc:
            record.reject_error(exc)
            continue
        derived[record.index] = (cipher.lookup_hash(item.id_number, "id_card"), birth, sex)
    found = await _persons_by_hash(session, {digest for digest, _, _ in derived.values()})
    keys_in_use = await _keys_in_use(session, batch.source_system, [r.external_id for r in batch.live()])
    known = {digest: (p.id, p.version, p.region_code, p.name_enc) for digest, p in found.items()}
    names: dict[str, str] = {}  # stored names, decrypted once
    rows: list[dict[str, Any]] = []
    new_rows: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # new rows and their audit changes
    entries: list[audit.Entry] = []
    for record in list(batch.live()):
        item = record.data
        assert isinstance(item, PersonCreate)
        digest, birth, sex = derived[record.index]
        try:
            stored = known.get(digest)
            if stored is None:
                if keys_in_use.get(record.external_id or "", digest) != digest:
                    raise ExternalIdInUse()
                persons.ensure_may_register(principal, item.region_code)
                values = persons.new_values(
                    principal,
                    cipher,
                    item,
                    digest,
                    birth,
                    sex,
                    source_system=batch.source_system,
                    external_id=record.external_id,
                )
                rows.append(values)
                known[digest] = (values["id"], 1, item.region_code, values["name_enc"])
                names[digest] = item.name
                creation = item.model_dump()
                entries.append(
                    audit.Entry(
                        action="person.create", entity_type="person", entity_id=values["id"], changes=creation
                    )
                )
                new_rows[digest] = (values, creation)
                record.written(BulkOutcome.created, id=values["id"], version=1)
                continue
            person_id, version, region_code, name_enc = stored
            if digest not in names:
                names[digest] = cipher.decrypt(name_enc)
            persons.check_found(principal, region_code, names[digest], item.name)
            person = found.get(digest)
            if person is None:  # registered by an earlier record of this batch: its row takes what it lacks
                _fill_new_row(cipher, *new_rows[digest], item)
            elif filling := await persons.fill_missing(session, cipher, person, item):
                entries.append(
                    audit.Entry(
                        action="person.update", entity_type="person", entity_id=person.id, changes=filling
                    )
                )
                known[digest] = (person_id, person.version, region_code, name_enc)
                record.written(BulkOutcome.updated, id=person_id, version=person.version)
                continue
            record.written(BulkOutcome.unchanged, id=person_id, version=version)
        except DomainError as exc:
            record.reject_error(exc)
    try:
        async with session.begin_nested():
            await insert_rows(session, PERSON, rows)
    except IntegrityError:
        # a concurrent write registered one of them meanwhile: the records of the batch's new persons one by
        # one (ON CONFLICT), the persons found and filled above staying as written
        new_ids = {values["id"] for values in rows}
        redo = [r for r in batch.records if r.outcome is not BulkOutcome.rejected and r.id in new_ids]
        for record in redo:
            record.outcome = None
        audit.record_many(
            session,
            principal,
            [e for e in entries if e.action != "person.create"],
            personal_fields=persons.PERSONAL_FIELDS,
        )
        return await _persons_one_by_one(session, principal, cipher, batch, only=redo)
    for values in rows:
        changes.track_values(session, Person, values, previous_scope=None)
    audit.record_many(session, principal, entries, personal_fields=persons.PERSONAL_FIELDS)
    return batch.response()


def _fill_new_row(
    cipher: PersonalDataCipher, values: dict[str, Any], created: dict[str, Any], item: PersonCreate
) -> None:
    """A later record of the batch names a person an earlier one registers: the contact data the new row
    lacks is taken from it (as :func:`persons.fill_missing` does for a stored person)."""
    for name in persons.FILLABLE_FIELDS:
        value = getattr(item, name)
        if value is not None and values[f"{name}_enc"] is None:
            values[f"{name}_enc"] = cipher.encrypt(value)
            created[name] = value  # the creation's audit record names it


async def _persons_one_by_one(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    batch: Batch[Any],
    only: list[BulkRecord[Any]] | None = None,
) -> BulkResponse:
    records = only if only is not None else list(batch.live())
    keys_in_use = await _keys_in_use(session, batch.source_system, [r.external_id for r in records])
    for record in records:
        assert record.data is not None  # validated
        async with guarded(session, record):
            taken_by = keys_in_use.get(record.external_id or "")
            if taken_by is not None and taken_by != cipher.lookup_hash(record.data.id_number, "id_card"):
                raise ExternalIdInUse()
            person, created, filled = await persons.find_or_create(
                session,
                principal,
                cipher,
                record.data,
                source_system=batch.source_system,
                external_id=record.external_id,
            )
            record.written(
                BulkOutcome.created if created else BulkOutcome.updated if filled else BulkOutcome.unchanged,
                id=person.id,
                version=person.version,
            )
    return batch.response()


async def _keys_in_use(
    session: AsyncSession, source_system: str, external_ids: list[str | None]
) -> dict[str, str]:
    """external id → the blind index of the person registered under it by this source system (one SELECT
    per thousand): a key names one person for good, another ID number under it is refused, not a 409."""
    taken: dict[str, str] = {}
    ordered = sorted({key for key in external_ids if key})
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        rows = await session.execute(
            select(Person.external_id, Person.id_number_hash).where(
                Person.source_system == source_system, Person.external_id.in_(chunk)
            )
        )
        taken.update({external_id: digest for external_id, digest in rows if external_id})
    return taken


async def _persons_by_hash(session: AsyncSession, digests: set[str]) -> dict[str, Person]:
    """The persons of these blind indexes (one SELECT per thousand)."""
    found: dict[str, Person] = {}
    ordered = sorted(digests)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        for person in await session.scalars(select(Person).where(Person.id_number_hash.in_(chunk))):
            found[person.id_number_hash] = person
    return found


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
    first statement).

    Set-based for the records that open a year's record: the persons (one SELECT by blind index), the
    year's records already there and the serving links (one SELECT each) are read for the batch, the
    rules (``check_parts``, ``check_ages``, the scope) checked in memory, and the new records, their parts,
    links, feed entries and audit records written in one statement each. A record merging into a year's
    record (already stored, or opened by an earlier record of the batch) goes through ``record`` after
    them, as before."""
    batch = open_batch(data.source_system, data.records, max_records=max_records)
    batch.validate(CheckupBulkRecord)
    today = clock.today()
    checked: dict[int, tuple[InstitutionInfo, str]] = {}
    years_named: set[int] = set()
    for record in list(batch.live()):
        item = record.data
        assert isinstance(item, CheckupBulkRecord)
        try:
            info = _institution(principal, institutions, item.institution_id)
        except DomainError as exc:
            record.reject_error(exc)
            continue
        checked[record.index] = (info, cipher.lookup_hash(item.id_number, "id_card"))
        years_named.update(part.done_date.year for part in item.parts)
    found = await _persons_by_hash(session, {digest for _, digest in checked.values()})
    person_ids = [p.id for p in found.values()]
    years = sorted(years_named)
    opened = await _existing_pairs(session, Checkup.person_id, Checkup.year, person_ids, years)
    links = await _existing_pairs(
        session,
        PersonInstitution.person_id,
        PersonInstitution.institution_id,
        person_ids,
        sorted({info.id for info, _ in checked.values()}),
    )
    now = utcnow()
    checkup_rows: list[dict[str, Any]] = []
    part_rows: list[dict[str, Any]] = []
    link_rows: list[dict[str, Any]] = []
    entries: dict[uuid.UUID, list[audit.Entry]] = {}
    merging: list[BulkRecord[Any]] = []
    for record in list(batch.live()):
        item = record.data
        assert isinstance(item, CheckupBulkRecord)
        info, digest = checked[record.index]
        person = found.get(digest)
        try:
            if person is None or not principal.scope.contains(person.region_code):
                raise SyncPersonNotFound()
            year = checkups.check_parts(item.parts, settings, today)
            checkups.check_ages(person.birth_date, item.parts, settings)
        except DomainError as exc:
            record.reject_error(exc)
            continue
        if (person.id, year) in opened:
            merging.append(record)
            continue
        opened.add((person.id, year))
        if (person.id, info.id) not in links:
            links.add((person.id, info.id))
            link_rows.append(
                {
                    "id": uuid.uuid4(),
                    "person_id": person.id,
                    "institution_id": info.id,
                    "reason": ServingReason.checkup.value,
                    "created_at": now,
                }
            )
        parts = {part.code: part for part in item.parts}  # a part given twice: the last one, as record
        first = min(part.done_date for part in item.parts)
        values = {
            "id": uuid.uuid4(),
            "person_id": person.id,
            "year": year,
            "region_code": person.region_code,
            "institution_id": info.id,
            "rule_version": settings.checkup_rule_version,
            "age_years": clock.age_on(person.birth_date, first),
            **checkups.judgement(
                settings.checkup_rule_version, {code: part.done_date for code, part in parts.items()}
            ),
            "created_by_sub": principal.sub,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        checkup_rows.append(values)
        part_rows.extend(
            {
                "id": uuid.uuid4(),
                "checkup_id": values["id"],
                "part_code": code,
                "done_date": part.done_date,
                "abnormal": part.abnormal,
                "findings": part.findings,
                "institution_id": info.id,
                "practitioner_id": None,
                "recorded_by_sub": principal.sub,
                "created_at": now,
                "updated_at": now,
            }
            for code, part in parts.items()
        )
        entries.setdefault(info.id, []).append(
            audit.Entry(
                action="checkup.create",
                entity_type="checkup",
                entity_id=values["id"],
                changes={
                    "year": year,
                    "parts": sorted(part.code for part in item.parts),
                    "standard": values["standard"],
                },
            )
        )
        record.written(BulkOutcome.created, id=values["id"], version=1)
    try:
        async with session.begin_nested():
            await insert_rows(session, CHECKUP, checkup_rows)
            await insert_rows(session, CHECKUP_PART, part_rows)
            await insert_rows(session, PERSON_INSTITUTION, link_rows)
    except IntegrityError:
        # a concurrent write opened one of these years (or linked one) meanwhile: all one by one
        created = [r for r in batch.records if r.outcome is BulkOutcome.created]
        for record in created:
            record.outcome = None
        merging = sorted([*created, *merging], key=lambda r: r.index)
    else:
        for values in checkup_rows:
            changes.track_values(session, Checkup, values, previous_scope=None)
        for institution_id, institution_entries in entries.items():
            holder = institutions[institution_id]
            assert holder is not None
            audit.record_many(
                session, acting_for(principal, holder.id, holder.region_code), institution_entries
            )
    for record in merging:
        item = record.data
        assert isinstance(item, CheckupBulkRecord)
        info, digest = checked[record.index]
        person = found[digest]
        async with guarded(session, record):
            await persons.link_institution(session, person.id, info.id, ServingReason.checkup)
            checkup, opened_now = await checkups.record(
                session,
                acting_for(principal, info.id, info.region_code),
                settings,
                CheckupRecord(person_id=person.id, parts=item.parts),
            )
            record.written(
                BulkOutcome.created if opened_now else BulkOutcome.updated,
                id=checkup.id,
                version=checkup.version,
            )
    return batch.response()


async def _existing_pairs(
    session: AsyncSession, left: Any, right: Any, lefts: list[Any], rights: list[Any]
) -> set[tuple[Any, Any]]:
    """The (left, right) pairs stored among ``lefts`` × ``rights`` (one SELECT per thousand lefts)."""
    pairs: set[tuple[Any, Any]] = set()
    if not rights:
        return pairs
    for start in range(0, len(lefts), CHUNK):
        chunk = lefts[start : start + CHUNK]
        rows = await session.execute(select(left, right).where(left.in_(chunk), right.in_(rights)))
        pairs.update((a, b) for a, b in rows)
    return pairs


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
    """Set-based for an assessment no stored or earlier record of the batch has the day of (same person,
    institution and date): the persons, the assessments of those days and the serving links read in one
    SELECT each, ``assessments.service.new_values`` (the scores, the date, the total and level) in memory,
    the rows, links, feed entries and audit records in one statement each. The others (a replay is
    ``unchanged``; other answers the same day make another assessment) go one by one after them."""
    batch = open_batch(data.source_system, data.records, max_records=max_records)
    batch.validate(AssessmentBulkRecord)
    checked: dict[int, tuple[InstitutionInfo, str]] = {}
    for record in list(batch.live()):
        item = record.data
        assert isinstance(item, AssessmentBulkRecord)
        try:
            info = _institution(principal, institutions, item.institution_id)
        except DomainError as exc:
            record.reject_error(exc)
            continue
        checked[record.index] = (info, cipher.lookup_hash(item.id_number, "id_card"))
    found = await _persons_by_hash(session, {digest for _, digest in checked.values()})
    person_ids = [p.id for p in found.values()]
    days = sorted({record.data.assessed_date for record in batch.live() if record.data is not None})
    same_day: set[tuple[uuid.UUID, uuid.UUID, date]] = set()
    for start_at in range(0, len(person_ids), CHUNK):
        chunk = person_ids[start_at : start_at + CHUNK]
        rows = await session.execute(
            select(Assessment.person_id, Assessment.institution_id, Assessment.assessed_date).where(
                Assessment.person_id.in_(chunk), Assessment.assessed_date.in_(days)
            )
        )
        same_day.update((a, b, c) for a, b, c in rows)
    links = await _existing_pairs(
        session,
        PersonInstitution.person_id,
        PersonInstitution.institution_id,
        person_ids,
        sorted({info.id for info, _ in checked.values()}),
    )
    now = utcnow()
    rows_out: list[dict[str, Any]] = []
    link_rows: list[dict[str, Any]] = []
    entries: dict[uuid.UUID, list[audit.Entry]] = {}
    one_by_one: list[BulkRecord[Any]] = []
    for record in list(batch.live()):
        item = record.data
        assert isinstance(item, AssessmentBulkRecord)
        info, digest = checked[record.index]
        person = found.get(digest)
        if person is None or not principal.scope.contains(person.region_code):
            record.reject_error(SyncPersonNotFound())
            continue
        key = (person.id, info.id, item.assessed_date)
        if key in same_day:
            one_by_one.append(record)
            continue
        try:
            values = assessments.new_values(
                acting_for(principal, info.id, info.region_code),
                settings,
                _assessment_create(person.id, item),
                person,
            )
        except DomainError as exc:
            record.reject_error(exc)
            continue
        same_day.add(key)
        if (person.id, info.id) not in links:
            links.add((person.id, info.id))
            link_rows.append(
                {
                    "id": uuid.uuid4(),
                    "person_id": person.id,
                    "institution_id": info.id,
                    "reason": ServingReason.assessment.value,
                    "created_at": now,
                }
            )
        values = {**values, "id": uuid.uuid4(), "created_at": now, "updated_at": now, "version": 1}
        rows_out.append(values)
        entries.setdefault(info.id, []).append(
            audit.Entry(
                action="assessment.create",
                entity_type="assessment",
                entity_id=values["id"],
                changes=assessments.created_changes(values),
            )
        )
        record.written(BulkOutcome.created, id=values["id"], version=1)
    try:
        async with session.begin_nested():
            await insert_rows(session, ASSESSMENT, rows_out)
            await insert_rows(session, PERSON_INSTITUTION, link_rows)
    except IntegrityError:
        # a concurrent write linked one of these persons meanwhile: all one by one
        created = [r for r in batch.records if r.outcome is BulkOutcome.created]
        for record in created:
            record.outcome = None
        one_by_one = sorted([*created, *one_by_one], key=lambda r: r.index)
    else:
        for values in rows_out:
            changes.track_values(session, Assessment, values, previous_scope=None)
        for institution_id, institution_entries in entries.items():
            holder = institutions[institution_id]
            assert holder is not None
            audit.record_many(
                session, acting_for(principal, holder.id, holder.region_code), institution_entries
            )
    for record in one_by_one:
        item = record.data
        assert isinstance(item, AssessmentBulkRecord)
        info, digest = checked[record.index]
        person = found[digest]
        async with guarded(session, record):
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
                _assessment_create(person.id, item),
            )
            record.written(BulkOutcome.created, id=made.id, version=made.version)
    return batch.response()


def _assessment_create(person_id: uuid.UUID, item: AssessmentBulkRecord) -> AssessmentCreate:
    return AssessmentCreate(
        person_id=person_id,
        assessed_date=item.assessed_date,
        scores=item.scores,
        dementia=item.dementia,
        mental_disorder=item.mental_disorder,
        care_risk_events_30d=item.care_risk_events_30d,
    )


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
    """Set-based for a person without a contract in force: the teams, persons, contracts in force and
    serving links read in one SELECT each (the packages once per institution and choice), the rules of
    ``sign`` checked in memory, the contracts, links, feed entries and audit records written in one
    statement each. A person with a contract in force (a replay, a contract to close as expired, 409
    ``active_signing_exists``) or named twice in the batch goes through ``sign`` after them, as before."""
    batch = open_batch(data.source_system, data.records, max_records=max_records)
    batch.validate(SigningBulkRecord)
    team_ids = sorted({record.data.team_id for record in batch.live() if record.data is not None})
    teams_found = {team.id: team for team in await session.scalars(select(Team).where(Team.id.in_(team_ids)))}
    checked: dict[int, tuple[Team, str]] = {}
    for record in list(batch.live()):
        item = record.data
        assert isinstance(item, SigningBulkRecord)
        team = teams_found.get(item.team_id)
        if team is None or not team.active or not principal.scope.contains(team.region_code):
            record.reject_error(TeamNotInScope())
            continue
        checked[record.index] = (team, cipher.lookup_hash(item.id_number, "id_card"))
    found = await _persons_by_hash(session, {digest for _, digest in checked.values()})
    person_ids = [p.id for p in found.values()]
    in_force: set[uuid.UUID] = set()
    for start_at in range(0, len(person_ids), CHUNK):
        chunk = person_ids[start_at : start_at + CHUNK]
        in_force.update(
            await session.scalars(
                select(Signing.person_id).where(Signing.person_id.in_(chunk), Signing.status == "active")
            )
        )
    links = await _existing_pairs(
        session,
        PersonInstitution.person_id,
        PersonInstitution.institution_id,
        person_ids,
        sorted({team.institution_id for team, _ in checked.values()}),
    )
    chosen_of: dict[tuple[uuid.UUID, tuple[uuid.UUID, ...]], Any] = {}
    now = utcnow()
    rows: list[dict[str, Any]] = []
    link_rows: list[dict[str, Any]] = []
    entries: dict[uuid.UUID, list[audit.Entry]] = {}
    one_by_one: list[BulkRecord[Any]] = []
    for record in list(batch.live()):
        item = record.data
        assert isinstance(item, SigningBulkRecord)
        team, digest = checked[record.index]
        person = found.get(digest)
        if person is None or not principal.scope.contains(person.region_code):
            record.reject_error(SyncPersonNotFound())
            continue
        if person.id in in_force:
            one_by_one.append(record)
            continue
        start = item.start_date or today
        acting = acting_for(principal, team.institution_id, team.region_code)
        try:
            if start > today:
                raise StartDateInvalid("起始日期不能晚于今天")
            key = (team.institution_id, tuple(item.package_ids))
            if key not in chosen_of:
                try:
                    chosen_of[key] = await packages.for_contract(session, *key)
                except DomainError as exc:
                    chosen_of[key] = exc
            chosen = chosen_of[key]
            if isinstance(chosen, DomainError):
                raise chosen
        except DomainError as exc:
            record.reject_error(exc)
            continue
        in_force.add(person.id)
        if (person.id, team.institution_id) not in links:
            links.add((person.id, team.institution_id))
            link_rows.append(
                {
                    "id": uuid.uuid4(),
                    "person_id": person.id,
                    "institution_id": team.institution_id,
                    "reason": ServingReason.signed.value,
                    "created_at": now,
                }
            )
        values = {
            "id": uuid.uuid4(),
            **signings.contract_values(
                acting,
                settings,
                person=person,
                team=team,
                chosen=chosen,
                start=start,
                origin=SigningOrigin.new,
                previous=None,
            ),
            "ended_date": None,
            "termination_reason": None,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        rows.append(values)
        entries.setdefault(team.institution_id, []).append(
            audit.Entry(
                action="signing.sign",
                entity_type=signings.ENTITY,
                entity_id=values["id"],
                changes={"status": "active", "team_id": str(team.id), "start_date": start},
            )
        )
        record.written(BulkOutcome.created, id=values["id"], version=1)
    try:
        async with session.begin_nested():
            await insert_rows(session, SIGNING, rows)
            await insert_rows(session, PERSON_INSTITUTION, link_rows)
    except IntegrityError:
        # a concurrent write signed one of these persons (or linked one) meanwhile: all one by one
        created = [r for r in batch.records if r.outcome is BulkOutcome.created]
        for record in created:
            record.outcome = None
        one_by_one = sorted([*created, *one_by_one], key=lambda r: r.index)
    else:
        for values in rows:
            changes.track_values(session, Signing, values, previous_scope=None)
        for institution_id, institution_entries in entries.items():
            team = next(t for t in teams_found.values() if t.institution_id == institution_id)
            audit.record_many(
                session, acting_for(principal, institution_id, team.region_code), institution_entries
            )
    for record in one_by_one:
        await _sign_one(session, principal, settings, record, checked, found, today=today)
    return batch.response()


async def _sign_one(
    session: AsyncSession,
    principal: Principal,
    settings: ResidentsSettings,
    record: BulkRecord[Any],
    checked: Mapping[int, tuple[Team, str]],
    found: Mapping[str, Person],
    *,
    today: date,
) -> None:
    item = record.data
    assert isinstance(item, SigningBulkRecord)
    team, digest = checked[record.index]
    person = found[digest]
    async with guarded(session, record):
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
            return
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
