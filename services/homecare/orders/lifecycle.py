"""Order transitions. Each one: replay check (the app's ``client_event_id``), who may act, If-Match,
the state machine, then the change, an event row (全程留痕) and an audit record.

Writes from the nurse app may arrive late, twice or out of order: a write whose ``client_event_id`` was
already applied answers the current state without applying again; a write the state machine does not
allow yet answers 409 with the allowed actions and the current state (the app keeps it and retries);
a write older (by the app's clock) than what the order has already recorded answers 409
``stale_client_event`` with the current state.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal, Role
from libs.common.concurrency import check_if_match
from libs.common.errors import Conflict
from libs.common.personal_data import PersonalDataCipher
from libs.common.scope import ensure_in_scope_for_write
from services.homecare import clock
from services.homecare.clients.registry import FetchedPractitioner, PractitionerInfo
from services.homecare.clients.residents import DisabilityBasis, ResidentsClient
from services.homecare.events import service as order_events
from services.homecare.orders import booking, fees, geo, identity
from services.homecare.orders.errors import (
    CancelNotAllowed,
    ClientEventReused,
    ClientTimeInFuture,
    DoctorAssessmentRequired,
    NotAssignedNurse,
    NotEligibleForItems,
    NotOrderParty,
    NotOrderProvider,
    NurseNotEligible,
    NurseNotQualified,
    RaterInvalid,
    ReasonRequired,
    ServiceGroupMismatch,
    StaleClientEvent,
    VisitRecordMissing,
)
from services.homecare.orders.models import (
    Order,
    OrderEvent,
    OrderStatus,
    RaterKind,
    Rating,
    ServiceGroup,
)
from services.homecare.orders.schemas import (
    AssessBody,
    AssignBody,
    CheckInBody,
    ClientEvent,
    DepartBody,
    FlagReviewBody,
    Located,
    RateBody,
    ReasonBody,
    RescheduleBody,
)
from services.homecare.orders.transitions import (
    EARLY,
    ON_DUTY,
    RELEASES_BOOKING,
    UNDER_WAY,
    OrderIllegalTransition,
    target,
)
from services.homecare.orders.visits.models import VisitRecord
from services.homecare.recipients.models import Recipient
from services.homecare.settings import HomecareSettings

# The nurses' title ladder, lowest first: the registry sends codes, config and catalogs may use labels.
NURSE_TITLES = (
    ("nurse", "护士"),
    ("senior_nurse", "护师"),
    ("supervising_nurse", "主管护师"),
    ("associate_chief_nurse", "副主任护师"),
    ("chief_nurse", "主任护师"),
)
VERY_OLD_AGE = 80


def current_state(order: Order) -> dict[str, Any]:
    return {"status": order.status.value, "version": order.version}


# ------------------------------------------------------------------------------------------ guards


def ensure_provider_user(principal: Principal, order: Order) -> None:
    if not (principal.is_institution_user and principal.institution_id == order.institution_id):
        raise NotOrderProvider()


def ensure_provider_admin(principal: Principal, order: Order) -> None:
    if principal.role is not Role.institution_admin or principal.institution_id != order.institution_id:
        raise NotOrderProvider()


def ensure_assigned_nurse(principal: Principal, order: Order) -> None:
    if (
        principal.role is not Role.institution_staff
        or principal.institution_id != order.institution_id
        or principal.practitioner_id is None
        or principal.practitioner_id != order.nurse_practitioner_id
    ):
        raise NotAssignedNurse()


def placed_by(principal: Principal, order: Order) -> bool:
    """True when ``principal`` is the very caller (same role and subject) that placed ``order``."""
    return order.placed_by_role == principal.role.value and order.placed_by_sub == principal.sub


async def already_applied(session: AsyncSession, order: Order, action: str, body: ClientEvent | None) -> bool:
    """True when this app write (same ``client_event_id``) was applied before: answer, do not apply."""
    if body is None or body.client_event_id is None:
        return False
    event = await session.scalar(select(OrderEvent).where(OrderEvent.client_event_id == body.client_event_id))
    if event is None:
        return False
    if event.order_id != order.id or event.action != action:
        raise ClientEventReused()
    return True


async def _event_time(
    session: AsyncSession, settings: HomecareSettings, order: Order, body: ClientEvent | None
) -> datetime:
    """When the event happened: the app's clock if sent (not ahead of ours, not before what the order
    already recorded), else now."""
    now = clock.now()
    if body is None or body.client_at is None:
        return now
    if body.client_at > now + timedelta(seconds=settings.client_clock_skew_seconds):
        raise ClientTimeInFuture()
    latest = await session.scalar(
        select(func.max(OrderEvent.client_at)).where(OrderEvent.order_id == order.id)
    )
    if latest is not None and body.client_at < latest:
        raise StaleClientEvent("该操作早于订单已记录的操作，已被后续操作取代", current_state(order))
    return body.client_at


def _event(
    order: Order,
    principal: Principal,
    action: str,
    from_status: OrderStatus | None,
    body: ClientEvent | None,
    at: datetime,
    *,
    flags: list[str] | None = None,
    detail: dict[str, Any] | None = None,
) -> OrderEvent:
    located = body if isinstance(body, Located | DepartBody) else None
    return OrderEvent(
        order_id=order.id,
        action=action,
        from_status=from_status.value if from_status else None,
        to_status=order.status.value,
        actor_sub=principal.sub,
        practitioner_id=principal.practitioner_id,
        client_event_id=body.client_event_id if body else None,
        client_at=at if body and body.client_at else None,
        latitude=located.latitude if located else None,
        longitude=located.longitude if located else None,
        accuracy_m=located.accuracy_m if located else None,
        is_mock_location=located.is_mock_location if located else None,
        flags=flags or [],
        detail=detail,
    )


async def _apply(
    session: AsyncSession,
    principal: Principal,
    order: Order,
    action: str,
    body: ClientEvent | None,
    at: datetime,
    *,
    flags: list[str] | None = None,
    detail: dict[str, Any] | None = None,
    concerns: uuid.UUID | None = None,
    notice: dict[str, Any] | None = None,
) -> None:
    """Move ``order`` by ``action``, log the event, release the nurse's booking when the order ends
    early, audit it, and tell the followers (events/): ``concerns`` is the nurse the event is about
    when it is not the order's own (the nurse an un-assignment removed); ``notice`` adds to the event's
    payload."""
    before = order.status
    order.status = target(order, action)
    event = _event(order, principal, action, before, body, at, flags=flags, detail=detail)
    session.add(event)
    if order.status in RELEASES_BOOKING:
        await booking.release(session, order)
    await session.flush()
    order_events.emit_for_transition(
        session,
        order,
        event,
        occurred_at=at,
        nurse_practitioner_id=concerns or order.nurse_practitioner_id,
        extra=notice,
    )
    audit.record(
        session,
        principal,
        action=f"order.{action}",
        entity_type="order",
        entity_id=order.id,
        changes={"status": [before.value, order.status.value], **(detail or {})},
    )


# ------------------------------------------------------------------------------- provider decisions


async def assess(
    session: AsyncSession,
    principal: Principal,
    doctor: FetchedPractitioner,
    settings: HomecareSettings,
    order: Order,
    body: AssessBody,
    if_match: str | None,
    *,
    disability_of: DisabilityOf | None = None,
    birth_date_of: BirthDateOf | None = None,
) -> bool:
    if await already_applied(session, order, "assess", body):
        return True
    target(order, "assess")
    ensure_provider_user(principal, order)
    check_if_match(if_match, order.version)
    if order.requires_doctor:
        _ensure_doctor_of(doctor, principal, order.institution_id)
    disability: DisabilityBasis | None = None
    if body.service_group is ServiceGroup.frail_disabled_demented and disability_of is not None:
        # the residents' latest ability assessment (declared level only without one); 503 when down
        disability = await disability_of(order.recipient)
    birth: date | None = None
    if body.service_group is ServiceGroup.very_old and birth_date_of is not None:
        birth = await birth_date_of(order.recipient)  # the person index's; 503 when down
    check_service_group(
        order.recipient, body.service_group, on=clock.today(), disability=disability, birth_date=birth
    )
    at = await _event_time(session, settings, order, body)
    order.service_group = body.service_group
    order.assessment_note = body.note
    order.assessed_by_practitioner_id = principal.practitioner_id
    order.assessed_at = at
    detail: dict[str, Any] = {"service_group": body.service_group.value}
    if disability is not None:
        detail["disability"] = disability.record()  # what the rule used: the assessment, or declared
    await _apply(session, principal, order, "assess", body, at, detail=detail)
    return False


def _ensure_doctor_of(fetched: FetchedPractitioner, principal: Principal, institution_id: uuid.UUID) -> None:
    if principal.practitioner_id is None:
        raise DoctorAssessmentRequired()
    check_doctor(fetched.get(), institution_id)


def check_doctor(doctor: PractitionerInfo | None, institution_id: uuid.UUID) -> None:
    """An order with a high-risk or 医嘱 item is assessed by an active doctor of the provider."""
    if (
        doctor is None
        or doctor.kind != "doctor"
        or doctor.institution_id != institution_id
        or not doctor.active
    ):
        raise DoctorAssessmentRequired()


# the recipient's disability under the rule of clients/residents.py (the latest ability assessment)
DisabilityOf = Callable[[Recipient], Awaitable[DisabilityBasis]]


async def recipient_disability(
    residents: ResidentsClient, cipher: PersonalDataCipher, recipient: Recipient
) -> DisabilityBasis:
    """The recipient's person (its ``person_id`` once linked to the person index, else found by its ID
    number) and that person's latest assessment; the declared level when there is none."""
    person_id = recipient.person_id
    number = cipher.decrypt(recipient.id_number_enc)
    if person_id is None and number is not None:
        person_id = await residents.person_by_id_number(number)
    assessment = await residents.latest_assessment(person_id) if person_id is not None else None
    if assessment is None:
        return DisabilityBasis.declared(recipient.disability_level, recipient.dementia)
    return DisabilityBasis.assessed(assessment, recipient.dementia)


