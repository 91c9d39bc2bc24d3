"""Historical import of past orders (``POST /orders/history/bulk``): a city platform joining with years of
records, or the province loading them, on the platform's bulk protocol (:mod:`libs.common.bulk`), keyed
by ``(source_system, external_id)``.

A record is a past order in a final state (completed, rated, cancelled) with its ORIGINAL times, and it
is checked by THE SAME rules as the single writes, with the look-ups loaded for the whole batch:

- placing it: :func:`placement.check` (``POST /orders``: provider, recipient, service address and its
  county for the writer, catalog items the provider offers, the window's length); as a past order its
  window may have passed, and a home bed it names must have been open on that day at that provider for
  that recipient (``home_bed_not_open``);
- its assessment: :func:`lifecycle.check_service_group` on the day it was assessed, and a doctor of the
  provider (:func:`lifecycle.check_doctor`) when an item is high-risk or needs a 医嘱;
- its nurse: :func:`lifecycle.check_nurse_for` (``assign``: a nurse of the provider, active,
  homecare-eligible — registered, ≥ 5 years — 护师 or above, each item's title and training), the
  registry asked once for the whole batch before the transaction opens;
- its visit record: :func:`visits.check_items_done` and the columns the nurse app's record gets;
- its times: none in the future (``history_in_future``), each step not before the one it follows
  (``history_out_of_order``): submitted ≤ assessed ≤ accepted ≤ assigned ≤ departed ≤ checked in ≤
  started ≤ checked out ≤ completed ≤ rated, cancelled after the last step reached, the visit record
  written between check-in and completion, an SOS between departure and the end and resolved after, a
  complaint after submission and resolved after it was filed.

Nothing is written before every record is checked; then the rows of the batch are bulk INSERTs (orders,
items, the event log with each step at its original time, visit records, ratings, SOS alerts,
complaints), each row gets its change-feed entry in that order (the payload carries the original times),
and each written entity its audit record (``via: history_import``). An imported order is a record of the
past: the same record again is ``unchanged`` (a replayed batch writes nothing), a different one under
the same key is rejected (``history_already_imported``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.bulk import Batch, BulkOutcome, BulkRecord, audit_written
from libs.common.models import utcnow
from libs.common.person_index import PersonIndex
from libs.common.personal_data import PersonalDataCipher
from services.homecare import clock
from services.homecare.clients.registry import PractitionerInfo
from services.homecare.clients.residents import DisabilityBasis, ResidentsClient
from services.homecare.orders import fees, lifecycle, placement
from services.homecare.orders.complaints.models import Complaint, ComplaintStatus
from services.homecare.orders.models import Order, OrderEvent, OrderItem, OrderStatus, Rating, ServiceGroup
from services.homecare.orders.service import ORDER_PERSONAL_FIELDS
from services.homecare.orders.sos.models import SosAlert
from services.homecare.orders.visits import service as visits
from services.homecare.orders.visits.models import VisitRecord
from services.homecare.recipients import identity
from services.homecare.recipients.models import Recipient
from services.homecare.settings import HomecareSettings
from services.homecare.sync.errors import (
    HistoryAlreadyImported,
    HistoryInFuture,
    HistoryOutOfOrder,
    VisitRecordIdTaken,
)
from services.homecare.sync.history_schemas import STEPS, FinalStatus, OrderHistoryRecord
from services.homecare.sync.service import _data, _table, _track, named_recipients

VIA = "history_import"
S = OrderStatus
#: the event each timeline step writes to the order's log: (action, from status, to status)
STEP_EVENTS: dict[str, tuple[str, OrderStatus | None, OrderStatus]] = {
    "submitted_at": ("submit", None, S.submitted),
    "assessed_at": ("assess", S.submitted, S.assessed),
    "accepted_at": ("accept", S.assessed, S.accepted),
    "assigned_at": ("assign", S.accepted, S.assigned),
    "departed_at": ("depart", S.assigned, S.en_route),
    "checked_in_at": ("check-in", S.en_route, S.checked_in),
    "started_at": ("start", S.checked_in, S.in_service),
    "checked_out_at": ("check-out", S.in_service, S.checked_out),
    "completed_at": ("complete", S.checked_out, S.completed),
}
#: the steps a nurse takes (their events carry the nurse)
NURSE_STEPS = frozenset({"departed_at", "checked_in_at", "started_at", "checked_out_at"})


class PractitionerSource(Protocol):
    """Who answers for practitioners: the registry client, or an in-process stand-in (the demo's)."""

    async def practitioners_of(
        self, institution_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, PractitionerInfo]: ...


def fingerprint(data: OrderHistoryRecord) -> str:
    """What a record says, as a digest: the same record again is ``unchanged``."""
    body = data.model_dump(mode="json", exclude={"external_id"})
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# ------------------------------------------------------------------------------------------ times


def _moments(data: OrderHistoryRecord) -> list[tuple[str, datetime]]:
    """The order's steps that happened, in the order they must have happened."""
    t = data.timeline
    steps = [(f"timeline.{name}", at) for name in STEPS if (at := getattr(t, name)) is not None]
    if data.status is FinalStatus.cancelled and t.cancelled_at is not None:
        steps.append(("timeline.cancelled_at", t.cancelled_at))
    if data.rating is not None:
        steps.append(("rating.rated_at", data.rating.rated_at))
    return steps


def check_times(data: OrderHistoryRecord, *, now: datetime) -> None:
    """None of the record's times in the future, each step not before the one it follows."""
    t = data.timeline
    chain = _moments(data)
    extra: list[tuple[str, datetime]] = []
    if data.visit_record is not None and data.visit_record.recorded_at is not None:
        extra.append(("visit_record.recorded_at", data.visit_record.recorded_at))
    if data.sos is not None:
        extra += [("sos.raised_at", data.sos.raised_at), ("sos.resolved_at", data.sos.resolved_at)]
    if data.complaint is not None:
        extra.append(("complaint.filed_at", data.complaint.filed_at))
        if data.complaint.resolved_at is not None:
            extra.append(("complaint.resolved_at", data.complaint.resolved_at))
    for field, at in chain + extra:
        if at > now:
            raise HistoryInFuture(field)
    for (before, earlier), (field, later) in zip(chain, chain[1:], strict=False):
        if later < earlier:
            raise HistoryOutOfOrder(field, before)
    visit = data.visit_record
    if visit is not None and visit.recorded_at is not None:
        _within("visit_record.recorded_at", visit.recorded_at, ("timeline.checked_in_at", t.checked_in_at))
        _not_after("visit_record.recorded_at", visit.recorded_at, ("timeline.completed_at", t.completed_at))
    if data.sos is not None:
        _within("sos.raised_at", data.sos.raised_at, ("timeline.departed_at", t.departed_at))
        end = (
            ("timeline.checked_out_at", t.checked_out_at)
            if t.checked_out_at
            else ("timeline.cancelled_at", t.cancelled_at)
        )
        _not_after("sos.raised_at", data.sos.raised_at, end)
        _within("sos.resolved_at", data.sos.resolved_at, ("sos.raised_at", data.sos.raised_at))
    if data.complaint is not None:
        _within("complaint.filed_at", data.complaint.filed_at, ("timeline.submitted_at", t.submitted_at))
        if data.complaint.resolved_at is not None:
            _within(
                "complaint.resolved_at",
                data.complaint.resolved_at,
                ("complaint.filed_at", data.complaint.filed_at),
            )


def _within(field: str, at: datetime, start: tuple[str, datetime | None]) -> None:
    """``at`` not before ``start`` (a missing start: the step it needs never happened)."""
    name, moment = start
    if moment is None or at < moment:
        raise HistoryOutOfOrder(field, name)


def _not_after(field: str, at: datetime, end: tuple[str, datetime | None]) -> None:
    name, moment = end
    if moment is not None and at > moment:
        raise HistoryOutOfOrder(name, field)


# ---------------------------------------------------------------------------------------- the rows


@dataclass
class _Rows:
    orders: list[dict[str, Any]]
    items: list[dict[str, Any]]
    events: list[dict[str, Any]]
    visits: list[dict[str, Any]]
    ratings: list[dict[str, Any]]
    sos: list[dict[str, Any]]
    complaints: list[dict[str, Any]]


DisabilityOn = Callable[[Recipient, date], DisabilityBasis | None]


async def _disability_lookup(
    residents: ResidentsClient | None,
    cipher: PersonalDataCipher,
    live: Iterable[BulkRecord[OrderHistoryRecord]],
    recipient_by_id: dict[uuid.UUID, Recipient],
    recipient_by_ext: dict[str | None, Recipient],
) -> DisabilityOn:
    """The disability of each recipient on a past day, for the records assessed as 失能、失智、行动不便者:
    the persons' assessments asked of the residents once for the whole batch (the unlinked recipients'
    persons found by ID number first), judged per record on its assessed day (clients/residents.py)."""
    named: dict[uuid.UUID, Recipient] = {}
    for record in live:
        data = _data(record)
        if (
            data.service_group is not ServiceGroup.frail_disabled_demented
            or data.timeline.assessed_at is None
        ):
            continue
        recipient = (
            recipient_by_id.get(data.recipient_id)
            if data.recipient_id
            else recipient_by_ext.get(data.recipient_external_id or "")
        )
        if recipient is not None:
            named[recipient.id] = recipient
    if residents is None or not named:
        return lambda _recipient, _day: None
    numbers: dict[uuid.UUID, str] = {}
    for r in named.values():
        number = cipher.decrypt(r.id_number_enc) if r.person_id is None else None
        if number is not None:
            numbers[r.id] = number
    found = await residents.persons_by_id_number(numbers.values())
    person_of = {
        r.id: r.person_id if r.person_id is not None else found.get(numbers.get(r.id, ""))
        for r in named.values()
    }
    assessments = await residents.assessments_of(p for p in person_of.values() if p is not None)

    def on(recipient: Recipient, day: date) -> DisabilityBasis | None:
        person_id = person_of.get(recipient.id)
        held = assessments.get(person_id, []) if person_id is not None else []
        return DisabilityBasis.on_day(held, day, recipient.disability_level, recipient.dementia)

    return on


def _home(persons: dict[uuid.UUID, identity.Identity], recipient: Recipient | None) -> str | None:
    """The linked recipient's home address (its person's), for an order without its own."""
    person = persons.get(recipient.id) if recipient is not None else None
    return person.address if person is not None else None


def _visit_record_id(record: BulkRecord[OrderHistoryRecord]) -> uuid.UUID | None:
    visit = _data(record).visit_record
    return visit.record_id if visit is not None else None


def _status_reached(data: OrderHistoryRecord) -> OrderStatus:
    """The state the order was in when it was cancelled (the last step reached)."""
    reached = S.submitted
    for name, (_action, _from, to) in STEP_EVENTS.items():
        if getattr(data.timeline, name) is not None:
            reached = to
    return reached


async def import_orders(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    settings: HomecareSettings,
    registry: PractitionerSource,
    batch: Batch[OrderHistoryRecord],
    *,
    new_id: Callable[[str], uuid.UUID] | None = None,
    residents: ResidentsClient | None = None,
    index: PersonIndex | None = None,
) -> None:
    """Check and write a batch of past orders (see the module docstring). The registry is asked first,
    once, before the session runs a statement. ``new_id``: the id a new order gets from its external id
    (an in-process loader keeping its own ids, e.g. the demo's); a random one otherwise. ``residents``:
    the residents service, asked once per person the batch's 失能 group orders name (without it — an
    in-process loader — the declared level decides). ``index``: the person index the linked recipients'
    home addresses and birth dates are read from (one call a batch; 503 when down)."""
    batch.validate(OrderHistoryRecord, exclude=())
    live = list(batch.live())
    if not live:
        return
    # the providers whose nurses or doctors the batch names: their practitioners, asked once
    wanted = {
        institution_id
        for r in live
        if (institution_id := _data(r).institution_id) is not None
        and (_data(r).nurse_practitioner_id or _data(r).assessed_by_practitioner_id)
    }
    practitioners = await registry.practitioners_of(wanted) if wanted else {}

    batch.reject_duplicates(_visit_record_id, "visit_record.record_id")
    live = list(batch.live())
    given_record_ids = [i for r in live if (i := _visit_record_id(r)) is not None]
    taken_record_ids = (
        set(
            (
                await session.scalars(
                    select(VisitRecord.record_id).where(VisitRecord.record_id.in_(given_record_ids))
                )
            ).all()
        )
        if given_record_ids
        else set()
    )

    source_system = batch.source_system
    recipient_by_id, recipient_by_ext = await named_recipients(session, principal, source_system, live)
    disability_on = await _disability_lookup(residents, cipher, live, recipient_by_id, recipient_by_ext)
    persons = await identity.of_linked(
        index,
        cipher,
        {**recipient_by_id, **{r.id: r for r in recipient_by_ext.values()}}.values(),
        principal=principal,
        purpose="POST orders/history",
    )
    lookups = await placement.load(
        session,
        institution_ids=[i for r in live if (i := _data(r).institution_id) is not None],
        item_codes=[c for r in live for c in _data(r).item_codes],
        home_bed_ids=[b for r in live if (b := _data(r).home_bed_id) is not None],
    )
    existing = {
        row.external_id: row
        for row in await session.execute(
            select(Order.id, Order.external_id, Order.version, OrderEvent.detail)
            .outerjoin(OrderEvent, (OrderEvent.order_id == Order.id) & (OrderEvent.action == "submit"))
            .where(Order.source_system == source_system, Order.external_id.in_([r.external_id for r in live]))
        )
    }

    now = utcnow()
    moment = clock.now()
    rows = _Rows([], [], [], [], [], [], [])
    sub_entities: list[tuple[str, str, uuid.UUID, dict[str, Any]]] = []

    def one(record: BulkRecord[OrderHistoryRecord]) -> None:
        data = _data(record)
        digest = fingerprint(data)
        current = existing.get(record.external_id)
        if current is not None:
            if (current.detail or {}).get("fingerprint") == digest:
                record.written(BulkOutcome.unchanged, id=current.id, version=current.version)
                return
            raise HistoryAlreadyImported()
        recipient = (
            recipient_by_id.get(data.recipient_id)
            if data.recipient_id
            else recipient_by_ext.get(data.recipient_external_id or "")
        )
        t = data.timeline
        # the rule of POST /orders, for the day the order was for
        placed = placement.check(
            principal,
            cipher,
            settings,
            data,
            recipient,
            lookups,
            now=moment,
            on=clock.local_date(data.window_start),
            home=_home(persons, recipient),
        )
        check_times(data, now=moment)
        institution_id = placed.institution_id
        disability: DisabilityBasis | None = None
        if t.assessed_at is not None and data.service_group is not None:
            assessed_day = clock.local_date(t.assessed_at)
            if data.service_group is ServiceGroup.frail_disabled_demented:
                disability = disability_on(placed.recipient, assessed_day)
            lifecycle.check_service_group(
                placed.recipient,
                data.service_group,
                on=assessed_day,
                disability=disability,
                birth_date=person.birth_date if (person := persons.get(placed.recipient.id)) else None,
            )
            if placed.requires_doctor or data.assessed_by_practitioner_id is not None:
                assessor = data.assessed_by_practitioner_id
                lifecycle.check_doctor(practitioners.get(assessor) if assessor else None, institution_id)
        if data.nurse_practitioner_id is not None:
            needs = [
                lifecycle.ItemNeeds(item.code, item.required_title, item.needs_specialist_training)
                for item, _ in placed.items
            ]
            lifecycle.check_nurse_for(
                practitioners.get(data.nurse_practitioner_id), institution_id, needs, settings
            )
        if data.visit_record is not None:
            visits.check_items_done(data.visit_record, [item.code for item, _ in placed.items])
            if data.visit_record.record_id in taken_record_ids:
                raise VisitRecordIdTaken()

        assert record.external_id is not None
        order_id = new_id(record.external_id) if new_id is not None else uuid.uuid4()
        region = placed.where.region_code
        status = S(data.status.value)
        order: dict[str, Any] = {
            "id": order_id,
            "institution_id": institution_id,
            "provider_name": placed.provider.institution_name,
            "region_code": region,
            "recipient_id": placed.recipient.id,
            "home_bed_id": data.home_bed_id,
            "catalog_version_id": placed.catalog_version.id,
            "catalog_version_code": placed.catalog_version.code,
            "status": status,
            "window_start": data.window_start,
            "window_end": data.window_end,
            "address_enc": cipher.encrypt(placed.where.address),
            "latitude": placed.latitude,
            "longitude": placed.longitude,
            "note": data.note,
            "placed_by_sub": principal.sub,
            "placed_by_role": principal.role.value,
            "source_system": source_system,
            "external_id": record.external_id,
            "requires_doctor": placed.requires_doctor,
            "service_group": data.service_group,
            "assessment_note": None,
            "assessed_by_practitioner_id": data.assessed_by_practitioner_id,
            "assessed_at": t.assessed_at,
            "decision_reason": None,
            "nurse_practitioner_id": data.nurse_practitioner_id,
            "assigned_at": t.assigned_at,
            "en_route_at": t.departed_at,
            "checked_in_at": t.checked_in_at,
            "in_service_at": t.started_at or t.checked_in_at,
            "checked_out_at": t.checked_out_at,
            "completed_at": t.completed_at,
            "rated_at": data.rating.rated_at if data.rating is not None else None,
            "ended_at": t.cancelled_at,
            "end_reason": data.cancel_reason,
            "response_minutes": (
                max(
                    fees.yuan(Decimal((t.checked_in_at - t.submitted_at).total_seconds()) / Decimal(60)),
                    Decimal(0),
                )
                if t.checked_in_at is not None
                else None
            ),
            "flagged": False,
            "flag_reasons": [],
            "flag_reviewed_at": None,
            "flag_review_note": None,
            "visit_fee_yuan": placed.provider.visit_fee_yuan,
            "items_total_yuan": placed.items_total_yuan,
            "consumables_total_yuan": None,
            "total_yuan": None,
            "fees_fixed_at": None,
            "created_at": t.submitted_at,  # placed then: reports count orders by when they were placed
            "updated_at": now,
            "version": 1,
        }
        rows.orders.append(order)
        for item, price in placed.items:
            rows.items.append(
                {
                    "id": uuid.uuid4(),
                    "order_id": order_id,
                    "institution_id": institution_id,
                    "region_code": region,
                    "item_code": item.code,
                    "item_name": item.name,
                    "risk": item.risk,
                    "needs_medical_order": item.needs_medical_order,
                    "needs_specialist_training": item.needs_specialist_training,
                    "required_title": item.required_title,
                    "price_yuan": price.price_yuan,
                    "created_at": t.submitted_at,
                    "updated_at": now,
                    "version": 1,
                }
            )

        def event(
            action: str, from_: OrderStatus | None, to: OrderStatus, at: datetime, **extra: Any
        ) -> None:
            rows.events.append(
                {
                    "id": uuid.uuid4(),
                    "order_id": order_id,
                    "action": action,
                    "from_status": from_.value if from_ else None,
                    "to_status": to.value,
                    "actor_sub": principal.sub,
                    "practitioner_id": extra.pop("practitioner_id", None),
                    "client_event_id": None,
                    "client_at": at,
                    "received_at": now,
                    "latitude": None,
                    "longitude": None,
                    "accuracy_m": None,
                    "is_mock_location": None,
                    "flags": [],
                    "detail": {"via": VIA, **extra},
                }
            )

        for name, (action, from_, to) in STEP_EVENTS.items():
            at = getattr(t, name)
            if name == "started_at" and at is None and t.checked_out_at is not None:
                at = t.checked_in_at
            if at is None:
                continue
            extra: dict[str, Any] = {"fingerprint": digest} if name == "submitted_at" else {}
            if name in NURSE_STEPS:
                extra["practitioner_id"] = data.nurse_practitioner_id
            if name == "assessed_at" and disability is not None:
                extra["disability"] = disability.record()  # what the rule used
            event(action, from_, to, at, **extra)
        if status is S.cancelled:
            assert t.cancelled_at is not None
            event("cancel", _status_reached(data), S.cancelled, t.cancelled_at, reason=data.cancel_reason)

        if data.visit_record is not None:
            assert t.checked_out_at is not None
            assert t.completed_at is not None
            assert data.nurse_practitioner_id is not None
            visit = data.visit_record
            written_at = visit.recorded_at or t.checked_out_at
            columns = visits.content_columns(visit)
            visit_id = uuid.uuid4()
            rows.visits.append(
                {
                    "id": visit_id,
                    "order_id": order_id,
                    "record_id": visit.record_id or uuid.uuid4(),
                    "institution_id": institution_id,
                    "region_code": region,
                    "practitioner_id": data.nurse_practitioner_id,
                    "client_created_at": written_at,
                    "client_updated_at": written_at,
                    **columns,
                    "created_at": written_at,
                    "updated_at": now,
                    "version": 1,
                }
            )
            sub_entities.append(
                (
                    "visit_record.create",
                    "visit_record",
                    visit_id,
                    {"order_id": order_id, "items_done": columns["items_done"]},
                )
            )
            # the fees are fixed on completion, as complete() fixes them
            order["consumables_total_yuan"] = columns["consumables_total_yuan"]
            order["total_yuan"] = fees.total(
                order["items_total_yuan"], order["visit_fee_yuan"], columns["consumables_total_yuan"]
            )
            order["fees_fixed_at"] = t.completed_at
        if data.rating is not None:
            rating_id = uuid.uuid4()
            rows.ratings.append(
                {
                    "id": rating_id,
                    "order_id": order_id,
                    "institution_id": institution_id,
                    "region_code": region,
                    "score": data.rating.score,
                    "comment": data.rating.comment,
                    "rated_by": data.rating.rated_by,
                    "rater_sub": principal.sub,
                    "rated_at": data.rating.rated_at,
                    "created_at": data.rating.rated_at,
                    "updated_at": now,
                    "version": 1,
                }
            )
            event("rate", S.completed, S.rated, data.rating.rated_at, score=data.rating.score)
        if data.sos is not None:
            assert data.nurse_practitioner_id is not None
            sos_id = uuid.uuid4()
            rows.sos.append(
                {
                    "id": sos_id,
                    "order_id": order_id,
                    "institution_id": institution_id,
                    "region_code": region,
                    "practitioner_id": data.nurse_practitioner_id,
                    "client_event_id": uuid.uuid4(),
                    "client_at": data.sos.raised_at,
                    "raised_at": data.sos.raised_at,
                    "latitude": data.sos.latitude,
                    "longitude": data.sos.longitude,
                    "message": data.sos.message,
                    "resolved_at": data.sos.resolved_at,
                    "resolved_by_sub": principal.sub,
                    "resolution": data.sos.resolution,
                    "created_at": data.sos.raised_at,
                    "updated_at": now,
                    "version": 1,
                }
            )
            sub_entities.append(("sos.raise", "sos_alert", sos_id, {"order_id": order_id, "resolved": True}))
        if data.complaint is not None:
            complaint_id = uuid.uuid4()
            complaint = data.complaint
            rows.complaints.append(
                {
                    "id": complaint_id,
                    "order_id": order_id,
                    "institution_id": institution_id,
                    "region_code": region,
                    "status": ComplaintStatus.resolved if complaint.resolution else ComplaintStatus.open,
                    "content": complaint.content,
                    "filed_by_sub": principal.sub,
                    "filed_by_role": principal.role.value,
                    "resolution": complaint.resolution,
                    "resolved_at": complaint.resolved_at,
                    "created_at": complaint.filed_at,
                    "updated_at": now,
                    "version": 1,
                }
            )
            sub_entities.append(
                (
                    "complaint.file",
                    "complaint",
                    complaint_id,
                    {"order_id": order_id, "resolved": bool(complaint.resolution)},
                )
            )
        record.written(
            BulkOutcome.created,
            id=order_id,
            version=1,
            changes={
                "status": status.value,
                "institution_id": institution_id,
                "recipient_id": placed.recipient.id,
                "item_codes": sorted(item.code for item, _ in placed.items),
                "window_start": data.window_start,
                "submitted_at": t.submitted_at,
                "ended_at": t.completed_at or t.cancelled_at,
                "nurse_practitioner_id": data.nurse_practitioner_id,
                "home_bed_id": data.home_bed_id,
            },
        )

    batch.check(one)

    for model, written in (
        (Order, rows.orders),
        (OrderItem, rows.items),
        (OrderEvent, rows.events),
        (VisitRecord, rows.visits),
        (Rating, rows.ratings),
        (SosAlert, rows.sos),
        (Complaint, rows.complaints),
    ):
        if written:
            await session.execute(insert(_table(model)), written)
    for model, written in (
        (Order, rows.orders),
        (OrderItem, rows.items),
        (VisitRecord, rows.visits),
        (Rating, rows.ratings),
        (SosAlert, rows.sos),
        (Complaint, rows.complaints),
    ):
        _track(session, model, written)
    audit_written(
        session, principal, batch, entity_type="order", action=VIA, personal_fields=ORDER_PERSONAL_FIELDS
    )
    for action, entity_type, entity_id, changes in sub_entities:
        audit.record(
            session,
            principal,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            changes={**changes, "via": VIA, "source_system": source_system},
        )
