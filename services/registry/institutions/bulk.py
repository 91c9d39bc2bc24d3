"""``POST /institutions/bulk``: a city platform's institutions, keyed by (source_system, external_id).

The protocol (envelope, per-record results, codes, batch limit) is :mod:`libs.common.bulk`; the rules
are those of ``POST /institutions`` and ``PATCH /institutions/{id}`` (``service.check_create``,
``check_may_edit``, ``merged_update``, ``check_uscc_owner``), checked for the whole batch before anything
is written; the lookups they need are made for the whole batch, and the good records are written with a
few bulk statements (:mod:`.batch_write`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.bulk import BulkResponse, open_batch
from libs.common.personal_data import PersonalDataCipher
from services.registry.institutions import batch_write
from services.registry.institutions.batch_write import Candidate
from services.registry.institutions.schemas import InstitutionBulkRequest


async def upsert_from_platform(
    session: AsyncSession,
    principal: Principal,
    request: InstitutionBulkRequest,
    *,
    cipher: PersonalDataCipher,
    max_records: int,
) -> BulkResponse:
    """Create, update or leave unchanged each record keyed by (source_system, external_id).

    An update changes the fields the record carries and keeps the others. A record outside the caller's
    region, or invalid, is rejected alone; replaying a batch finds every record unchanged and writes
    nothing.
    """
    batch = open_batch(request.source_system, request.records, max_records=max_records)
    candidates: list[Candidate] = []
    for record in batch.records:
        raw = {k: v for k, v in record.raw.items() if k not in ("external_id", "source_system")}
        candidate = Candidate(
            index=record.index,
            external_id=record.external_id,
            raw=raw,
            label=str(record.index),
            key=record.external_id,
        )
        if record.rejected:
            candidate.reject(record.code or "", record.detail or "", record.errors)
        candidates.append(candidate)
    batch.records[:] = candidates

    batch_write.validate(candidates, principal)
    keys = [(request.source_system, c.key) for c in candidates if not c.rejected]
    existing = (
        await batch_write.load_existing(session, batch_write.key_condition_source, keys) if keys else []
    )
    by_key: dict[Any, dict[str, Any]] = {row["external_id"]: row for row in existing}
    for candidate in candidates:
        row = None if candidate.rejected else by_key.get(candidate.key)
        if row is not None:
            candidate.existing = row
            candidate.id = row["id"]
    batch_write.merge_existing(candidates, principal, cipher)
    batch_write.reject_duplicates(candidates, lambda c: c.data.uscc if c.data else None, "uscc")
    await batch_write.check_uscc_owners(session, candidates)
    await batch_write.write(
        session,
        principal,
        candidates,
        cipher=cipher,
        action="bulk_upsert",
        extra_columns=lambda c: {"source_system": request.source_system, "external_id": c.key},
    )
    return batch.response()