# the recipient's birth date (the person index's, issue 19), for the 高龄 group
BirthDateOf = Callable[[Recipient], Awaitable[date | None]]


def check_service_group(
    recipient: Recipient,
    group: ServiceGroup,
    *,
    on: date,
    disability: DisabilityBasis | None = None,
    birth_date: date | None = None,
) -> None:
    """The service group must fit the recipient (高龄 counted on the day ``on`` from ``birth_date``, the
    person's, else the copy a recipient not linked yet holds). 失能 is ``disability``:
    the residents' latest ability assessment of the person, or — the fallback for a person never
    assessed, and what a caller without the residents service passes (None) — the declared
    ``disability_level``; 失智 declared or assessed."""
    if group is ServiceGroup.very_old:
        birth = birth_date or recipient.birth_date
        if birth is None:
            raise ServiceGroupMismatch(
                "无法确认服务对象的出生日期（身份信息在居民主索引中），不能按高龄老人评估"
            )
        if clock.age_on(birth, on) < VERY_OLD_AGE:
            raise ServiceGroupMismatch(f"高龄老人指 {VERY_OLD_AGE} 周岁及以上")
    if group is ServiceGroup.frail_disabled_demented:
        basis = disability or DisabilityBasis.declared(recipient.disability_level, recipient.dementia)
        if not (basis.disabled or basis.dementia):
            if basis.source == "assessment":
                raise ServiceGroupMismatch(
                    f"服务对象最近一次能力评估（{basis.assessed_date}）为能力完好，且未登记失智"
                )
            raise ServiceGroupMismatch("服务对象未登记失能或失智")
    if group is ServiceGroup.chronic and not recipient.chronic_diseases:
        raise ServiceGroupMismatch("服务对象未登记慢性病")


