"""City platforms' bulk upsert of agreements, on the common bulk protocol (libs/common/bulk.py).

A record is the body of ``POST /agreements`` plus its key (``source_system`` of the batch,
``external_id``), how it stands (a draft, submitted and awaiting the other party's countersignature,
signed, or terminated) and — a historical import (issue 14) — the moments of its past: submission,
countersignature, activation, expiry, termination, the county's 备案, the agreement it renews (by its
external id). It obeys the rules of the single write because it goes through the same functions: the
record schema extends ``AgreementCreate``; the parties are checked by :func:`service.check_parties`, the
caller by :func:`service.ensure_writer`, the pair rule by :class:`pairs.PairHolders` (after
:func:`pairs.load_holders` advanced the calendar, as a single create does), a submission by
:func:`service.check_term_not_over`, a 备案 by :func:`service.check_fileable`, a renewal by
:func:`service.check_renewable` and :func:`service.check_renewal_term` (and ``already_renewed``); the
columns are built by :func:`service.party_values` and :func:`service.term_values`. The dates are checked
by :mod:`services.contracts.history`: none in the future, in the lifecycle's order, none the state
cannot have. A moment not given is stamped "now", as the single write stamps it.

The lookups those rules need are made for the whole batch up front, so a batch takes a handful of
statements whatever its size:

1. parties: one listing of the caller's region from the registry (all kinds, inactive included) when
   the batch names many institutions, else one look-up per distinct institution; institutions still
   unknown after the listing (a medical party in another city) are looked up by id — all before the
   first statement of the transaction;
2. one SELECT of the records already held under the batch's keys and the keys its records renew (and,
   when some renew a stored agreement, one SELECT of the renewals those already have); the calendar
   moves of the batch's pairs (two UPDATEs) and one SELECT of their agreements pending or in force;
3. one INSERT (executemany) of the new agreements, one UPDATE (executemany, version-checked) of the
   changed ones, their audit records (one INSERT at flush), one re-read of the written rows for the
   change feed, the change records themselves at commit.

A record is checked in full before anything is written, so a rejected one writes nothing. A replay of
the same batch finds every record unchanged (a hash of the record, phones blind-indexed, is stored).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit, bulk, changes
from libs.common.auth import Principal
from libs.common.bulk import BulkOutcome, BulkRecord, BulkResponse
from libs.common.errors import IllegalTransition
from libs.common.personal_data import PersonalDataCipher
from services.contracts import history
from services.contracts.agreements import lifecycle, pairs
from services.contracts.agreements.errors import (
    AlreadyFiled,
    AlreadyRenewed,
    PartiesChanged,
    PartyInvalid,
    RenewalPairMismatch,
    RenewedNotFound,
    TerminatedFinal,
)
from services.contracts.agreements.models import Agreement, AgreementState
from services.contracts.agreements.schemas import AgreementBulk, AgreementRecord, BulkRecordStatus
from services.contracts.agreements.service import (
    ENTITY,
    TERM_FIELDS,
    check_fileable,
    check_parties,
    check_renewable,
    check_renewal_term,
    check_term_not_over,
    ensure_writer,
    party_values,
    term_values,
)
from services.contracts.clients.registry import RegistryClient, RegistryInstitution
from services.contracts.clock import CHINA_TZ

S = AgreementState
#: above this many distinct institutions, list the caller's region instead of one look-up per id
LIST_THRESHOLD = 20
_PHONES = ("medical_contact_phone_enc", "elderly_contact_phone_enc")
#: the moments of an agreement's past a record may carry (a moment not given is stamped "now")
HISTORY = (
    "submitted_by_institution_id",
    "submitted_at",
    "countersigned_at",
    "activated_at",
    "expired_at",
    "terminated_at",
    "terminated_by_institution_id",
    "filed_at",
    "filed_by",
    "filing_note",
)
#: the columns an update of a pushed record rewrites (parties and key stay)
_WRITABLE = (
    "medical_name",
    "medical_region_code",
    "elderly_name",
    "elderly_region_code",
    "elderly_kind",
    "region_code",
    "state",
    "title",
    *TERM_FIELDS,
    "medical_contact_name",
    "medical_contact_phone_enc",
    "elderly_contact_name",
    "elderly_contact_phone_enc",
    *HISTORY,
    "terminated_on",
    "termination_reason",
    "renews_id",
    "source_hash",
)
#: how far along its lifecycle a record stands: an update never goes back
_RANK = {S.draft: 0, S.submitted: 1, S.countersigned: 2, S.active: 2, S.expired: 2, S.terminated: 3}
#: the fields added by the historical import: left out of a record's hash when not given, so the hash of
#: a record pushed before them is unchanged
_NEW_FIELDS = (*HISTORY, "renews_external_id")


async def _parties(
    registry: RegistryClient, principal: Principal, records: list[AgreementRecord], page_size: int
) -> dict[uuid.UUID, RegistryInstitution]:
    wanted = {r.medical_institution_id for r in records} | {r.elderly_institution_id for r in records}
    found: dict[uuid.UUID, RegistryInstitution] = {}
    if len(wanted) > LIST_THRESHOLD:
        listed = await registry.list_institutions(
            kinds={"medical", "elderly_care", "integrated"},
            region_code=principal.region_code,
            active_only=False,
            page_size=page_size,
        )
        found = {item.id: item for item in listed if item.id in wanted}
    missing = wanted - found.keys()
    if missing:
        found |= await registry.get_institutions(missing)
    return found


def _record_hash(record: AgreementRecord, cipher: PersonalDataCipher) -> str:
    data = record.model_dump(mode="json", exclude={"external_id"})
    for key in _NEW_FIELDS:
        if data.get(key) is None:
            data.pop(key, None)
    for side in ("medical_contact", "elderly_contact"):
        if data.get(side):
            data[side]["phone"] = cipher.lookup_hash(data[side]["phone"], "mobile")
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _state(record: AgreementRecord, today: date) -> AgreementState:
    """The state a record is stored in: its status, a signed one's from its dates."""
    if record.status is BulkRecordStatus.draft:
        return S.draft
    if record.status is BulkRecordStatus.submitted:
        return S.submitted
    if record.status is BulkRecordStatus.terminated:
        return S.terminated
    return lifecycle.signed_state_for(record.start_date, record.end_date, today)


