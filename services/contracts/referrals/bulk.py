"""Historical import of 双向转诊 referrals (``POST /referrals/bulk``, issue 14) on the common bulk protocol.

A record is the body of ``POST /referrals`` plus its agreement (by id or by the agreement's key in the same
source system), its key (``source_system`` of the batch, ``external_id``), the state it reached and the
original moments of the transitions that led there. It obeys the single write's rules because it goes
through the same functions: the record schema extends the request's (``ReferralContent``: the resident's
ID number and phone checked); :func:`service.check_eligible` (an agreement with 双向转诊 or 绿色通道 in force
on the day of the request — ``agreement_not_eligible``); :func:`service.referral_values` (the sides from
the direction; the resident's name, ID number and phone encrypted, the ID number's blind index); the one
open referral per resident (``open_referral_exists``, against the stored ones and the batch's earlier
records; the partial unique index holds it under concurrent writers too); the lifecycle of
:data:`service.TRANSITIONS` (an update moves only forward — ``illegal_transition``). Its dates are checked
by :mod:`services.contracts.history`: none in the future, requested ≤ accepted ≤ admitted ≤ returned and
requested ≤ closed, each the moment of a transition the state was reached through and no other. Who
writes: a province administrator or a city platform whose region holds the agreement's county.

The residents (issue 19): the persons of the batch's records to write (not those unchanged) are found
or registered in the residents' person index in ONE call (``POST /residents/persons/bulk``, permission
``persons:bulk``; keyed ``contracts:<source_system>`` + contracts' blind index of the ID number, one
record a person; :func:`libs.common.person_index.resolve_batch`) before anything is written, in the
county of the record's agreement, and each referral stores ``person_id`` only — no copy of the
resident. The index refusing a record rejects that record (``person_name_mismatch``: the number is a
person of another name, also a second name for one number within the batch; ``person_refused``
otherwise); the index unreachable is 503 ``residents_unavailable``, nothing written. An unlinked copy
(written before) sent again is linked and its copy cleared. Without an index (an in-process loader only)
a record keeps an encrypted copy, unlinked, for the linking command.

A batch: one SELECT of its agreements, one of the referrals held under its keys, one of the open
referrals of its residents (by person or blind index), one INSERT (executemany), one UPDATE (executemany,
version-checked), the audit records (resident masked) and change-feed entries (no resident data; in the
batch's order). A replay is ``unchanged``: the record's hash is stored, with the resident as its keyed
fingerprint (:meth:`PersonalDataCipher.identity_fingerprint`), which also tells an update whether the
resident changed — no copy is decrypted.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit, bulk, changes
from libs.common.auth import Principal
from libs.common.bulk import BulkOutcome, BulkRecord, BulkResponse
from libs.common.errors import DomainError, IllegalTransition
from libs.common.person_index import (
    NamedPerson,
    PersonIndex,
    PersonNotMatched,
    index_source,
    resolve_batch,
)
from libs.common.personal_data import PersonalDataCipher
from services.contracts import history
from services.contracts.agreements import refs
from services.contracts.agreements.errors import AgreementChanged
from services.contracts.clock import CHINA_TZ
from services.contracts.referrals import service
from services.contracts.referrals.errors import OpenReferralExists
from services.contracts.referrals.models import OPEN_STATES, Referral, ReferralState
from services.contracts.referrals.schemas import ReferralBulk, ReferralRecord

R = ReferralState
ENTITY = "referral"
_PERSONAL = ("resident_name_enc", "resident_id_number_enc", "resident_phone_enc")
_STAMPS = ("accepted_at", "admitted_at", "returned_at", "closed_at")
#: the columns an update of a pushed referral rewrites (its agreement and key stay)
_WRITABLE = (
    "direction",
    "urgency",
    "from_institution_id",
    "to_institution_id",
    "reason",
    "person_id",
    *_PERSONAL,
    "resident_id_hash",
    "resident_fingerprint",
    "state",
    "requested_at",
    "requested_by",
    *_STAMPS,
    "close_reason",
    "source_hash",
)


def _routes(state: ReferralState) -> list[list[ReferralState]]:
    """The ways a referral reaches ``state`` from its request (the states passed through, in order)."""
    if state is R.requested:
        return [[]]
    return [
        [*route, state]
        for sources, target, _side in service.TRANSITIONS.values()
        if target is state
        for source in sources
        for route in _routes(source)
    ]


def reached_by(state: ReferralState) -> dict[str, bool | None]:
    """The moments a referral in ``state`` has — True required, None optional, False absent — from the
    lifecycle's transitions (:data:`service.TRANSITIONS`): a returned one was accepted and admitted, a
    cancelled one may have been accepted, a declined one was not."""
    routes = _routes(state)
    result: dict[str, bool | None] = {}
    for moment_state, stamp in (
        (R.accepted, "accepted_at"),
        (R.admitted, "admitted_at"),
        (R.returned, "returned_at"),
    ):
        on = [moment_state in route for route in routes]
        result[stamp] = True if all(on) else None if any(on) else False
    result["closed_at"] = state in (R.declined, R.cancelled)
    return result


def _reachable(current: ReferralState, target: ReferralState) -> bool:
    return any(current in route or current is R.requested for route in _routes(target))


def check_history(record: ReferralRecord, *, now: datetime) -> None:
    """The record's moments: none in the future, in the lifecycle's order, those of its state only."""
    r = record
    stamps = [
        ("requested_at", r.requested_at),
        ("accepted_at", r.accepted_at),
        ("admitted_at", r.admitted_at),
        ("returned_at", r.returned_at),
        ("closed_at", r.closed_at),
    ]
    history.not_in_future(stamps, now=now)
    wanted = reached_by(r.state)
    history.absent(
        ((name, getattr(r, name)) for name, need in wanted.items() if need is False), state=r.state.value
    )
    history.present(
        ((name, getattr(r, name)) for name, need in wanted.items() if need is True), state=r.state.value
    )
    closing = r.state in (R.declined, R.cancelled)
    (history.present if closing else history.absent)([("close_reason", r.close_reason)], state=r.state.value)
    history.in_order(stamps[:4], tz=CHINA_TZ)
    history.in_order(
        [("requested_at", r.requested_at), ("accepted_at", r.accepted_at), ("closed_at", r.closed_at)],
        tz=CHINA_TZ,
    )


def _utc(moment: datetime | None) -> datetime | None:
    """A moment as stored and fed (UTC), whatever offset the record gave it."""
    return moment.astimezone(UTC) if moment is not None else None


def _fingerprint(record: ReferralRecord, cipher: PersonalDataCipher) -> str:
    resident = record.resident
    return cipher.identity_fingerprint(name=resident.name, id_number=resident.id_number, phone=resident.phone)


def _record_hash(record: ReferralRecord, fingerprint: str) -> str:
    """The record's hash, the resident as its keyed fingerprint (no personal data in what is stored)."""
    data = record.model_dump_json(exclude={"external_id", "resident"}) + "|" + fingerprint
    return hashlib.sha256(data.encode()).hexdigest()


