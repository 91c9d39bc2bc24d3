"""``POST /filings/bulk``: past 备案 filings brought in with their history (a city platform joining with
years of records, the demo province), keyed by (source_system, external_id).

A record is the body of ``POST /filings`` (submitted: a past filing was accepted) with its original
dates, its state (accepted, or revoked with when and why) and its 备案号. It obeys the rules of the single
write through the same functions: the institution is found as ``institutions.get`` finds it (404 when
unknown or out of sight) and checked by :func:`service.check_filable` (in the caller's scope, not a
medical institution, active); the document set by :func:`service.missing_items`; a step of an existing
filing by :func:`service.ensure_allowed` (the state machine). The history dates are checked by
:mod:`services.registry.institutions.history_rules`: none in the future (``date_in_future``), revoked ≥
accepted (``dates_out_of_order``), accepted not before the institution opened
(``before_institution_opened``). A 备案号 belongs to one filing (``filing_no_taken``); an imported
filing keeps its institution, 备案号 and acceptance time (``filing_history_fixed``).

Each step is written as the single path writes it (:func:`service.add_event`: the history entry with
its original time and the audit record), the filing through the ORM (one multi-row INSERT at flush; its
change-feed entry in write order, carrying ``accepted_at`` and ``revoked_at``), and the institution's
``has_medical_unit`` refreshed by ``institutions.service.refresh_has_medical_unit`` where it may change.
The lookups are made for the whole batch (institutions, keys, 备案号: three SELECTs); a record is checked
in full before anything of it is written. A replay finds every record unchanged and writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import clock
from libs.common.auth import Principal
from libs.common.bulk import BulkOutcome, BulkRecord, BulkResponse, open_batch
from libs.common.errors import IllegalTransition
from libs.common.scope import can_see
from services.registry.filings import service
from services.registry.filings.errors import FilingHistoryFixed, FilingIncomplete, FilingNoTaken
from services.registry.filings.models import UNIT_KIND_CODES, Filing, FilingState
from services.registry.filings.schemas import FilingBulkRequest, FilingContent, FilingHistoryRecord
from services.registry.institutions import history_rules
from services.registry.institutions import service as institutions
from services.registry.institutions.errors import InstitutionNotFound
from services.registry.institutions.models import Institution

VIA = "bulk_import"
#: how a new record gets its id (the demo passes its own ids)
NewId = Callable[[BulkRecord[Any]], uuid.UUID]


def _random_id(_record: BulkRecord[Any]) -> uuid.UUID:
    return uuid.uuid4()


@dataclass
class _Import:
    session: AsyncSession
    principal: Principal
    source_system: str
    now: datetime
    institutions: dict[uuid.UUID, Institution]
    existing: dict[str, Filing]
    filing_no_owners: dict[str, uuid.UUID]
    new_id: NewId
    touched: dict[uuid.UUID, Institution] = field(default_factory=dict)

    def check(self, record: BulkRecord[FilingHistoryRecord]) -> None:
        """The rules of ``POST /filings`` and of the history for one record, then its write (a
        ``DomainError`` rejects the record before anything of it is written)."""
        data = cast(FilingHistoryRecord, record.data)
        institution = self.institutions.get(data.institution_id)
        if institution is None or not can_see(
            self.principal, region_code=institution.region_code, institution_ids=[institution.id]
        ):
            raise InstitutionNotFound()
        service.check_filable(self.principal, institution)
        self._check_dates(data, institution)
        current = self.existing.get(record.external_id or "")
        if data.filing_no is not None:
            owner = self.filing_no_owners.get(data.filing_no)
            if owner is not None and (current is None or owner != current.id):
                raise FilingNoTaken()
        if current is None:
            self._create(record, data, institution)
        else:
            self._update(record, data, current, institution)

    def _check_dates(self, data: FilingHistoryRecord, institution: Institution) -> None:
        history_rules.check_not_future("accepted_at", data.accepted_at, self.now)
        history_rules.check_after_opening(institution, "accepted_at", clock.china_date(data.accepted_at))
        if data.revoked_at is not None:
            history_rules.check_not_future("revoked_at", data.revoked_at, self.now)
            history_rules.check_order("accepted_at", data.accepted_at, "revoked_at", data.revoked_at)

    def _audit_extra(self, record: BulkRecord[Any]) -> dict[str, Any]:
        return {"via": VIA, "source_system": self.source_system, "external_id": record.external_id}

    def _create(
        self, record: BulkRecord[FilingHistoryRecord], data: FilingHistoryRecord, institution: Institution
    ) -> None:
        content = data.model_dump(include=set(service.CONTENT_FIELDS), exclude_none=True)
        content["documents"] = sorted(str(doc) for doc in content.get("documents", []))
        filing = Filing(
            id=self.new_id(record),
            institution_id=institution.id,
            region_code=institution.region_code,
            ws218_kind_code=UNIT_KIND_CODES[data.unit_kind],
            state=FilingState.accepted,
            revision=1,
            filing_no=data.filing_no or service.filing_no_for(institution.region_code, data.accepted_at),
            accepted_at=data.accepted_at,
            source_system=self.source_system,
            external_id=record.external_id,
            **{"doctors": 0, "nurses": 0, **content},
        )
        missing = service.missing_items(filing)
        if missing:
            raise FilingIncomplete(missing)
        self.session.add(filing)
        extra = self._audit_extra(record)
        service.add_event(
            self.session,
            self.principal,
            filing,
            action="submit",
            from_state=None,
            changes={key: str(value) if hasattr(value, "value") else value for key, value in content.items()},
            occurred_at=data.accepted_at,
            audit_extra=extra,
        )
        if data.state is FilingState.revoked:
            self._revoke(filing, data, extra)
        if filing.state is FilingState.accepted and not institution.has_medical_unit:
            self.touched[institution.id] = institution
        record.written(BulkOutcome.created, id=filing.id, version=1)

    def _revoke(self, filing: Filing, data: FilingHistoryRecord, extra: dict[str, Any]) -> None:
        service.ensure_allowed(filing, "revoke")
        filing.state = FilingState.revoked
        filing.state_reason = data.revoke_reason
        filing.revoked_at = data.revoked_at
        service.add_event(
            self.session,
            self.principal,
            filing,
            action="revoke",
            from_state=FilingState.accepted,
            reason=data.revoke_reason,
            occurred_at=data.revoked_at,
            audit_extra=extra,
        )

    def _update(
        self,
        record: BulkRecord[FilingHistoryRecord],
        data: FilingHistoryRecord,
        current: Filing,
        institution: Institution,
    ) -> None:
        fixed = [
            name
            for name, differs in (
                ("institution_id", current.institution_id != data.institution_id),
                ("filing_no", data.filing_no is not None and data.filing_no != current.filing_no),
                ("accepted_at", current.accepted_at != data.accepted_at),
            )
            if differs
        ]
        if fixed:
            raise FilingHistoryFixed(fixed)
        content = FilingContent.model_validate(
            data.model_dump(include=set(service.CONTENT_FIELDS), exclude_unset=True)
        )
        changes = service.content_changes(current, content)
        revoke = data.state is FilingState.revoked and current.state is not FilingState.revoked
        revocation_differs = data.state is FilingState.revoked and (
            current.revoked_at != data.revoked_at or current.state_reason != data.revoke_reason
        )
        if current.state is FilingState.revoked and data.state is not FilingState.revoked:
            raise IllegalTransition(entity="备案", state=current.state.value, action="accept", allowed=())
        if not changes and not revoke and not revocation_differs:
            record.written(BulkOutcome.unchanged, id=current.id, version=current.version)
            return
        if changes or (revocation_differs and not revoke):
            service.ensure_allowed(current, "correct")  # a revoked filing is final
        extra = self._audit_extra(record)
        if changes:
            probe = Filing(
                person_in_charge=current.person_in_charge,
                doctors=current.doctors,
                nurses=current.nurses,
                documents=current.documents,
            )
            service.apply_changes(probe, {k: v for k, v in changes.items() if k != "unit_kind"})
            missing = service.missing_items(probe)
            if missing:
                raise FilingIncomplete(missing)
            diff = service.apply_changes(current, changes)
            current.revision += 1
            service.add_event(
                self.session,
                self.principal,
                current,
                action="correct",
                from_state=current.state,
                changes=diff,
                occurred_at=self.now,
                audit_extra=extra,
            )
        if revoke:
            self._revoke(current, data, extra)
            if institution.has_medical_unit:
                self.touched[institution.id] = institution
        record.written(BulkOutcome.updated, id=current.id, version=current.version + 1)


async def import_history(
    session: AsyncSession,
    principal: Principal,
    request: FilingBulkRequest,
    *,
    now: datetime,
    max_records: int,
    new_id: NewId = _random_id,
) -> BulkResponse:
    """Create, correct, revoke or leave unchanged each past filing keyed by (source_system, external_id)."""
    batch = open_batch(request.source_system, request.records, max_records=max_records)
    batch.validate(FilingHistoryRecord, exclude=())
    batch.reject_duplicates(lambda r: r.data.filing_no if r.data else None, "filing_no")
    live = [cast(FilingHistoryRecord, r.data) for r in batch.live()]
    institution_ids = {data.institution_id for data in live}
    found: dict[uuid.UUID, Institution] = {}
    if institution_ids:
        rows = await session.scalars(select(Institution).where(Institution.id.in_(institution_ids)))
        found = {row.id: row for row in rows}
    keys = [r.external_id for r in batch.live() if r.external_id]
    existing: dict[str, Filing] = {}
    if keys:
        rows_f = await session.scalars(
            select(Filing)
            .where(Filing.source_system == request.source_system, Filing.external_id.in_(keys))
            .with_for_update()
        )
        existing = {row.external_id or "": row for row in rows_f}
    numbers = [data.filing_no for data in live if data.filing_no]
    owners: dict[str, uuid.UUID] = {}
    if numbers:
        pairs = await session.execute(
            select(Filing.filing_no, Filing.id).where(Filing.filing_no.in_(numbers))
        )
        owners = {number: id_ for number, id_ in pairs.all() if number}
    work = _Import(
        session=session,
        principal=principal,
        source_system=request.source_system,
        now=now,
        institutions=found,
        existing=existing,
        filing_no_owners=owners,
        new_id=new_id,
    )
    batch.check(work.check)
    await session.flush()
    for institution in work.touched.values():
        await institutions.refresh_has_medical_unit(session, principal, institution)
    return batch.response()