def check_history(
    record: AgreementRecord,
    state: AgreementState,
    *,
    medical_id: uuid.UUID,
    elderly_id: uuid.UUID,
    today: date,
    now: datetime,
) -> None:
    """The single write's rules for how the record came to ``state``, and its dates: none in the future,
    in the lifecycle's order, none the state cannot have."""
    r = record
    if r.filed_at is not None:  # 备案 only of a signed agreement (once: see _update)
        # a terminated one was filed while it was signed (filed_at <= terminated_at is checked below)
        check_fileable(S.countersigned if state is S.terminated else state, None)
    if state is S.submitted:
        check_term_not_over(r.end_date, today)
    for name, party in (
        ("submitted_by_institution_id", r.submitted_by_institution_id),
        ("terminated_by_institution_id", r.terminated_by_institution_id),
    ):
        if party is not None and party not in (medical_id, elderly_id):
            raise PartyInvalid(
                field=f"body.{name}", code="party_not_in_agreement", message="须为协议双方之一"
            )
    stamps = [
        ("submitted_at", r.submitted_at),
        ("countersigned_at", r.countersigned_at),
        ("activated_at", r.activated_at),
        ("expired_at", r.expired_at),
        ("terminated_at", r.terminated_at),
        ("filed_at", r.filed_at),
    ]
    history.not_in_future(stamps, now=now)
    unsigned = state in (S.draft, S.submitted)
    cannot = {
        "submitted_by_institution_id": state is S.draft,
        "submitted_at": state is S.draft,
        "countersigned_at": unsigned,
        "activated_at": state not in (S.active, S.expired, S.terminated),
        "expired_at": state is not S.expired,
        "terminated_at": state is not S.terminated,
        "terminated_by_institution_id": state is not S.terminated,
    }
    history.absent(((name, getattr(r, name)) for name, no in cannot.items() if no), state=state.value)
    history.in_order(
        [
            ("submitted_at", r.submitted_at),
            ("countersigned_at", r.countersigned_at),
            ("activated_at", r.activated_at),
            ("expired_at", r.expired_at),
        ],
        tz=CHINA_TZ,
    )
    history.in_order([("countersigned_at", r.countersigned_at), ("filed_at", r.filed_at)], tz=CHINA_TZ)
    history.in_order([("filed_at", r.filed_at), ("terminated_at", r.terminated_at)], tz=CHINA_TZ)
    history.in_order(
        [
            ("submitted_at", r.submitted_at),
            ("countersigned_at", r.countersigned_at),
            ("activated_at", r.activated_at),
            ("terminated_at", r.terminated_at),
            ("terminated_on", r.terminated_on),
        ],
        tz=CHINA_TZ,
    )
    # activation on a day of the term, expiry after its last day
    history.in_order(
        [("start_date", r.start_date), ("activated_at", r.activated_at), ("end_date", r.end_date)],
        tz=CHINA_TZ,
    )
    history.in_order(
        [("end_date", r.end_date + timedelta(days=1)), ("expired_at", r.expired_at)], tz=CHINA_TZ
    )