@dataclass
class _Import:
    principal: Principal
    source_system: str
    agreements: refs.Agreements
    existing: dict[str, Referral]
    #: a resident's open referral, as the batch leaves it: by ``p:<person id>`` and ``h:<blind index>``
    open_by_resident: dict[str, uuid.UUID]
    #: the person of each record to write, or the index's refusal (by the record's index); empty without
    #: an index (``linking`` false: the residents kept as unlinked copies)
    persons: dict[int, uuid.UUID | PersonNotMatched]
    linking: bool
    cipher: PersonalDataCipher
    today: date
    now: datetime
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    #: the referrals written, in the batch's order
    written: list[uuid.UUID] = field(default_factory=list)

    def unchanged(self, record: BulkRecord[ReferralRecord]) -> bool:
        """The record is what is stored (its hash, the resident by fingerprint) and, with an index, its
        referral linked (an unlinked copy sent again is linked)."""
        data = cast(ReferralRecord, record.data)
        current = self.existing.get(record.external_id or "")
        if current is None or (self.linking and current.person_id is None):
            return False
        return current.source_hash == _record_hash(data, _fingerprint(data, self.cipher))

    def resident(self, record: BulkRecord[ReferralRecord]) -> NamedPerson | None:
        """The person a record to write names, in its agreement's county (None: the record is unchanged,
        or its agreement unknown or not the caller's to import — the check rejects it: no person is
        registered for a record refused)."""
        data = cast(ReferralRecord, record.data)
        if self.unchanged(record):
            return None
        try:
            agreement = self.agreements.get(data)
            refs.ensure_importer(self.principal, agreement)
        except DomainError:
            return None
        return NamedPerson(
            name=data.resident.name,
            id_number=data.resident.id_number,
            region_code=agreement.region_code,
            phone=data.resident.phone,
        )

    def check(self, record: BulkRecord[ReferralRecord]) -> None:
        data = cast(ReferralRecord, record.data)
        agreement = self.agreements.get(data)
        refs.ensure_importer(self.principal, agreement)
        current = self.existing.get(record.external_id or "")
        if self.unchanged(record):
            assert current is not None
            record.written(BulkOutcome.unchanged, id=current.id, version=current.version)
            return
        fingerprint = _fingerprint(data, self.cipher)
        digest = _record_hash(data, fingerprint)
        check_history(data, now=self.now)
        service.check_eligible(agreement, data.requested_at.astimezone(CHINA_TZ).date(), today=self.today)
        if current is not None:
            if current.agreement_id != agreement.id:
                raise AgreementChanged()
            if not _reachable(current.state, data.state):
                raise IllegalTransition(
                    entity="转诊",
                    state=current.state.value,
                    action=data.state.value,
                    allowed=service.allowed_actions(current.state),
                )
        id_hash = self.cipher.lookup_hash(data.resident.id_number, "id_card")
        person_id = self.persons.get(record.index)
        if isinstance(person_id, PersonNotMatched):
            record.reject(person_id.code, person_id.detail)
            return
        assert person_id is not None or not self.linking
        referral_id = current.id if current is not None else uuid.uuid4()
        keys = [f"h:{id_hash}", *([f"p:{person_id}"] if person_id is not None else [])]
        holders = {self.open_by_resident.get(key) for key in keys} - {None}
        if data.state in OPEN_STATES:
            if holders - {referral_id}:
                raise OpenReferralExists()
            self.open_by_resident.update((key, referral_id) for key in keys)
        else:
            for key in keys:
                if self.open_by_resident.get(key) == referral_id:
                    del self.open_by_resident[key]
        values = {
            **service.referral_values(agreement, data, self.cipher, id_hash=id_hash, person_id=person_id),
            "resident_fingerprint": fingerprint,
            "state": data.state,
            "requested_at": _utc(data.requested_at),
            "requested_by": data.requested_by or self.principal.sub,
            **{stamp: _utc(getattr(data, stamp)) for stamp in _STAMPS},
            "close_reason": data.close_reason,
            "source_hash": digest,
        }
        audited = {
            **service.audit_changes(data),
            "state": data.state.value,
            "requested_at": data.requested_at,
            **{stamp: getattr(data, stamp) for stamp in _STAMPS if getattr(data, stamp) is not None},
        }
        self.written.append(referral_id)
        if current is None:
            self.inserts.append(
                {
                    "id": referral_id,
                    "version": 1,
                    "created_at": self.now,
                    "updated_at": self.now,
                    "source_system": self.source_system,
                    "external_id": record.external_id,
                    **values,
                }
            )
            record.written(BulkOutcome.created, id=referral_id, version=1, changes=audited)
            return
        resident = (*_PERSONAL, "person_id", "resident_id_hash", "resident_fingerprint", "source_hash")
        plain = [key for key in _WRITABLE if key not in resident]
        before = {key: getattr(current, key) for key in plain}
        after = {key: values[key] for key in plain}
        changed: dict[str, Any] = dict(audit.diff(before, after))
        if current.resident_fingerprint != fingerprint:  # a referral imported before: unknown, changed
            changed["resident"] = audit.MASK
        self.updates.append(
            {"b_id": current.id, "b_version": current.version, **{f"v_{k}": values[k] for k in _WRITABLE}}
        )
        record.written(BulkOutcome.updated, id=current.id, version=current.version + 1, changes=changed)


