"""The historical import of home beds (``POST /home-beds/bulk``): past episodes with their original dates.

A province (or a city platform joining with years of legacy records) pushes each episode whole: the
application's facts, the assessment, the opening (care plan, consent, round interval), the re-assessment
of each period, the 查床 rounds and, when it ended, the closing. Keyed by ``(source_system,
external_id)`` on the common bulk protocol (:mod:`libs.common.bulk`).

The single steps' rules, called here, not copied: the provider runs home beds
(:func:`service.check_home_bed_provider`), the person qualifies (:func:`service.qualification_gaps` — an
episode that was opened must have qualified), every assessment, opening, re-assessment and round is by an
active doctor of the provider (:func:`service.is_provider_doctor`, 403 ``doctor_required`` in the single
steps), rounds lie between opening and today (:func:`service.check_round_date`), the closing is not
before the opening (:func:`service.check_closed_date`), a period runs ``home_bed_period_days`` from the
opening or the last re-assessment (:func:`service.period_end`), one episode at a time per person
(``home_bed_exists``). On top, the dates of a past record: none in the future (``date_in_future``), each
step not before the one it follows (``dates_out_of_order``).

Load, then check, then write: the practitioners are asked of the registry before the transaction opens
(:func:`fetch_practitioners`, concurrently, once per distinct doctor); providers, recipients, keys, the
recipients' other episodes, record numbers and stored rounds are read for the whole batch in a few
statements; each record is checked in memory; only the accepted ones are written (ORM unit of work:
batched INSERTs, the change feed from the flush — its payload carries the original dates — and one audit
record per created or updated episode, ``home_bed.create`` / ``home_bed.update`` with ``via``).
A replayed record is ``unchanged`` (a digest of the record is kept in ``home_bed_source``) and writes
nothing. An update may add rounds and re-assessments or close the episode; it may not change the
provider or the person (``immutable_field``), reopen a closed episode (``home_bed_closed``) or drop a
stored round (``round_removed``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import changes
from libs.common.auth import Principal
from libs.common.bulk import Batch, BulkOutcome, BulkRecord, audit_written
from libs.common.errors import Conflict, FieldError, Forbidden
from libs.common.models import ChangeTracked, utcnow
from libs.common.scope import visible_condition
from services.homecare import clock
from services.homecare.clients.registry import PractitionerInfo
from services.homecare.home_beds import service
from services.homecare.home_beds.errors import (
    DateInFuture,
    DatesOutOfOrder,
    HomeBedClosedFinal,
    HomeBedNotQualified,
    ImmutableHomeBedField,
    RecordNoExists,
    RoundRemoved,
)
from services.homecare.home_beds.models import HomeBed, HomeBedRound, HomeBedSource, HomeBedStatus
from services.homecare.home_beds.schemas import HomeBedHistoryAssessment, HomeBedHistoryRecord
from services.homecare.providers.models import Provider
from services.homecare.recipients.errors import RecipientNotFound
from services.homecare.recipients.models import Recipient
from services.homecare.regions import RegionNotAllowed
from services.homecare.settings import HomecareSettings

S = HomeBedStatus
ENTITY = "home_bed"
_ROUND_NAMESPACE = uuid.UUID("6d1f3c8e-2f4a-5b7c-9e0d-1a2b3c4d5e6f")


class PractitionerSource(Protocol):
    """Where the practitioners come from: the registry client (or, for the demo, its demo province)."""

    async def get_practitioner(self, practitioner_id: uuid.UUID) -> PractitionerInfo | None: ...


def validate(batch: Batch[HomeBedHistoryRecord]) -> None:
    batch.validate(HomeBedHistoryRecord, exclude=())


def practitioner_ids(batch: Batch[HomeBedHistoryRecord]) -> set[uuid.UUID]:
    wanted: set[uuid.UUID] = set()
    for record in batch.live():
        data = _data(record)
        wanted |= {a.practitioner_id for a in [data.assessment, *data.reassessments]}
        wanted |= {data.opening.practitioner_id} | {r.practitioner_id for r in data.rounds}
    return wanted


async def fetch_practitioners(
    registry: PractitionerSource, ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, PractitionerInfo]:
    """The practitioners a batch names (once each), asked before the request's transaction opens: a
    registry failure fails the request with 502/504 before anything is read or written. One after the
    other: a batch names the few doctors of its providers, and the registry is not flooded."""
    found: dict[uuid.UUID, PractitionerInfo] = {}
    for practitioner_id in sorted(ids):
        info = await registry.get_practitioner(practitioner_id)
        if info is not None:
            found[info.id] = info
    return found


def _data(record: BulkRecord[HomeBedHistoryRecord]) -> HomeBedHistoryRecord:
    assert record.data is not None
    return record.data


def _digest(data: HomeBedHistoryRecord) -> str:
    dumped = data.model_dump(mode="json", exclude={"external_id"})
    return hashlib.sha256(json.dumps(dumped, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def round_record_id(
    source_system: str, external_id: str, round_date: date, practitioner_id: uuid.UUID, occurrence: int
) -> uuid.UUID:
    """The ``client_record_id`` of a round its record did not name: stable across replays."""
    key = f"{source_system}\x1f{external_id}\x1f{round_date.isoformat()}\x1f{practitioner_id}\x1f{occurrence}"
    return uuid.uuid5(_ROUND_NAMESPACE, key)


@dataclass
class _Span:
    """An episode of a person, as far as overlap goes: from its opening to its closing (open: no end)."""

    bed_id: uuid.UUID
    start: date | None  # None: applied or assessed, not opened yet
    end: date | None

    def overlaps(self, start: date, end: date | None) -> bool:
        if self.start is None:  # an application still pending blocks only an episode still open
            return end is None
        return (end is None or self.start <= end) and (self.end is None or start <= self.end)


@dataclass
class _Import:
    principal: Principal
    settings: HomecareSettings
    source_system: str
    practitioners: Mapping[uuid.UUID, PractitionerInfo]
    providers: dict[uuid.UUID, Provider]
    recipients_by_id: dict[uuid.UUID, Recipient]
    recipients_by_key: dict[str, Recipient]
    existing: dict[str, tuple[HomeBedSource, HomeBed]]
    spans: dict[uuid.UUID, list[_Span]]
    record_nos: dict[str, uuid.UUID]
    stored_rounds: dict[uuid.UUID, set[uuid.UUID]]
    today: date
    now: datetime
    new_id: Callable[[BulkRecord[HomeBedHistoryRecord]], uuid.UUID]
    written_at: datetime = field(default_factory=utcnow)
    beds: list[dict[str, Any]] = field(default_factory=list)  # new rows, one multi-row INSERT
    rounds: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)

    # ---------------------------------------------------------------------------------------- checks

    def _doctor(self, practitioner_id: uuid.UUID, provider: Provider, where: str) -> None:
        if not service.is_provider_doctor(self.practitioners.get(practitioner_id), provider.institution_id):
            raise Forbidden(
                "须由本机构医师执行",
                code="doctor_required",
                errors=[
                    FieldError(
                        field=f"body.{where}.practitioner_id", message="不是本机构在职医师", code="not_doctor"
                    )
                ],
            )

    def _past(self, value: date | datetime, where: str, label: str) -> None:
        late = value > self.now if isinstance(value, datetime) else value > self.today
        if late:
            raise DateInFuture(where, label)

    def _recipient(self, data: HomeBedHistoryRecord) -> Recipient:
        found = (
            self.recipients_by_id.get(data.recipient_id)
            if data.recipient_id is not None
            else self.recipients_by_key.get(data.recipient_external_id or "")
        )
        if found is None:
            raise RecipientNotFound()
        return found

    def _dates(self, data: HomeBedHistoryRecord) -> tuple[date, date | None]:
        """The timeline in order and in the past; returns (opened date, closed date)."""
        assessment, opening, closing = data.assessment, data.opening, data.closing
        self._past(assessment.assessed_at, "assessment.assessed_at", "评估时间")
        self._past(opening.opened_at, "opening.opened_at", "建床时间")
        self._past(opening.consent_at, "opening.consent_at", "知情同意时间")
        if opening.consent_at < assessment.assessed_at:
            raise DatesOutOfOrder("opening.consent_at", "知情同意时间", "评估时间")
        if opening.opened_at < opening.consent_at:
            raise DatesOutOfOrder("opening.opened_at", "建床时间", "知情同意时间")
        opened = clock.local_date(opening.opened_at)
        last = opening.opened_at
        for n, again in enumerate(data.reassessments):
            where = f"reassessments.{n}.assessed_at"
            self._past(again.assessed_at, where, "再评估时间")
            if again.assessed_at < last:
                raise DatesOutOfOrder(where, "再评估时间", "建床时间或上一次再评估")
            last = again.assessed_at
        closed: date | None = None
        if closing is not None:
            self._past(closing.closed_at, "closing.closed_at", "撤床时间")
            closed = clock.local_date(closing.closed_at)
            service.check_closed_date(closed, opened)
            if closing.closed_at < last:
                raise DatesOutOfOrder("closing.closed_at", "撤床时间", "最后一次再评估")
        for day in (r.round_date for r in data.rounds):
            service.check_round_date(day, opened, closed or self.today)
        return opened, closed

    def _round_ids(self, record: BulkRecord[HomeBedHistoryRecord]) -> list[uuid.UUID]:
        seen: dict[tuple[date, uuid.UUID], int] = defaultdict(int)
        ids = []
        for r in _data(record).rounds:
            occurrence = seen[(r.round_date, r.practitioner_id)]
            seen[(r.round_date, r.practitioner_id)] += 1
            ids.append(
                r.client_record_id
                or round_record_id(
                    self.source_system, record.external_id or "", r.round_date, r.practitioner_id, occurrence
                )
            )
        return ids

    def check(self, record: BulkRecord[HomeBedHistoryRecord]) -> None:
        """The rules of the single steps for one past episode, then its write queued (a ``DomainError``
        rejects the record before anything is queued)."""
        data = _data(record)
        provider = service.check_home_bed_provider(self.providers.get(data.institution_id))
        recipient = self._recipient(data)
        for region in (provider.region_code, recipient.region_code):
            if not self.principal.scope.contains(region):
                raise RegionNotAllowed("家庭病床的机构或服务对象不在您的管辖范围内")
        stored = self.existing.get(record.external_id or "")
        digest = _digest(data)
        if stored is not None and stored[0].source_hash == digest:
            record.written(BulkOutcome.unchanged, id=stored[1].id, version=stored[1].version)
            return
        gaps = service.qualification_gaps(data, self.settings)
        if gaps:
            raise HomeBedNotQualified(gaps)
        self._doctor(data.assessment.practitioner_id, provider, "assessment")
        self._doctor(data.opening.practitioner_id, provider, "opening")
        for n, again in enumerate(data.reassessments):
            self._doctor(again.practitioner_id, provider, f"reassessments.{n}")
        for n, r in enumerate(data.rounds):
            self._doctor(r.practitioner_id, provider, f"rounds.{n}")
        opened, closed = self._dates(data)
        bed_id = stored[1].id if stored is not None else None
        for span in self.spans.get(recipient.id, []):
            if span.bed_id != bed_id and span.overlaps(opened, closed):
                raise Conflict(
                    "该服务对象同期已有家庭病床",
                    code="home_bed_exists",
                    extra={"home_bed_id": str(span.bed_id)},
                )
        if data.record_no is not None and self.record_nos.get(data.record_no, bed_id) != bed_id:
            raise RecordNoExists()
        round_ids = self._round_ids(record)
        if stored is None:
            self._create(record, data, provider, recipient, round_ids, digest)
        else:
            self._update(record, data, provider, recipient, stored, round_ids, digest)
        assert record.id is not None
        self.spans.setdefault(recipient.id, []).append(_Span(record.id, opened, closed))
        if data.record_no is not None:
            self.record_nos[data.record_no] = record.id

    # ---------------------------------------------------------------------------------------- writes

    def _values(self, data: HomeBedHistoryRecord, opened: date) -> dict[str, Any]:
        """The bed's columns as the single steps leave them: the last assessment (the opening's, or the
        last re-assessment's, which starts the current period) and the closing."""
        last: HomeBedHistoryAssessment = data.reassessments[-1] if data.reassessments else data.assessment
        again = bool(data.reassessments)
        closing = data.closing
        assessment: dict[str, Any] = {"qualified": True, "gaps": [], "note": last.note}
        if again:
            assessment["reassessment"] = True
        return {
            "status": S.closed if closing is not None else S.opened,
            "diagnosis": data.diagnosis,
            "condition_stable": data.condition_stable,
            "mobility": data.mobility,
            "conditions": [c.value for c in data.conditions],
            "has_family_doctor_contract": data.has_family_doctor_contract,
            "application_note": data.application_note,
            "assessed_at": last.assessed_at,
            "assessed_by_practitioner_id": last.practitioner_id,
            "assessment": assessment,
            "opened_at": data.opening.opened_at,
            "opened_date": opened,
            "opened_by_practitioner_id": data.opening.practitioner_id,
            "care_plan": data.opening.care_plan,
            "consent_at": data.opening.consent_at,
            "round_interval_days": data.opening.round_interval_days
            or self.settings.home_bed_round_interval_days,
            "period_end_date": service.period_end(
                clock.local_date(last.assessed_at) if again else opened, self.settings
            ),
            "last_round_date": max((r.round_date for r in data.rounds), default=None),
            "reassessment_count": len(data.reassessments),
            "closed_at": closing.closed_at if closing else None,
            "closed_date": clock.local_date(closing.closed_at) if closing else None,
            "close_reason": closing.reason if closing else None,
            "close_summary": closing.summary if closing else None,
        }

    def _audited(self, values: Mapping[str, Any], rounds: int) -> dict[str, Any]:
        """What the audit record says of the episode (no health data: diagnosis, plan, summary)."""
        keys = (
            "status",
            "opened_date",
            "closed_date",
            "close_reason",
            "reassessment_count",
            "period_end_date",
        )
        shown = {k: getattr(values[k], "value", values[k]) for k in keys}
        return {
            **{k: v.isoformat() if isinstance(v, date) else v for k, v in shown.items()},
            "rounds": rounds,
        }

    def _stamps(self) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "version": 1,
            "created_at": self.written_at,
            "updated_at": self.written_at,
        }

    def _round_rows(
        self,
        bed: Mapping[str, Any],
        data: HomeBedHistoryRecord,
        ids: list[uuid.UUID],
        skip: Collection[uuid.UUID],
    ) -> list[dict[str, Any]]:
        return [
            {
                **self._stamps(),
                "home_bed_id": bed["id"],
                "institution_id": bed["institution_id"],
                "region_code": bed["region_code"],
                "practitioner_id": r.practitioner_id,
                "client_record_id": rid,
                "round_date": r.round_date,
                "findings": r.findings,
                "orders_text": r.orders_text,
            }
            for r, rid in zip(data.rounds, ids, strict=True)
            if rid not in skip
        ]

    def _create(
        self,
        record: BulkRecord[HomeBedHistoryRecord],
        data: HomeBedHistoryRecord,
        provider: Provider,
        recipient: Recipient,
        round_ids: list[uuid.UUID],
        digest: str,
    ) -> None:
        opened = clock.local_date(data.opening.opened_at)
        values = self._values(data, opened)
        bed = {
            **self._stamps(),
            "id": self.new_id(record),
            "record_no": data.record_no or f"JTBC-{opened:%Y%m%d}-{uuid.uuid4().hex[:8].upper()}",
            "institution_id": provider.institution_id,
            "provider_name": provider.institution_name,
            "region_code": recipient.region_code,
            "recipient_id": recipient.id,
            "applied_by_sub": self.principal.sub,
            **values,
        }
        self.beds.append(bed)
        self.rounds += self._round_rows(bed, data, round_ids, ())
        self.sources.append(
            {
                "id": uuid.uuid4(),
                "home_bed_id": bed["id"],
                "source_system": self.source_system,
                "external_id": record.external_id,
                "source_hash": digest,
                "created_at": self.written_at,
                "updated_at": self.written_at,
            }
        )
        record.written(
            BulkOutcome.created, id=bed["id"], version=1, changes=self._audited(values, len(data.rounds))
        )

    def _update(
        self,
        record: BulkRecord[HomeBedHistoryRecord],
        data: HomeBedHistoryRecord,
        provider: Provider,
        recipient: Recipient,
        stored: tuple[HomeBedSource, HomeBed],
        round_ids: list[uuid.UUID],
        digest: str,
    ) -> None:
        source, bed = stored
        if bed.institution_id != provider.institution_id or bed.recipient_id != recipient.id:
            raise ImmutableHomeBedField()
        if bed.status is S.closed and data.closing is None:
            raise HomeBedClosedFinal()
        held = self.stored_rounds.get(bed.id, set())
        missing = held - set(round_ids)
        if missing:
            raise RoundRemoved(len(missing))
        values = self._values(data, clock.local_date(data.opening.opened_at))
        if data.record_no is not None:
            values["record_no"] = data.record_no
        before = {k: getattr(bed, k) for k in values}
        for key, value in values.items():
            setattr(bed, key, value)
        self.rounds += self._round_rows(
            {"id": bed.id, "institution_id": bed.institution_id, "region_code": bed.region_code},
            data,
            round_ids,
            held,
        )
        source.source_hash = digest
        changed = {k: v for k, v in self._audited(values, len(data.rounds)).items()}
        changed["changed"] = sorted(k for k in values if before[k] != values[k])
        record.written(BulkOutcome.updated, id=bed.id, version=bed.version + 1, changes=changed)