def _history_values(
    record: AgreementRecord, state: AgreementState, now: datetime, current: Agreement | None
) -> dict[str, Any]:
    """The lifecycle columns: the record's moments, else what the agreement already holds (an update),
    else "now" for what the state was reached through (as the single write stamps it)."""
    given = {key: getattr(record, key) for key in HISTORY}
    stamped = {
        "submitted_at": state is S.submitted,
        "countersigned_at": state in (S.countersigned, S.active, S.expired, S.terminated),
        "activated_at": state in (S.active, S.expired),
        "expired_at": state is S.expired,
        "terminated_at": state is S.terminated,
    }
    values: dict[str, Any] = {}
    for key, value in given.items():
        if value is None and current is not None:
            value = getattr(current, key)
        if value is None and stamped.get(key, False):
            value = now
        values[key] = value
    if state in (S.draft, S.submitted):
        for key in ("countersigned_at", "activated_at", "expired_at", "terminated_at"):
            values[key] = None
    if state is not S.terminated:
        values["terminated_at"] = values["terminated_by_institution_id"] = None
    if state is not S.expired:
        values["expired_at"] = None
    if state not in (S.active, S.expired, S.terminated):  # e.g. an update moved its start ahead
        values["activated_at"] = None
    values["terminated_on"] = record.terminated_on if state is S.terminated else None
    values["termination_reason"] = record.termination_reason if state is S.terminated else None
    return values


@dataclass(frozen=True)
class _Renewed:
    """An agreement a record renews (stored, or created earlier in the batch)."""

    id: uuid.UUID
    pair: pairs.Pair
    state: AgreementState
    start_date: date
    end_date: date