async def accept(
    session: AsyncSession,
    principal: Principal,
    settings: HomecareSettings,
    order: Order,
    if_match: str | None,
) -> bool:
    target(order, "accept")
    ensure_provider_admin(principal, order)
    check_if_match(if_match, order.version)
    await _apply(session, principal, order, "accept", None, clock.now())
    return False


async def reject(
    session: AsyncSession, principal: Principal, order: Order, body: ReasonBody, if_match: str | None
) -> bool:
    target(order, "reject")
    ensure_provider_admin(principal, order)
    check_if_match(if_match, order.version)
    if not body.reason:
        raise ReasonRequired("拒绝须说明原因")
    order.decision_reason = body.reason
    order.ended_at = clock.now()
    await _apply(session, principal, order, "reject", None, order.ended_at, detail={"reason": body.reason})
    return False


async def assign(
    session: AsyncSession,
    principal: Principal,
    nurse: FetchedPractitioner,
    settings: HomecareSettings,
    order: Order,
    body: AssignBody,
    if_match: str | None,
) -> bool:
    target(order, "assign")
    ensure_provider_admin(principal, order)
    check_if_match(if_match, order.version)
    check_nurse(nurse.get(), order, settings)
    await booking.book(session, order, body.nurse_practitioner_id)
    order.nurse_practitioner_id = body.nurse_practitioner_id
    order.assigned_at = clock.now()
    await _apply(
        session,
        principal,
        order,
        "assign",
        None,
        order.assigned_at,
        detail={"nurse_practitioner_id": str(body.nurse_practitioner_id)},
    )
    return False