async def upsert(
    session: AsyncSession,
    principal: Principal,
    settings: HomecareSettings,
    batch: Batch[HomeBedHistoryRecord],
    practitioners: Mapping[uuid.UUID, PractitionerInfo],
    *,
    today: date | None = None,
    now: datetime | None = None,
    new_id: Callable[[BulkRecord[HomeBedHistoryRecord]], uuid.UUID] | None = None,
) -> None:
    """Check and write a validated batch (:func:`validate`; practitioners from :func:`fetch_practitioners`).

    ``new_id`` chooses the id of a new episode (a fresh UUID by default; the demo keeps its demo ids).
    """
    live = [_data(r) for r in batch.live()]
    keys = [r.external_id for r in batch.live() if r.external_id]
    work = _Import(
        principal=principal,
        settings=settings,
        source_system=batch.source_system,
        practitioners=practitioners,
        providers=await _providers(session, {d.institution_id for d in live}),
        recipients_by_id=await _recipients_by_id(
            session, principal, {d.recipient_id for d in live if d.recipient_id}
        ),
        recipients_by_key=await _recipients_by_key(
            session,
            principal,
            batch.source_system,
            {d.recipient_external_id for d in live if d.recipient_external_id},
        ),
        existing=await _existing(session, batch.source_system, keys),
        spans={},
        record_nos={},
        stored_rounds={},
        today=today or clock.today(),
        now=now or clock.now(),
        new_id=new_id or (lambda _record: uuid.uuid4()),
    )
    beds = [bed for _source, bed in work.existing.values()]
    person_ids = {r.id for r in work.recipients_by_id.values()} | {
        r.id for r in work.recipients_by_key.values()
    }
    work.spans = await _spans(session, person_ids)
    work.record_nos = await _record_nos(session, {d.record_no for d in live if d.record_no})
    work.stored_rounds = await _stored_rounds(session, [b.id for b in beds])
    batch.check(work.check)
    await session.flush()  # the updated episodes (ORM: version-checked, in the feed from the flush)
    # the new ones in multi-row INSERTs; the feed entries queued as the ORM flush would queue them
    for model, rows in ((HomeBed, work.beds), (HomeBedRound, work.rounds), (HomeBedSource, work.sources)):
        if rows:
            await session.execute(insert(_table(model)), rows)
    for model, rows in ((HomeBed, work.beds), (HomeBedRound, work.rounds)):
        for row in rows:
            entity = model(**row)
            assert isinstance(entity, ChangeTracked)
            changes.track(session, entity, previous_scope=None)
    audit_written(session, principal, batch, entity_type=ENTITY)


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