@dataclass
class _Upsert:
    """What the batch knows before checking its records, and what the checked ones will write."""

    principal: Principal
    source_system: str
    parties: dict[uuid.UUID, RegistryInstitution]
    existing: dict[str, Agreement]
    holders: pairs.PairHolders
    cipher: PersonalDataCipher
    today: date
    now: datetime
    #: predecessor id → the agreements (not terminated) that already renew it
    renewals: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    previous_scopes: dict[uuid.UUID, Any] = field(default_factory=dict)
    created: dict[str, _Renewed] = field(default_factory=dict)
    #: the agreements written, in the batch's order
    written: list[uuid.UUID] = field(default_factory=list)

    def check(self, record: BulkRecord[AgreementRecord]) -> None:
        """The rules of ``POST /agreements`` (and of the transitions its status went through) for one
        record, then its write queued (a ``DomainError`` rejects the record before anything is queued)."""
        data = cast(AgreementRecord, record.data)
        medical, elderly = check_parties(
            self.parties.get(data.medical_institution_id), self.parties.get(data.elderly_institution_id)
        )
        ensure_writer(
            self.principal,
            medical_id=medical.id,
            elderly_id=elderly.id,
            elderly_region_code=elderly.region_code,
        )
        current = self.existing.get(record.external_id or "")
        digest = _record_hash(data, self.cipher)
        if current is not None and current.source_hash == digest:
            record.written(BulkOutcome.unchanged, id=current.id, version=current.version)
            return
        state = _state(data, self.today)
        check_history(
            data, state, medical_id=medical.id, elderly_id=elderly.id, today=self.today, now=self.now
        )
        pair = (medical.id, elderly.id)
        renewed = self._renewed(data, pair, current)
        values = {
            **party_values(medical, elderly),
            **term_values(data, medical, elderly, self.cipher),
            **_history_values(data, state, self.now, current),
            "state": state,
            "renews_id": renewed.id if renewed else (current.renews_id if current else None),
            "source_hash": digest,
        }
        if current is None:
            self._create(record, data, values, renewing=renewed)
        else:
            self._update(record, data, current, values, renewing=renewed)

    def _renewed(self, data: AgreementRecord, pair: pairs.Pair, current: Agreement | None) -> _Renewed | None:
        """The agreement the record renews, checked as ``POST /agreements/{id}/renew`` checks it."""
        key = data.renews_external_id
        if key is None:
            return None
        renewed = self.created.get(key)
        if renewed is None and key in self.existing:
            stored = self.existing[key]
            renewed = _Renewed(
                stored.id,
                (stored.medical_institution_id, stored.elderly_institution_id),
                stored.state,
                stored.start_date,
                stored.end_date,
            )
        if renewed is None or (current is not None and renewed.id == current.id):
            raise RenewedNotFound()
        if renewed.pair != pair:
            raise RenewalPairMismatch()
        status = lifecycle.effective_status(renewed.state, renewed.start_date, renewed.end_date, self.today)
        check_renewable(status)
        if self.renewals.get(renewed.id, set()) - {current.id if current else None}:
            raise AlreadyRenewed()
        check_renewal_term(status, renewed.end_date, data.start_date)
        return renewed

    def _create(
        self,
        record: BulkRecord[AgreementRecord],
        data: AgreementRecord,
        values: dict[str, Any],
        *,
        renewing: _Renewed | None,
    ) -> None:
        agreement_id = uuid.uuid4()
        pair = (values["medical_institution_id"], values["elderly_institution_id"])
        self.holders.claim(
            pair,
            agreement_id=agreement_id,
            state=values["state"],
            new=True,
            renewing=renewing.id if renewing else None,
        )
        self._note_renewal(agreement_id, values)
        self.inserts.append(
            {
                "id": agreement_id,
                "version": 1,
                "created_at": self.now,
                "updated_at": self.now,
                "source_system": self.source_system,
                "external_id": record.external_id,
                **values,
            }
        )
        self.written.append(agreement_id)
        self.created[record.external_id or ""] = _Renewed(
            agreement_id, pair, values["state"], data.start_date, data.end_date
        )
        record.written(
            BulkOutcome.created,
            id=agreement_id,
            version=1,
            changes=data.model_dump(mode="json", exclude={"external_id"}, exclude_none=True),
        )

    def _note_renewal(self, agreement_id: uuid.UUID, values: dict[str, Any]) -> None:
        if values["renews_id"] is not None and values["state"] is not S.terminated:
            self.renewals.setdefault(values["renews_id"], set()).add(agreement_id)

    def _update(
        self,
        record: BulkRecord[AgreementRecord],
        data: AgreementRecord,
        current: Agreement,
        values: dict[str, Any],
        *,
        renewing: _Renewed | None,
    ) -> None:
        pair = (values["medical_institution_id"], values["elderly_institution_id"])
        if (current.medical_institution_id, current.elderly_institution_id) != pair:
            raise PartiesChanged()
        if current.state is S.terminated and values["state"] is not S.terminated:
            raise TerminatedFinal()
        if _RANK[values["state"]] < _RANK[current.state]:  # a signed agreement is never a draft again
            raise IllegalTransition(
                entity="协议",
                state=current.state.value,
                action=data.status.value,
                allowed=[s.value for s in BulkRecordStatus if _rank_of(s) >= _RANK[current.state]],
            )
        if current.filed_at is not None and data.filed_at not in (None, current.filed_at):
            raise AlreadyFiled()
        self.holders.claim(
            pair,
            agreement_id=current.id,
            state=values["state"],
            new=False,
            renewing=renewing.id if renewing else None,
        )
        self._note_renewal(current.id, values)
        before = {key: getattr(current, key) for key in _WRITABLE if key not in _PHONES}
        before |= {key: self.cipher.decrypt(getattr(current, key)) for key in _PHONES}
        after = {key: values[key] for key in _WRITABLE if key not in _PHONES}
        after |= {key: self.cipher.decrypt(values[key]) for key in _PHONES}
        before.pop("source_hash")
        after.pop("source_hash")
        self.updates.append(
            {"b_id": current.id, "b_version": current.version, **{f"v_{k}": values[k] for k in _WRITABLE}}
        )
        self.previous_scopes[current.id] = current.change_scope()
        self.written.append(current.id)
        record.written(
            BulkOutcome.updated, id=current.id, version=current.version + 1, changes=audit.diff(before, after)
        )