async def unassign(
    session: AsyncSession, principal: Principal, order: Order, body: ReasonBody, if_match: str | None
) -> bool:
    """The dispatcher takes an assigned order back before the nurse sets off (to assign another): the
    nurse's booking is released and she is told (an ``unassigned`` event)."""
    if await already_applied(session, order, "unassign", body):
        return True
    target(order, "unassign")
    ensure_provider_admin(principal, order)
    check_if_match(if_match, order.version)
    nurse = order.nurse_practitioner_id
    await booking.release(session, order)
    order.nurse_practitioner_id = None
    order.assigned_at = None
    await _apply(
        session,
        principal,
        order,
        "unassign",
        body,
        clock.now(),
        detail={"nurse_practitioner_id": str(nurse), "reason": body.reason},
        concerns=nurse,
    )
    return False


async def reschedule(
    session: AsyncSession,
    principal: Principal,
    settings: HomecareSettings,
    order: Order,
    body: RescheduleBody,
    if_match: str | None,
) -> bool:
    """The dispatcher moves the wanted slot before the nurse sets off. The slot obeys the placing rules
    (not past, not longer than ``order_max_window_hours``); an assigned nurse keeps the order only if
    the new slot does not overlap another of her bookings (409 ``nurse_double_booked``, as ``assign``)."""
    target(order, "reschedule")
    ensure_provider_admin(principal, order)
    check_if_match(if_match, order.version)
    now = clock.now()
    if body.window_end - body.window_start > timedelta(hours=settings.order_max_window_hours):
        raise NotEligibleForItems(
            f"期望时段不得超过 {settings.order_max_window_hours} 小时", "body.window_end"
        )
    if body.window_end <= now:
        raise NotEligibleForItems("期望时段已过", "body.window_end")
    previous = {
        "previous_window_start": order.window_start,
        "previous_window_end": order.window_end,
    }
    order.window_start = body.window_start
    order.window_end = body.window_end
    if order.nurse_practitioner_id is not None:
        await booking.release(session, order)
        await booking.book(session, order, order.nurse_practitioner_id)
    await _apply(
        session,
        principal,
        order,
        "reschedule",
        None,
        now,
        detail={
            "window_start": body.window_start.isoformat(),
            "window_end": body.window_end.isoformat(),
            **{k: v.isoformat() for k, v in previous.items()},
        },
        notice=previous,
    )
    return False


