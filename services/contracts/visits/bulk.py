"""Historical import of 巡诊 visits (``POST /visits/bulk``, issue 14) on the common bulk protocol.

A record is the body of ``POST /agreements/{id}/visits`` plus its agreement (by id or by the agreement's
key in the same source system), its key (``source_system`` of the batch, ``external_id``) and who recorded
it. It obeys the single write's rules because it goes through the same functions: the record schema
extends ``VisitCreate``; :func:`service.check_visit` (the date within the agreement's term and not in the
future — ``visit_outside_term``; only agreed services — ``service_not_agreed``); the columns by
:func:`service.visit_values`; the audit record's changes by :func:`service.audit_changes`. Who writes: a
province administrator or a city platform whose region holds the agreement's county
(:func:`refs.ensure_importer`, per record ``out_of_scope``).

A batch takes a handful of statements whatever its size: one SELECT of its agreements, one of the visits
held under its keys, one INSERT (executemany) of the new visits, one UPDATE (executemany,
version-checked) of the changed ones, their audit records (one INSERT at flush) and change-feed entries
(with the original dates; in the batch's order). A replay finds every record ``unchanged`` (a hash of
the record is stored).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit, bulk, changes
from libs.common.auth import Principal
from libs.common.bulk import BulkOutcome, BulkRecord, BulkResponse
from services.contracts.agreements import refs
from services.contracts.agreements.errors import AgreementChanged
from services.contracts.visits import service
from services.contracts.visits.models import Visit
from services.contracts.visits.schemas import VisitBulk, VisitRecord

ENTITY = "visit"
#: the columns an update of a pushed visit rewrites (its agreement and key stay)
_WRITABLE = (
    "visit_date",
    "practitioner_ids",
    "residents_seen",
    "resident_refs",
    "services",
    "findings",
    "homebound_orders",
    "recorded_by",
    "source_hash",
)


def _record_hash(record: VisitRecord) -> str:
    return hashlib.sha256(record.model_dump_json(exclude={"external_id"}).encode()).hexdigest()


@dataclass
class _Import:
    principal: Principal
    source_system: str
    agreements: refs.Agreements
    existing: dict[str, Visit]
    today: date
    now: datetime
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    #: the visits written, in the batch's order
    written: list[uuid.UUID] = field(default_factory=list)

    def check(self, record: BulkRecord[VisitRecord]) -> None:
        data = cast(VisitRecord, record.data)
        agreement = self.agreements.get(data)
        refs.ensure_importer(self.principal, agreement)
        current = self.existing.get(record.external_id or "")
        digest = _record_hash(data)
        if current is not None and current.source_hash == digest:
            record.written(BulkOutcome.unchanged, id=current.id, version=current.version)
            return
        service.check_visit(agreement, data, today=self.today)
        values = {
            **service.visit_values(agreement, data, recorded_by=data.recorded_by or self.principal.sub),
            "source_hash": digest,
        }
        if current is None:
            visit_id = uuid.uuid4()
            self.inserts.append(
                {
                    "id": visit_id,
                    "version": 1,
                    "created_at": self.now,
                    "updated_at": self.now,
                    "source_system": self.source_system,
                    "external_id": record.external_id,
                    **values,
                }
            )
            self.written.append(visit_id)
            record.written(
                BulkOutcome.created, id=visit_id, version=1, changes=service.audit_changes(agreement, data)
            )
            return
        if current.agreement_id != agreement.id:
            raise AgreementChanged()
        before = {key: getattr(current, key) for key in _WRITABLE if key != "source_hash"}
        after = {key: values[key] for key in _WRITABLE if key != "source_hash"}
        self.written.append(current.id)
        self.updates.append(
            {"b_id": current.id, "b_version": current.version, **{f"v_{k}": values[k] for k in _WRITABLE}}
        )
        record.written(
            BulkOutcome.updated, id=current.id, version=current.version + 1, changes=audit.diff(before, after)
        )


async def import_(
    session: AsyncSession,
    principal: Principal,
    request: VisitBulk,
    *,
    today: date,
    now: datetime,
    max_records: int,
) -> BulkResponse:
    batch = bulk.open_batch(request.source_system, request.records, max_records=max_records)
    batch.validate(VisitRecord, exclude=())
    valid = [cast(VisitRecord, r.data) for r in batch.live()]
    agreements = await refs.load(session, valid, source_system=request.source_system)
    existing: dict[str, Visit] = {}
    keys = {r.external_id for r in batch.live() if r.external_id}
    if keys:
        rows = await session.scalars(
            select(Visit).where(Visit.source_system == request.source_system, Visit.external_id.in_(keys))
        )
        existing = {v.external_id or "": v for v in rows}
    work = _Import(principal, request.source_system, agreements, existing, today, now)
    batch.check(work.check)
    await _write(session, work, now)
    bulk.audit_written(session, principal, batch, entity_type=ENTITY)
    return batch.response()


async def _write(session: AsyncSession, work: _Import, now: datetime) -> None:
    table = cast(Table, Visit.__table__)
    written: dict[uuid.UUID, Visit] = {}
    if work.inserts:
        await session.execute(insert(table), work.inserts)
        written |= {row["id"]: Visit(**row) for row in work.inserts}  # the feed entry's values, no re-read
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
        fresh = await session.scalars(
            select(Visit)
            .where(Visit.id.in_([row["b_id"] for row in work.updates]))
            .execution_options(populate_existing=True)
        )
        written |= {visit.id: visit for visit in fresh}
    for visit_id in work.written:  # the feed's order is the batch's
        changes.track(session, written[visit_id])