def _rank_of(status: BulkRecordStatus) -> int:
    return {
        BulkRecordStatus.draft: 0,
        BulkRecordStatus.submitted: 1,
        BulkRecordStatus.signed: 2,
        BulkRecordStatus.terminated: 3,
    }[status]


async def upsert(
    session: AsyncSession,
    principal: Principal,
    request: AgreementBulk,
    *,
    registry: RegistryClient,
    cipher: PersonalDataCipher,
    today: date,
    now: datetime,
    page_size: int,
    max_records: int,
) -> BulkResponse:
    batch = bulk.open_batch(request.source_system, request.records, max_records=max_records)
    batch.validate(AgreementRecord, exclude=())
    valid: list[AgreementRecord] = [cast(AgreementRecord, r.data) for r in batch.live()]
    parties = await _parties(registry, principal, valid, page_size) if valid else {}

    # the calendar first (it may move the matched records), then the records held under the keys and
    # under the keys the records renew, and the renewals those already have
    holders = await pairs.load_holders(
        session,
        {(r.medical_institution_id, r.elderly_institution_id) for r in valid},
        today=today,
        now=now,
    )
    existing: dict[str, Agreement] = {}
    renewed_keys = {r.renews_external_id for r in valid if r.renews_external_id}
    keys = {r.external_id for r in batch.live() if r.external_id} | renewed_keys
    if keys:
        rows = await session.scalars(
            select(Agreement).where(
                Agreement.source_system == request.source_system, Agreement.external_id.in_(keys)
            )
        )
        existing = {a.external_id or "": a for a in rows}
    renewals: dict[uuid.UUID, set[uuid.UUID]] = {}
    renewed_ids = [existing[key].id for key in renewed_keys if key in existing]
    if renewed_ids:
        found = await session.execute(
            select(Agreement.renews_id, Agreement.id).where(
                Agreement.renews_id.in_(renewed_ids), Agreement.state != S.terminated
            )
        )
        for renewed_id, renewal_id in found.all():
            if renewed_id is not None:
                renewals.setdefault(renewed_id, set()).add(renewal_id)
    work = _Upsert(
        principal=principal,
        source_system=request.source_system,
        parties=parties,
        existing=existing,
        holders=holders,
        cipher=cipher,
        today=today,
        now=now,
        renewals=renewals,
    )
    batch.check(work.check)
    await _write(session, work, now)
    bulk.audit_written(
        session,
        principal,
        batch,
        entity_type=ENTITY,
        personal_fields={"medical_contact", "elderly_contact", *_PHONES},
    )
    return batch.response()


async def _write(session: AsyncSession, work: _Upsert, now: datetime) -> None:
    table = cast(Table, Agreement.__table__)
    if work.inserts:
        await session.execute(insert(table), work.inserts)
    if work.updates:
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
    if work.written:
        fresh = await session.scalars(
            select(Agreement).where(Agreement.id.in_(work.written)).execution_options(populate_existing=True)
        )
        by_id = {agreement.id: agreement for agreement in fresh}
        for agreement_id in work.written:  # the feed's order is the batch's
            changes.track(session, by_id[agreement_id], previous_scope=work.previous_scopes.get(agreement_id))