def title_rank(title: str | None) -> int:
    """Position on the nurses' ladder (-1 when unknown or missing)."""
    for rank, names in enumerate(NURSE_TITLES):
        if title in names:
            return rank
    return -1


@dataclass(frozen=True, slots=True)
class ItemNeeds:
    """What an item asks of the nurse (from the order's item snapshot or the catalog)."""

    code: str
    required_title: str | None
    needs_specialist_training: bool


def check_nurse(nurse: PractitionerInfo | None, order: Order, settings: HomecareSettings) -> None:
    """Only an active, homecare-eligible nurse of the provider, qualified for every item."""
    items = [ItemNeeds(i.item_code, i.required_title, i.needs_specialist_training) for i in order.items]
    check_nurse_for(nurse, order.institution_id, items, settings)


def check_nurse_for(
    nurse: PractitionerInfo | None,
    institution_id: uuid.UUID,
    items: Sequence[ItemNeeds],
    settings: HomecareSettings,
) -> None:
    """The rule of :func:`check_nurse` for a provider and the items of an order (assign and the
    historical import call it alike)."""
    if nurse is None or nurse.institution_id != institution_id:
        raise NurseNotEligible("该护士不属于承接机构")
    if nurse.kind != "nurse" or not nurse.active:
        raise NurseNotEligible("只能派给在职护士")
    if not nurse.homecare_eligible:
        raise NurseNotEligible("该护士不具备上门护理资格（注册、5 年临床护理经验、护师及以上职称）")
    rank = title_rank(nurse.title)
    if rank < title_rank(settings.nurse_min_title):
        raise NurseNotEligible(f"上门护理须为{settings.nurse_min_title}及以上职称")
    low_title = [i.code for i in items if i.required_title and rank < title_rank(i.required_title)]
    if low_title:
        raise NurseNotQualified(low_title, "护士职称低于项目要求")
    trained = nurse.trained_item_codes()
    untrained = [i.code for i in items if i.needs_specialist_training and i.code not in trained]
    if untrained:
        raise NurseNotQualified(untrained, f"护士未取得这些专科项目的培训：{', '.join(untrained)}")


# ------------------------------------------------------------------------------------ the nurse app


async def _flags_for(
    session: AsyncSession,
    settings: HomecareSettings,
    order: Order,
    principal: Principal,
    body: Located | DepartBody,
    at: datetime,
    *,
    check_distance: bool,
) -> list[str]:
    if body.latitude is None or body.longitude is None:
        return []
    flags: list[str] = []
    if check_distance and geo.distance_m(order.latitude, order.longitude, body.latitude, body.longitude) > (
        settings.checkin_radius_m
    ):
        flags.append(geo.FAR_FROM_ADDRESS)
    if body.is_mock_location:
        flags.append(geo.MOCK_LOCATION)
    previous = await session.execute(
        select(OrderEvent.latitude, OrderEvent.longitude, OrderEvent.client_at, OrderEvent.received_at)
        .where(
            OrderEvent.practitioner_id == principal.practitioner_id,
            OrderEvent.latitude.is_not(None),
            OrderEvent.client_at.is_not(None),
            OrderEvent.client_at <= at,
        )
        .order_by(OrderEvent.client_at.desc())
        .limit(1)
    )
    row = previous.first()
    if row is not None:
        moved = geo.distance_m(row.latitude, row.longitude, body.latitude, body.longitude)
        if geo.speed_kmh(moved, row.client_at, at) > settings.max_speed_kmh:
            flags.append(geo.IMPLAUSIBLE_SPEED)
    return flags


def _flag(order: Order, flags: list[str]) -> None:
    if flags:
        order.flagged = True
        order.flag_reasons = sorted(set(order.flag_reasons or []) | set(flags))
        order.flag_reviewed_at = None


