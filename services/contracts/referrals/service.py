"""双向转诊 referrals: the service layer, and green-channel response times (SQL aggregates)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit, divisions
from libs.common.auth import Principal
from libs.common.errors import IllegalTransition
from libs.common.pagination import PageParams, paginate
from libs.common.personal_data import PersonalDataCipher
from libs.common.scope import can_see, visible_condition
from services.contracts.agreements import lifecycle
from services.contracts.agreements import service as agreements
from services.contracts.agreements.models import REFERRAL_SERVICES, Agreement, AgreementState
from services.contracts.clock import CHINA_TZ, Clock
from services.contracts.referrals.errors import (
    AgreementNotEligible,
    OpenReferralExists,
    ReferralNotFound,
    WrongSide,
)
from services.contracts.referrals.models import (
    OPEN_STATES,
    Referral,
    ReferralDirection,
    ReferralState,
)
from services.contracts.referrals.schemas import (
    ReferralClose,
    ReferralContent,
    ReferralCreate,
    ReferralRead,
    ReferralRegionStats,
    ResidentRead,
)
from services.contracts.sql_dates import minutes_between
from services.contracts.visits.service import in_force_on

R = ReferralState
ENTITY = "referral"
PERSONAL_FIELDS = ("resident_name", "resident_id_number", "resident_phone")

#: action → (states it leaves, state it reaches, side that may take it)
TRANSITIONS: dict[str, tuple[tuple[ReferralState, ...], ReferralState, str]] = {
    "accept": ((R.requested,), R.accepted, "to"),
    "decline": ((R.requested,), R.declined, "to"),
    "admit": ((R.accepted,), R.admitted, "to"),
    "return": ((R.admitted,), R.returned, "to"),
    "cancel": ((R.requested, R.accepted), R.cancelled, "from"),
}


def allowed_actions(state: ReferralState) -> list[str]:
    return [action for action, (sources, _, _) in TRANSITIONS.items() if state in sources]


def visible(principal: Principal) -> Any:
    return visible_condition(
        principal, Referral.region_code, [Referral.from_institution_id, Referral.to_institution_id]
    )


def is_party(principal: Principal, referral: Referral) -> bool:
    return principal.is_institution_user and principal.institution_id in (
        referral.from_institution_id,
        referral.to_institution_id,
    )


async def get(session: AsyncSession, principal: Principal, referral_id: uuid.UUID) -> Referral:
    referral = await session.get(Referral, referral_id)
    if referral is None or not can_see(
        principal,
        region_code=referral.region_code,
        institution_ids=[referral.from_institution_id, referral.to_institution_id],
    ):
        raise ReferralNotFound()
    return referral


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    cipher: PersonalDataCipher,
    state: ReferralState | None = None,
    resident_id_number: str | None = None,
    resident_person_id: uuid.UUID | None = None,
    agreement_id: uuid.UUID | None = None,
    box: Literal["received", "sent"] | None = None,
) -> tuple[list[Referral], str | None]:
    """A page of the visible referrals; ``resident_id_number`` finds the unlinked copies by their blind
    index and, with ``resident_person_id`` (the index's person of that number), the linked ones."""
    stmt = select(Referral).where(visible(principal))
    if box is not None:
        # an official has no side: nothing is received or sent by a region
        side = Referral.to_institution_id if box == "received" else Referral.from_institution_id
        stmt = (
            stmt.where(side == principal.institution_id)
            if principal.is_institution_user
            else stmt.where(false())
        )
    if state is not None:
        stmt = stmt.where(Referral.state == state)
    if resident_id_number is not None:
        by_copy = Referral.resident_id_hash == cipher.lookup_hash(resident_id_number, "id_card")
        stmt = stmt.where(
            by_copy if resident_person_id is None else or_(by_copy, Referral.person_id == resident_person_id)
        )
    if agreement_id is not None:
        stmt = stmt.where(Referral.agreement_id == agreement_id)
    return await paginate(
        session, stmt, order_by=[Referral.requested_at, Referral.id], params=params, descending=True
    )


def present(referral: Referral, resident: ResidentRead) -> ReferralRead:
    """The referral with its resident as the viewer sees it (:func:`identity.shown`)."""
    return ReferralRead(
        id=referral.id,
        agreement_id=referral.agreement_id,
        direction=referral.direction,
        urgency=referral.urgency,
        from_institution_id=referral.from_institution_id,
        to_institution_id=referral.to_institution_id,
        region_code=referral.region_code,
        state=referral.state,
        allowed_actions=allowed_actions(referral.state),
        reason=referral.reason,
        resident=resident,
        requested_at=referral.requested_at,
        accepted_at=referral.accepted_at,
        admitted_at=referral.admitted_at,
        returned_at=referral.returned_at,
        closed_at=referral.closed_at,
        close_reason=referral.close_reason,
        version=referral.version,
    )


def check_eligible(agreement: Agreement, day: date, *, today: date) -> None:
    """A referral needs an agreement with 双向转诊 or 急诊急救绿色通道 in force on its day — today: in
    force now (422 ``agreement_not_eligible``)."""
    if not REFERRAL_SERVICES & set(agreement.services) or not in_force_on(agreement, day):
        raise AgreementNotEligible()
    status = lifecycle.effective_status(agreement.state, agreement.start_date, agreement.end_date, today)
    if day >= today and status is not AgreementState.active:
        raise AgreementNotEligible()


def sides(agreement: Agreement, direction: ReferralDirection) -> tuple[uuid.UUID, uuid.UUID]:
    """(from, to): up is elderly-care → medical, down medical → elderly-care."""
    if direction is ReferralDirection.up:
        return agreement.elderly_institution_id, agreement.medical_institution_id
    return agreement.medical_institution_id, agreement.elderly_institution_id


def referral_values(
    agreement: Agreement,
    data: ReferralContent,
    cipher: PersonalDataCipher,
    *,
    id_hash: str,
    person_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The columns of a referral under ``agreement``: linked to its person (``person_id``), no copy of
    the resident (issue 19); unlinked, the resident encrypted with the ID number's blind index
    ``id_hash``."""
    source, target = sides(agreement, data.direction)
    return {
        "agreement_id": agreement.id,
        "direction": data.direction,
        "urgency": data.urgency,
        "from_institution_id": source,
        "to_institution_id": target,
        "medical_institution_id": agreement.medical_institution_id,
        "elderly_institution_id": agreement.elderly_institution_id,
        "region_code": agreement.region_code,
        "reason": data.reason,
        "person_id": person_id,
        **(
            {
                "resident_name_enc": None,
                "resident_id_number_enc": None,
                "resident_id_hash": None,
                "resident_phone_enc": None,
            }
            if person_id is not None
            else {
                "resident_name_enc": cipher.encrypt(data.resident.name),
                "resident_id_number_enc": cipher.encrypt(data.resident.id_number),
                "resident_id_hash": id_hash,
                "resident_phone_enc": cipher.encrypt(data.resident.phone),
            }
        ),
    }


def audit_changes(data: ReferralContent) -> dict[str, Any]:
    """What the audit record keeps of a referral's request (the resident masked)."""
    return {**data.model_dump(mode="json", exclude={"resident"}), "resident": "***"}


async def create(
    session: AsyncSession,
    principal: Principal,
    data: ReferralCreate,
    *,
    cipher: PersonalDataCipher,
    clock: Clock,
    person_id: uuid.UUID,
) -> Referral:
    """Request a referral of the resident ``person_id`` (resolved in the person index by the caller): it
    stores the person only. One open referral per resident: the linked ones by person, the unlinked
    copies by the ID number's blind index."""
    agreement = await agreements.get_as_party(session, principal, data.agreement_id)
    source, _target = sides(agreement, data.direction)
    if principal.institution_id != source:
        raise WrongSide("转诊申请须由转出机构提出（上转为养老机构，下转为医疗机构）")
    check_eligible(agreement, clock.today(), today=clock.today())
    id_hash = cipher.lookup_hash(data.resident.id_number, "id_card")
    open_one = await session.scalar(
        select(Referral.id)
        .where(
            or_(Referral.person_id == person_id, Referral.resident_id_hash == id_hash),
            Referral.state.in_(OPEN_STATES),
        )
        .limit(1)
    )
    if open_one is not None:
        raise OpenReferralExists()
    referral = Referral(
        **referral_values(agreement, data, cipher, id_hash=id_hash, person_id=person_id),
        state=R.requested,
        requested_at=clock.now(),
        requested_by=principal.sub,
    )
    session.add(referral)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request for the same resident won
        raise OpenReferralExists() from exc
    audit.record(
        session,
        principal,
        action="referral.create",
        entity_type=ENTITY,
        entity_id=referral.id,
        changes=audit_changes(data),
    )
    return referral


async def move(
    session: AsyncSession,
    principal: Principal,
    referral: Referral,
    action: str,
    *,
    clock: Clock,
    close: ReferralClose | None = None,
) -> Referral:
    sources, target, side = TRANSITIONS[action]
    if referral.state not in sources:
        raise IllegalTransition(
            entity="转诊", state=referral.state.value, action=action, allowed=allowed_actions(referral.state)
        )
    acting_for = referral.to_institution_id if side == "to" else referral.from_institution_id
    if principal.institution_id != acting_for:
        raise WrongSide("此操作须由接收机构执行" if side == "to" else "此操作须由转出机构执行")
    before = referral.state
    now = clock.now()
    referral.state = target
    if target is R.accepted:
        referral.accepted_at = now
    elif target is R.admitted:
        referral.admitted_at = now
    elif target is R.returned:
        referral.returned_at = now
    else:
        referral.closed_at = now
        referral.close_reason = close.reason if close else None
    await session.flush()
    audit.record(
        session,
        principal,
        action=f"referral.{action}",
        entity_type=ENTITY,
        entity_id=referral.id,
        changes={"state": [before.value, target.value]},
    )
    return referral


# ------------------------------------------------------------------------------------------ stats


def _period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in Shanghai, as UTC instants."""
    low = datetime.combine(start, time(0), CHINA_TZ)
    high = datetime.combine(end + timedelta(days=1), time(0), CHINA_TZ)
    return low, high


async def stats(
    session: AsyncSession, principal: Principal, *, start: date, end: date, group_by: str
) -> list[ReferralRegionStats]:
    """Counts and response times by region: averages with AVG, medians with window functions (the
    same SQL on SQLite and PostgreSQL)."""
    dialect = session.get_bind().dialect.name
    low, high = _period_bounds(start, end)
    region = divisions.city_unit_sql(Referral.region_code) if group_by == "city" else Referral.region_code
    base = (
        select(
            region.label("region"),
            Referral.state.label("state"),
            minutes_between(Referral.accepted_at, Referral.requested_at, dialect).label("to_accept"),
            minutes_between(Referral.admitted_at, Referral.accepted_at, dialect).label("to_admit"),
        )
        .where(visible(principal), Referral.requested_at >= low, Referral.requested_at < high)
        .subquery()
    )
    counts = (
        select(
            base.c.region,
            func.count().label("requested"),
            func.count(base.c.to_accept).label("accepted"),
            func.count(base.c.to_admit).label("admitted"),
            func.sum(_is(base.c.state, R.returned)).label("returned"),
            func.sum(_is(base.c.state, R.declined)).label("declined"),
            func.avg(base.c.to_accept).label("avg_accept"),
            func.avg(base.c.to_admit).label("avg_admit"),
        )
        .group_by(base.c.region)
        .order_by(base.c.region)
    )
    medians = {
        "accept": await _medians(session, base, base.c.to_accept),
        "admit": await _medians(session, base, base.c.to_admit),
    }
    result = []
    for row in (await session.execute(counts)).all():
        division = divisions.get(row.region)
        result.append(
            ReferralRegionStats(
                region_code=row.region,
                region_name=division.name if division else row.region,
                requested=int(row.requested),
                accepted=int(row.accepted),
                admitted=int(row.admitted),
                returned=int(row.returned or 0),
                declined=int(row.declined or 0),
                avg_minutes_to_accept=_round(row.avg_accept),
                median_minutes_to_accept=medians["accept"].get(row.region),
                avg_minutes_to_admit=_round(row.avg_admit),
                median_minutes_to_admit=medians["admit"].get(row.region),
            )
        )
    return result


def _is(column: Any, state: ReferralState) -> Any:
    return case((column == state.value, 1), else_=0)


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


async def _medians(session: AsyncSession, base: Any, column: Any) -> dict[str, float | None]:
    ranked = (
        select(
            base.c.region.label("region"),
            column.label("value"),
            func.row_number().over(partition_by=base.c.region, order_by=column).label("rn"),
            func.count().over(partition_by=base.c.region).label("n"),
        )
        .where(column.is_not(None))
        .subquery()
    )
    middle = and_(
        ranked.c.rn >= (ranked.c.n + 1) // 2,
        ranked.c.rn <= (ranked.c.n + 2) // 2,
    )
    stmt = select(ranked.c.region, func.avg(ranked.c.value)).where(middle).group_by(ranked.c.region)
    return {region: _round(value) for region, value in (await session.execute(stmt)).all()}
