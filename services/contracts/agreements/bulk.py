"""City platforms' bulk upsert of agreements, on the common bulk protocol (libs/common/bulk.py).

A record is the body of ``POST /agreements`` plus its key (``source_system`` of the batch,
``external_id``) and how it stands (signed or terminated). It obeys the rules of the single write because
it goes through the same functions: the record schema extends ``AgreementCreate``; the parties are
checked by :func:`service.check_parties`, the caller by :func:`service.ensure_writer`, the pair rule by
:class:`pairs.PairHolders` (after :func:`pairs.load_holders` advanced the calendar, as a single create
does); the columns are built by :func:`service.party_values` and :func:`service.term_values`.

The lookups those rules need are made for the whole batch up front, so a batch takes a handful of
statements whatever its size:

1. parties: one listing of the caller's region from the registry (all kinds, inactive included) when
   the batch names many institutions, else one look-up per distinct institution; institutions still
   unknown after the listing (a medical party in another city) are looked up by id — all before the
   first statement of the transaction;
2. one SELECT of the records already held under the batch's keys; the calendar moves of the batch's
   pairs (two UPDATEs) and one SELECT of their agreements pending or in force;
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
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit, bulk, changes
from libs.common.auth import Principal
from libs.common.bulk import BulkOutcome, BulkRecord, BulkResponse
from libs.common.personal_data import PersonalDataCipher
from services.contracts.agreements import lifecycle, pairs
from services.contracts.agreements.errors import PartiesChanged, TerminatedFinal
from services.contracts.agreements.models import Agreement, AgreementState
from services.contracts.agreements.schemas import AgreementBulk, AgreementRecord, BulkRecordStatus
from services.contracts.agreements.service import (
    ENTITY,
    TERM_FIELDS,
    check_parties,
    ensure_writer,
    party_values,
    term_values,
)
from services.contracts.clients.registry import RegistryClient, RegistryInstitution

S = AgreementState
#: above this many distinct institutions, list the caller's region instead of one look-up per id
LIST_THRESHOLD = 20
_PHONES = ("medical_contact_phone_enc", "elderly_contact_phone_enc")
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
    "activated_at",
    "expired_at",
    "terminated_at",
    "terminated_on",
    "termination_reason",
    "source_hash",
)


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
    for side in ("medical_contact", "elderly_contact"):
        if data.get(side):
            data[side]["phone"] = cipher.lookup_hash(data[side]["phone"], "mobile")
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _signed_values(record: AgreementRecord, *, today: date, now: datetime) -> dict[str, Any]:
    """The state columns of a pushed agreement: signed (state from its dates) or terminated."""
    if record.status is BulkRecordStatus.terminated:
        state = S.terminated
    else:
        state = lifecycle.signed_state_for(record.start_date, record.end_date, today)
    return {
        "state": state,
        "countersigned_at": now,
        "activated_at": now if state in (S.active, S.expired) else None,
        "expired_at": now if state is S.expired else None,
        "terminated_at": now if state is S.terminated else None,
        "terminated_on": record.terminated_on if state is S.terminated else None,
        "termination_reason": record.termination_reason if state is S.terminated else None,
    }


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
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    previous_scopes: dict[uuid.UUID, Any] = field(default_factory=dict)

    def check(self, record: BulkRecord[AgreementRecord]) -> None:
        """The rules of ``POST /agreements`` for one record, then its write queued (a ``DomainError``
        rejects the record before anything is queued)."""
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
        values = {
            **party_values(medical, elderly),
            **term_values(data, medical, elderly, self.cipher),
            **_signed_values(data, today=self.today, now=self.now),
            "source_hash": digest,
        }
        if current is None:
            self._create(record, data, values)
        else:
            self._update(record, current, values)

    def _create(
        self, record: BulkRecord[AgreementRecord], data: AgreementRecord, values: dict[str, Any]
    ) -> None:
        agreement_id = uuid.uuid4()
        pair = (values["medical_institution_id"], values["elderly_institution_id"])
        self.holders.claim(pair, agreement_id=agreement_id, state=values["state"], new=True)
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
        record.written(
            BulkOutcome.created,
            id=agreement_id,
            version=1,
            changes=data.model_dump(mode="json", exclude={"external_id"}),
        )

    def _update(
        self, record: BulkRecord[AgreementRecord], current: Agreement, values: dict[str, Any]
    ) -> None:
        pair = (values["medical_institution_id"], values["elderly_institution_id"])
        if (current.medical_institution_id, current.elderly_institution_id) != pair:
            raise PartiesChanged()
        if current.state is S.terminated and values["state"] is not S.terminated:
            raise TerminatedFinal()
        self.holders.claim(pair, agreement_id=current.id, state=values["state"], new=False)
        values.pop("countersigned_at")
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
        record.written(
            BulkOutcome.updated, id=current.id, version=current.version + 1, changes=audit.diff(before, after)
        )


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

    # the calendar first (it may move the matched records), then the records held under the keys
    holders = await pairs.load_holders(
        session,
        {(r.medical_institution_id, r.elderly_institution_id) for r in valid},
        today=today,
        now=now,
    )
    existing: dict[str, Agreement] = {}
    keys = [r.external_id for r in batch.live() if r.external_id]
    if keys:
        rows = await session.scalars(
            select(Agreement).where(
                Agreement.source_system == request.source_system, Agreement.external_id.in_(keys)
            )
        )
        existing = {a.external_id or "": a for a in rows}
    work = _Upsert(
        principal=principal,
        source_system=request.source_system,
        parties=parties,
        existing=existing,
        holders=holders,
        cipher=cipher,
        today=today,
        now=now,
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
    written = [row["id"] for row in work.inserts] + [row["b_id"] for row in work.updates]
    if written:
        fresh = await session.scalars(
            select(Agreement).where(Agreement.id.in_(written)).execution_options(populate_existing=True)
        )
        for agreement in fresh:
            changes.track(session, agreement, previous_scope=work.previous_scopes.get(agreement.id))