async def nurse_step(
    session: AsyncSession,
    principal: Principal,
    settings: HomecareSettings,
    order: Order,
    action: str,
    body: ClientEvent,
    if_match: str | None,
    *,
    identity_check: Callable[[Order], Awaitable[identity.IdentityOutcome]] | None = None,
) -> bool:
    """depart, check-in, start, check-out: the assigned nurse's own steps. ``identity_check`` (check-in)
    runs once the step is known to apply, before anything is written (it may ask the residents)."""
    if await already_applied(session, order, action, body):
        return True
    target(order, action)
    ensure_assigned_nurse(principal, order)
    check_if_match(if_match, order.version)
    at = await _event_time(session, settings, order, body)
    checked = await identity_check(order) if identity_check is not None else None
    flags: list[str] = []
    if isinstance(body, Located | DepartBody):
        flags = await _flags_for(
            session, settings, order, principal, body, at, check_distance=action in ("check-in", "check-out")
        )
    if checked is not None:
        flags += checked.flags
    _flag(order, flags)
    if action == "depart":
        order.en_route_at = at
    elif action == "check-in":
        order.checked_in_at = at
        minutes = Decimal((at - order.created_at).total_seconds()) / Decimal(60)
        order.response_minutes = max(fees.yuan(minutes), Decimal(0))
    elif action == "start":
        order.in_service_at = at
    elif action == "check-out":
        order.checked_out_at = at
    detail: dict[str, Any] = {"flags": flags} if flags else {}
    if checked is not None:
        detail["identity"] = checked.record()
    await _apply(session, principal, order, action, body, at, flags=flags, detail=detail or None)
    return False


async def check_in(
    session: AsyncSession,
    principal: Principal,
    settings: HomecareSettings,
    residents: ResidentsClient,
    cipher: PersonalDataCipher,
    order: Order,
    body: CheckInBody,
    if_match: str | None,
) -> bool:
    """The nurse's arrival: the location checks of :func:`nurse_step` and the identity check of the person
    served (orders/identity.py) — flagged, never refused, except a malformed proof (422)."""
    identity.check_proof(settings, body.identity)

    async def verify(order: Order) -> identity.IdentityOutcome:
        recipient = await session.get(Recipient, order.recipient_id)
        assert recipient is not None  # an order's recipient is never deleted
        return await identity.verify(settings, residents, cipher, recipient, body.identity)

    return await nurse_step(
        session, principal, settings, order, "check-in", body, if_match, identity_check=verify
    )


async def report_location(
    session: AsyncSession, principal: Principal, settings: HomecareSettings, order: Order, body: Located
) -> bool:
    """A position report on the way or during the visit (speed and mock location are checked)."""
    if await already_applied(session, order, "location", body):
        return True
    ensure_assigned_nurse(principal, order)
    if order.status not in ON_DUTY:
        raise OrderIllegalTransition(order, "location")
    at = await _event_time(session, settings, order, body)
    flags = await _flags_for(session, settings, order, principal, body, at, check_distance=False)
    _flag(order, flags)
    session.add(_event(order, principal, "location", order.status, body, at, flags=flags))
    await session.flush()
    return False


async def complete(
    session: AsyncSession,
    principal: Principal,
    settings: HomecareSettings,
    order: Order,
    body: ClientEvent,
    if_match: str | None,
) -> bool:
    """Completed with a visit record: the fees are fixed now (items + visit fee + consumables)."""
    if await already_applied(session, order, "complete", body):
        return True
    target(order, "complete")
    if principal.role is Role.institution_admin:
        ensure_provider_admin(principal, order)
    else:
        ensure_assigned_nurse(principal, order)
    check_if_match(if_match, order.version)
    record = await session.scalar(select(VisitRecord).where(VisitRecord.order_id == order.id))
    if record is None:
        raise VisitRecordMissing()
    at = await _event_time(session, settings, order, body)
    order.completed_at = at
    order.consumables_total_yuan = record.consumables_total_yuan
    order.total_yuan = fees.total(order.items_total_yuan, order.visit_fee_yuan, record.consumables_total_yuan)
    order.fees_fixed_at = clock.now()
    await _apply(
        session, principal, order, "complete", body, at, detail={"total_yuan": str(order.total_yuan)}
    )
    return False