async def import_(
    session: AsyncSession,
    principal: Principal,
    request: ReferralBulk,
    *,
    cipher: PersonalDataCipher,
    today: date,
    now: datetime,
    max_records: int,
    index: PersonIndex | None = None,
) -> BulkResponse:
    batch = bulk.open_batch(request.source_system, request.records, max_records=max_records)
    batch.validate(ReferralRecord, exclude=())
    valid = [cast(ReferralRecord, r.data) for r in batch.live()]
    agreements = await refs.load(session, valid, source_system=request.source_system)
    existing: dict[str, Referral] = {}
    keys = {r.external_id for r in batch.live() if r.external_id}
    if keys:
        rows = await session.scalars(
            select(Referral).where(
                Referral.source_system == request.source_system, Referral.external_id.in_(keys)
            )
        )
        existing = {r.external_id or "": r for r in rows}
    work = _Import(
        principal, request.source_system, agreements, existing, {}, {}, index is not None, cipher, today, now
    )
    if index is not None:
        # the residents' persons first, in one call (no row written if the index cannot be reached)
        wanted = {r.index: p for r in batch.live() if (p := work.resident(r)) is not None}
        work.persons = await resolve_batch(
            index,
            cipher,
            wanted,
            source=index_source("contracts", request.source_system),
            max_records=max_records,
        )
    hashes = {cipher.lookup_hash(r.resident.id_number, "id_card") for r in valid}
    person_ids = {p for p in work.persons.values() if isinstance(p, uuid.UUID)}
    if hashes:
        found = await session.execute(
            select(Referral.resident_id_hash, Referral.person_id, Referral.id).where(
                or_(Referral.resident_id_hash.in_(hashes), Referral.person_id.in_(person_ids)),
                Referral.state.in_(OPEN_STATES),
            )
        )
        for id_hash, person_id, referral_id in found.all():
            if id_hash is not None:
                work.open_by_resident[f"h:{id_hash}"] = referral_id
            if person_id is not None:
                work.open_by_resident[f"p:{person_id}"] = referral_id
    batch.check(work.check)
    await _write(session, work, now)
    bulk.audit_written(session, principal, batch, entity_type=ENTITY, personal_fields={"resident"})
    return batch.response()


async def _write(session: AsyncSession, work: _Import, now: datetime) -> None:
    table = cast(Table, Referral.__table__)
    written: dict[uuid.UUID, Referral] = {}
    if work.updates:  # first: an update may close the open referral a new one of the batch follows
        stmt = (
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
            .values(
                {
                    **{name: bindparam(f"v_{name}") for name in _WRITABLE},
                    "version": bindparam("b_version") + 1,
                }
            )
            .values(updated_at=now)
        )
        await session.execute(stmt, work.updates, execution_options={"synchronize_session": False})
        fresh = await session.scalars(
            select(Referral)
            .where(Referral.id.in_([row["b_id"] for row in work.updates]))
            .execution_options(populate_existing=True)
        )
        written |= {referral.id: referral for referral in fresh}
    if work.inserts:
        await session.execute(insert(table), work.inserts)
        written |= {row["id"]: Referral(**row) for row in work.inserts}  # the entry's values, no re-read
    for referral_id in work.written:  # the feed's order is the batch's
        changes.track(session, written[referral_id])