# ------------------------------------------------------------------------------------ batch look-ups


async def _providers(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Provider]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(select(Provider).where(Provider.institution_id.in_(wanted)))
    return {p.institution_id: p for p in rows}


async def _recipients_by_id(
    session: AsyncSession, principal: Principal, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Recipient]:
    """The recipients the caller may see (another's are "not found", as ``GET /recipients/{id}``)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(
        select(Recipient).where(
            Recipient.id.in_(wanted),
            visible_condition(principal, Recipient.region_code, Recipient.institution_id),
        )
    )
    return {r.id: r for r in rows}


async def _recipients_by_key(
    session: AsyncSession, principal: Principal, source_system: str, keys: Iterable[str]
) -> dict[str, Recipient]:
    wanted = list(set(keys))
    if not wanted:
        return {}
    rows = await session.scalars(
        select(Recipient).where(
            Recipient.source_system == source_system,
            Recipient.external_id.in_(wanted),
            visible_condition(principal, Recipient.region_code, Recipient.institution_id),
        )
    )
    return {r.external_id or "": r for r in rows}


async def _existing(
    session: AsyncSession, source_system: str, keys: list[str]
) -> dict[str, tuple[HomeBedSource, HomeBed]]:
    if not keys:
        return {}
    rows = await session.execute(
        select(HomeBedSource, HomeBed)
        .join(HomeBed, HomeBed.id == HomeBedSource.home_bed_id)
        .where(HomeBedSource.source_system == source_system, HomeBedSource.external_id.in_(keys))
    )
    return {source.external_id: (source, bed) for source, bed in rows}


async def _spans(session: AsyncSession, person_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[_Span]]:
    """The stored episodes of the batch's people that can overlap (withdrawn and refused ones cannot)."""
    spans: dict[uuid.UUID, list[_Span]] = defaultdict(list)
    if not person_ids:
        return spans
    rows = await session.execute(
        select(HomeBed.id, HomeBed.recipient_id, HomeBed.opened_date, HomeBed.closed_date).where(
            HomeBed.recipient_id.in_(list(person_ids)),
            HomeBed.status.in_([S.applied.value, S.assessed.value, S.opened.value, S.closed.value]),
        )
    )
    for bed_id, person, opened, closed in rows:
        spans[person].append(_Span(bed_id, opened, closed))
    return spans


async def _record_nos(session: AsyncSession, numbers: set[str]) -> dict[str, uuid.UUID]:
    if not numbers:
        return {}
    rows = await session.execute(
        select(HomeBed.record_no, HomeBed.id).where(HomeBed.record_no.in_(list(numbers)))
    )
    return dict(rows.all())


async def _stored_rounds(session: AsyncSession, bed_ids: list[uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
    held: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    if not bed_ids:
        return held
    rows = await session.execute(
        select(HomeBedRound.home_bed_id, HomeBedRound.client_record_id).where(
            HomeBedRound.home_bed_id.in_(bed_ids)
        )
    )
    for bed_id, record_id in rows:
        held[bed_id].add(record_id)
    return held