# ------------------------------------------------------------------------------ endings and rating


async def cancel(
    session: AsyncSession, principal: Principal, order: Order, body: ReasonBody, if_match: str | None
) -> bool:
    """Only the parties to the order: the provider's users, and the city platform that placed it.
    Before assignment: either party; once assigned: the provider; once the nurse set off: only the
    provider's admin, with a reason. The domain rules give officials no part in cancelling."""
    if await already_applied(session, order, "cancel", body):
        return True
    target(order, "cancel")
    if principal.role is Role.city_platform:
        ensure_in_scope_for_write(principal, region_code=order.region_code, what="订单")
        if not placed_by(principal, order):
            raise NotOrderParty()
    else:
        ensure_provider_user(principal, order)
    check_if_match(if_match, order.version)
    if order.status not in EARLY and principal.role is Role.city_platform:
        raise CancelNotAllowed("订单已派单，须由服务机构取消")
    if order.status in UNDER_WAY:
        if principal.role is not Role.institution_admin:
            raise CancelNotAllowed("护士已出发，只有服务机构管理员可以取消")
        if not body.reason:
            raise ReasonRequired("护士出发后取消须说明原因")
    order.ended_at = clock.now()
    order.end_reason = body.reason
    await _apply(session, principal, order, "cancel", body, order.ended_at, detail={"reason": body.reason})
    return False


async def incident(
    session: AsyncSession,
    principal: Principal,
    settings: HomecareSettings,
    order: Order,
    body: ReasonBody,
    if_match: str | None,
) -> bool:
    if await already_applied(session, order, "incident", body):
        return True
    target(order, "incident")
    if principal.role is Role.institution_admin:
        ensure_provider_admin(principal, order)
    else:
        ensure_assigned_nurse(principal, order)
    check_if_match(if_match, order.version)
    if not body.reason:
        raise ReasonRequired("须描述意外情况")
    at = await _event_time(session, settings, order, body)
    order.ended_at = at
    order.end_reason = body.reason
    await _apply(session, principal, order, "incident", body, at, detail={"reason": body.reason})
    return False


async def rate(
    session: AsyncSession, principal: Principal, order: Order, body: RateBody, if_match: str | None
) -> bool:
    target(order, "rate")
    if principal.role is Role.city_platform:
        ensure_in_scope_for_write(principal, region_code=order.region_code, what="订单")
        rated_by = RaterKind.city_platform
    else:
        ensure_provider_user(principal, order)
        if body.rated_by is RaterKind.city_platform:
            raise RaterInvalid()
        rated_by = body.rated_by
    check_if_match(if_match, order.version)
    order.rated_at = clock.now()
    session.add(
        Rating(
            order_id=order.id,
            institution_id=order.institution_id,
            region_code=order.region_code,
            score=body.score,
            comment=body.comment,
            rated_by=rated_by,
            rater_sub=principal.sub,
            rated_at=order.rated_at,
        )
    )
    await _apply(session, principal, order, "rate", None, order.rated_at, detail={"score": body.score})
    return False


async def review_flags(
    session: AsyncSession, principal: Principal, order: Order, body: FlagReviewBody, if_match: str | None
) -> bool:
    ensure_provider_admin(principal, order)
    check_if_match(if_match, order.version)
    if not order.flagged or order.flag_reviewed_at is not None:
        raise Conflict("该订单没有待复核的定位标记", code="nothing_to_review")
    order.flag_reviewed_at = clock.now()
    order.flag_review_note = body.note
    session.add(_event(order, principal, "review-flags", order.status, None, order.flag_reviewed_at))
    await session.flush()
    audit.record(
        session,
        principal,
        action="order.review_flags",
        entity_type="order",
        entity_id=order.id,
        changes={"flag_reasons": order.flag_reasons, "note": body.note},
    )
    return False
