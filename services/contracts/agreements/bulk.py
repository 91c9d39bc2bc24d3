"""City-platform bulk upsert of agreements (issue 7), keyed by (source_system, external_id).

Every record is validated on its own and gets its own result; the good ones are written together with
a handful of statements whatever the batch size:

1. parties: one listing of the caller's region from the registry (all kinds, inactive included) when
   the batch names many institutions, else one look-up per distinct institution; institutions still
   unknown after the listing (a medical party in another city) are looked up by id;
2. one SELECT of the records already held under the batch's keys, one SELECT of the agreements pending
   or in force for the batch's pairs;
3. one INSERT (executemany) of the new agreements, one UPDATE (executemany) of the changed ones, one
   INSERT of their audit records, one re-read of the updated rows for the change feed, the change
   records themselves at commit.

A replay of the same batch finds every record unchanged (a keyed hash of the record is stored). A
record outside the caller's scope, with an unknown, inactive or wrongly-kinded party, or that would
make a second pending or in-force agreement for a pair, is rejected with its reason.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import changes
from libs.common.auth import Principal, Role
from libs.common.errors import DomainError, FieldError, validation_field_errors
from libs.common.models import AuditRecord
from libs.common.personal_data import PersonalDataCipher
from libs.common.request_context import current_request_id
from services.contracts.agreements import lifecycle
from services.contracts.agreements.models import PENDING_STATES, Agreement, AgreementState
from services.contracts.agreements.schemas import (
    AgreementBulkResult,
    AgreementRecord,
    BulkOutcome,
    BulkRecordResult,
    BulkRecordStatus,
    BulkSummary,
)
from services.contracts.agreements.service import check_parties, default_title, pair_condition
from services.contracts.clients.registry import RegistryClient, RegistryInstitution

S = AgreementState
#: above this many distinct institutions, list the caller's region instead of one look-up per id
LIST_THRESHOLD = 20
_WRITABLE = (
    "medical_name",
    "medical_region_code",
    "elderly_name",
    "elderly_region_code",
    "elderly_kind",
    "region_code",
    "state",
    "title",
    "services",
    "visit_count",
    "visit_period",
    "visit_staff",
    "green_channel_terms",
    "referral_terms",
    "fee_payer",
    "fee_amount_yuan",
    "fee_terms",
    "medical_duties",
    "elderly_duties",
    "change_terms",
    "dispute_terms",
    "start_date",
    "end_date",
    "medical_contact_name",
    "medical_contact_phone",
    "elderly_contact_name",
    "elderly_contact_phone",
    "activated_at",
    "expired_at",
    "terminated_at",
    "terminated_on",
    "termination_reason",
    "source_hash",
)


class Rejected(Exception):
    def __init__(self, code: str, reason: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.errors = errors


@dataclass
class _Batch:
    results: list[BulkRecordResult] = field(default_factory=list)
    valid: list[tuple[int, AgreementRecord]] = field(default_factory=list)

    def reject(
        self, index: int, record: Any, code: str, reason: str, errors: list[FieldError] | None = None
    ) -> None:
        source = (
            record.get("source_system")
            if isinstance(record, dict)
            else getattr(record, "source_system", None)
        )
        external = (
            record.get("external_id") if isinstance(record, dict) else getattr(record, "external_id", None)
        )
        self.results.append(
            BulkRecordResult(
                index=index,
                source_system=source if isinstance(source, str) else None,
                external_id=external if isinstance(external, str) else None,
                outcome=BulkOutcome.rejected,
                code=code,
                reason=reason,
                errors=errors,
            )
        )


def _parse(records: list[dict[str, Any]]) -> _Batch:
    batch = _Batch()
    seen: set[tuple[str, str]] = set()
    for index, raw in enumerate(records):
        try:
            record = AgreementRecord.model_validate(raw)
        except ValidationError as exc:
            batch.reject(
                index, raw, "validation_failed", "记录校验失败", validation_field_errors(exc.errors())
            )
            continue
        key = (record.source_system, record.external_id)
        if key in seen:
            batch.reject(index, raw, "duplicate_in_batch", "同一批次中重复的 (source_system, external_id)")
            continue
        seen.add(key)
        batch.valid.append((index, record))
    return batch


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
    data = record.model_dump(mode="json")
    for side in ("medical_contact", "elderly_contact"):
        if data.get(side):
            data[side]["phone"] = cipher.lookup_hash(data[side]["phone"], "mobile")
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _values(
    record: AgreementRecord,
    medical: RegistryInstitution,
    elderly: RegistryInstitution,
    *,
    cipher: PersonalDataCipher,
    today: date,
    now: datetime,
    digest: str,
) -> dict[str, Any]:
    if record.status is BulkRecordStatus.terminated:
        state = S.terminated
    else:
        state = lifecycle.signed_state_for(record.start_date, record.end_date, today)
    medical_contact, elderly_contact = record.medical_contact, record.elderly_contact
    return {
        "medical_name": medical.name,
        "medical_region_code": medical.region_code,
        "elderly_name": elderly.name,
        "elderly_region_code": elderly.region_code,
        "elderly_kind": elderly.kind,
        "region_code": elderly.region_code,
        "state": state,
        "title": record.title or default_title(medical.name, elderly.name),
        "services": [s.value for s in record.services],
        "visit_count": record.visit_count,
        "visit_period": record.visit_period,
        "visit_staff": record.visit_staff,
        "green_channel_terms": record.green_channel_terms,
        "referral_terms": record.referral_terms,
        "fee_payer": record.fee_payer,
        "fee_amount_yuan": record.fee_amount_yuan,
        "fee_terms": record.fee_terms,
        "medical_duties": record.medical_duties,
        "elderly_duties": record.elderly_duties,
        "change_terms": record.change_terms,
        "dispute_terms": record.dispute_terms,
        "start_date": record.start_date,
        "end_date": record.end_date,
        "medical_contact_name": medical_contact.name if medical_contact else None,
        "medical_contact_phone": cipher.encrypt(medical_contact.phone) if medical_contact else None,
        "elderly_contact_name": elderly_contact.name if elderly_contact else None,
        "elderly_contact_phone": cipher.encrypt(elderly_contact.phone) if elderly_contact else None,
        "countersigned_at": now,
        "activated_at": now if state in (S.active, S.expired) else None,
        "expired_at": now if state is S.expired else None,
        "terminated_at": now if state is S.terminated else None,
        "terminated_on": record.terminated_on if state is S.terminated else None,
        "termination_reason": record.termination_reason if state is S.terminated else None,
        "source_hash": digest,
    }


def _check_scope(principal: Principal, elderly: RegistryInstitution) -> None:
    if principal.role is not Role.service and not principal.scope.contains(elderly.region_code):
        raise Rejected("out_of_scope", "养老机构不在调用方所属行政区域内")


def _occupies(state: AgreementState) -> str | None:
    """Which unique slot of its pair an agreement in this state takes ("pending", "active" or none)."""
    if state in PENDING_STATES:
        return "pending"
    if state is S.active:
        return "active"
    return None


async def upsert(
    session: AsyncSession,
    principal: Principal,
    records: list[dict[str, Any]],
    *,
    registry: RegistryClient,
    cipher: PersonalDataCipher,
    today: date,
    now: datetime,
    page_size: int,
) -> AgreementBulkResult:
    batch = _parse(records)
    parties = (
        await _parties(registry, principal, [r for _, r in batch.valid], page_size) if batch.valid else {}
    )

    keys = [(r.source_system, r.external_id) for _, r in batch.valid]
    existing: dict[tuple[str, str], Agreement] = {}
    if keys:
        rows = await session.scalars(
            select(Agreement).where(
                Agreement.source_system.in_({k[0] for k in keys}),
                Agreement.external_id.in_({k[1] for k in keys}),
            )
        )
        existing = {(a.source_system or "", a.external_id or ""): a for a in rows}
    pairs = list({(r.medical_institution_id, r.elderly_institution_id) for _, r in batch.valid})
    slots: dict[tuple[uuid.UUID, uuid.UUID, str], uuid.UUID] = {}
    if pairs:
        holders = await session.execute(
            select(
                Agreement.id,
                Agreement.medical_institution_id,
                Agreement.elderly_institution_id,
                Agreement.state,
            ).where(
                pair_condition(pairs), or_(Agreement.state.in_(PENDING_STATES), Agreement.state == S.active)
            )
        )
        for agreement_id, medical_id, elderly_id, state in holders.all():
            slot = _occupies(state)
            if slot:
                slots[(medical_id, elderly_id, slot)] = agreement_id

    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    audits: list[dict[str, Any]] = []
    for index, record in batch.valid:
        try:
            medical, elderly = _validated_parties(parties, record)
            _check_scope(principal, elderly)
            digest = _record_hash(record, cipher)
            current = existing.get((record.source_system, record.external_id))
            if current is not None and current.source_hash == digest:
                batch.results.append(_result(index, record, BulkOutcome.unchanged, current.id))
                continue
            values = _values(record, medical, elderly, cipher=cipher, today=today, now=now, digest=digest)
            agreement_id = current.id if current is not None else uuid.uuid4()
            if current is not None:
                if (current.medical_institution_id, current.elderly_institution_id) != (
                    medical.id,
                    elderly.id,
                ):
                    raise Rejected("parties_changed", "已上报协议的双方机构不能更改")
                if current.state is S.terminated and values["state"] is not S.terminated:
                    raise Rejected("terminated_final", "已终止的协议不能重新生效")
                _take_slot(slots, medical.id, elderly.id, values["state"], agreement_id, current.state)
                values.pop("countersigned_at")
                updates.append(
                    {
                        "b_id": agreement_id,
                        "b_version": current.version,
                        **{f"v_{k}": v for k, v in values.items()},
                    }
                )
                outcome = BulkOutcome.updated
            else:
                _take_slot(slots, medical.id, elderly.id, values["state"], agreement_id, None)
                inserts.append(
                    {
                        "id": agreement_id,
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                        "medical_institution_id": medical.id,
                        "elderly_institution_id": elderly.id,
                        "source_system": record.source_system,
                        "external_id": record.external_id,
                        **values,
                    }
                )
                outcome = BulkOutcome.created
        except Rejected as exc:
            batch.reject(index, record, exc.code, exc.reason, exc.errors)
            continue
        except DomainError as exc:
            batch.reject(index, record, exc.code, exc.detail, exc.errors)
            continue
        batch.results.append(_result(index, record, outcome, agreement_id))
        audits.append(
            {
                "id": uuid.uuid4(),
                "occurred_at": now,
                "actor_sub": principal.sub,
                "actor_role": principal.role.value,
                "actor_institution_id": principal.institution_id,
                "action": f"agreement.bulk_{outcome.value}",
                "entity_type": "agreement",
                "entity_id": str(agreement_id),
                "changes": {"source_system": record.source_system, "external_id": record.external_id},
                "request_id": current_request_id(),
            }
        )

    await _write(session, inserts, updates, audits, now)
    batch.results.sort(key=lambda r: r.index)
    summary = BulkSummary()
    for result in batch.results:
        setattr(summary, result.outcome.value, getattr(summary, result.outcome.value) + 1)
    return AgreementBulkResult(summary=summary, results=batch.results)


def _validated_parties(
    parties: dict[uuid.UUID, RegistryInstitution], record: AgreementRecord
) -> tuple[RegistryInstitution, RegistryInstitution]:
    return check_parties(
        parties.get(record.medical_institution_id),
        parties.get(record.elderly_institution_id),
        medical_field="medical_institution_id",
        elderly_field="elderly_institution_id",
    )


def _take_slot(
    slots: dict[tuple[uuid.UUID, uuid.UUID, str], uuid.UUID],
    medical_id: uuid.UUID,
    elderly_id: uuid.UUID,
    state: AgreementState,
    agreement_id: uuid.UUID,
    previous: AgreementState | None,
) -> None:
    slot = _occupies(state)
    old_slot = _occupies(previous) if previous is not None else None
    if slot is not None:
        holder = slots.get((medical_id, elderly_id, slot))
        if holder is not None and holder != agreement_id:
            raise Rejected("duplicate_agreement", "该医疗机构与养老机构之间已有生效中或待生效的协议")
        slots[(medical_id, elderly_id, slot)] = agreement_id
    if old_slot is not None and old_slot != slot:
        slots.pop((medical_id, elderly_id, old_slot), None)


def _result(
    index: int, record: AgreementRecord, outcome: BulkOutcome, agreement_id: uuid.UUID
) -> BulkRecordResult:
    return BulkRecordResult(
        index=index,
        source_system=record.source_system,
        external_id=record.external_id,
        outcome=outcome,
        agreement_id=agreement_id,
    )


async def _write(
    session: AsyncSession,
    inserts: list[dict[str, Any]],
    updates: list[dict[str, Any]],
    audits: list[dict[str, Any]],
    now: datetime,
) -> None:
    table = cast(Table, Agreement.__table__)
    if inserts:
        await session.execute(insert(table), inserts)
    if updates:
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
        await session.execute(stmt, updates, execution_options={"synchronize_session": False})
    if audits:
        await session.execute(insert(AuditRecord), audits)
    written = [row["id"] for row in inserts] + [row["b_id"] for row in updates]
    if written:
        fresh = await session.scalars(
            select(Agreement).where(Agreement.id.in_(written)).execution_options(populate_existing=True)
        )
        for agreement in fresh:
            changes.track(session, agreement)
