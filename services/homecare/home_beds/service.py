"""家庭病床: application → assessment (who qualifies) → 建床 by a provider doctor → 查床 rounds →
撤床 with a reason and summary; after the period it must be re-assessed (extends it) or closed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.concurrency import check_if_match
from libs.common.errors import Conflict, Forbidden, IllegalTransition, NotFound, Unprocessable
from libs.common.pagination import PageParams, paginate
from libs.common.scope import visible_condition
from services.homecare import clock
from services.homecare.attachments import service as attachments
from services.homecare.clients.registry import FetchedPractitioner, PractitionerInfo
from services.homecare.home_beds.models import (
    HomeBed,
    HomeBedRound,
    HomeBedStatus,
    Mobility,
    QualifyingCondition,
)
from services.homecare.home_beds.schemas import (
    HomeBedApply,
    HomeBedAssess,
    HomeBedClose,
    HomeBedOpen,
    HomeBedRead,
    HomeBedRoundCreate,
)
from services.homecare.providers import service as providers
from services.homecare.providers.models import Provider
from services.homecare.recipients import service as recipients
from services.homecare.settings import HomecareSettings

S = HomeBedStatus
TRANSITIONS: dict[str, tuple[frozenset[HomeBedStatus], HomeBedStatus]] = {
    "assess": (frozenset({S.applied}), S.assessed),  # or not_qualified
    "open": (frozenset({S.assessed}), S.opened),
    "rounds": (frozenset({S.opened}), S.opened),
    "reassess": (frozenset({S.opened}), S.opened),
    "close": (frozenset({S.opened}), S.closed),
    "withdraw": (frozenset({S.applied, S.assessed}), S.withdrawn),
}


def allowed_actions(status: HomeBedStatus) -> list[str]:
    return [a for a, (sources, _) in TRANSITIONS.items() if status in sources]


def _target(bed: HomeBed, action: str) -> HomeBedStatus:
    sources, to = TRANSITIONS[action]
    if bed.status not in sources:
        error = IllegalTransition(
            entity="家庭病床", state=bed.status.value, action=action, allowed=allowed_actions(bed.status)
        )
        error.extra = {**(error.extra or {}), "current": {"status": bed.status.value, "version": bed.version}}
        raise error
    return to


class HomeBedNotFound(NotFound):
    default_code = "home_bed_not_found"

    def __init__(self) -> None:
        super().__init__("家庭病床不存在")


class QualificationFacts(Protocol):
    """What the qualification rule reads: a stored bed, or a past episode being imported."""

    @property
    def diagnosis(self) -> str: ...
    @property
    def condition_stable(self) -> bool: ...
    @property
    def mobility(self) -> Mobility: ...
    @property
    def conditions(self) -> Sequence[object]: ...
    @property
    def has_family_doctor_contract(self) -> bool: ...


def qualification_gaps(bed: QualificationFacts, settings: HomecareSettings) -> list[str]:
    """Why the applicant does not qualify (empty: qualifies), per rules.md and config."""
    gaps = []
    if not bed.diagnosis.strip():
        gaps.append("须有明确诊断")
    if not bed.condition_stable:
        gaps.append("病情须稳定")
    if bed.mobility is Mobility.ambulant:
        gaps.append("须长期卧床或体弱行动不便")
    if not bed.conditions:
        gaps.append("须符合至少一项建床病种或情形")
    if settings.home_bed_requires_family_doctor_contract and not bed.has_family_doctor_contract:
        gaps.append("须已签约家庭医生")
    return gaps


def is_provider_doctor(info: PractitionerInfo | None, institution_id: uuid.UUID) -> bool:
    """The rule for who assesses, opens, re-assesses and does rounds: an active doctor of the provider."""
    return (
        info is not None and info.kind == "doctor" and info.active and info.institution_id == institution_id
    )


def check_home_bed_provider(provider: Provider | None) -> Provider:
    """The institution runs home beds (a provider flagged ``home_bed_service``)."""
    if provider is None or not provider.home_bed_service:
        raise Unprocessable("本机构未登记提供家庭病床服务", code="no_home_bed_service")
    return provider


def check_round_date(round_date: date, opened_date: date | None, today: date) -> None:
    if opened_date and round_date < opened_date or round_date > today:
        raise Unprocessable("查床日期须在建床日期与今天之间", code="round_date_invalid")


def check_closed_date(closed: date, opened_date: date | None) -> None:
    if opened_date and closed < opened_date:
        raise Unprocessable("撤床日期不能早于建床日期", code="closed_date_invalid")


def period_end(start: date, settings: HomecareSettings) -> date:
    """The end of a period begun (opened or re-assessed) on ``start``."""
    return start + timedelta(days=settings.home_bed_period_days)


def _ensure_provider_user(principal: Principal, bed: HomeBed) -> None:
    if not (principal.is_institution_user and principal.institution_id == bed.institution_id):
        raise Forbidden("只有承担该家庭病床的机构可以执行此操作", code="not_home_bed_provider")


def _ensure_doctor(fetched: FetchedPractitioner, principal: Principal, bed: HomeBed) -> uuid.UUID:
    """The caller is a doctor of the provider. ``fetched`` is the caller asked of the registry before the
    request's write transaction opened (a registry failure is raised only here, after the bed's checks)."""
    _ensure_provider_user(principal, bed)
    if principal.practitioner_id is not None and is_provider_doctor(fetched.get(), bed.institution_id):
        return principal.practitioner_id
    raise Forbidden("须由本机构医师执行", code="doctor_required")


async def get(session: AsyncSession, principal: Principal, bed_id: uuid.UUID) -> HomeBed:
    bed = await session.scalar(
        select(HomeBed).where(
            HomeBed.id == bed_id, visible_condition(principal, HomeBed.region_code, HomeBed.institution_id)
        )
    )
    if bed is None:
        raise HomeBedNotFound()
    return bed


async def list_(
    session: AsyncSession,
    principal: Principal,
    settings: HomecareSettings,
    *,
    params: PageParams,
    status: HomeBedStatus | None,
    overdue: bool | None,
    institution_id: uuid.UUID | None,
) -> tuple[list[HomeBed], str | None]:
    stmt = select(HomeBed).where(visible_condition(principal, HomeBed.region_code, HomeBed.institution_id))
    if status is not None:
        stmt = stmt.where(HomeBed.status == status)
    if institution_id is not None:
        stmt = stmt.where(HomeBed.institution_id == institution_id)
    if overdue is True:
        stmt = stmt.where(HomeBed.status == S.opened, HomeBed.period_end_date < clock.today())
    return await paginate(session, stmt, order_by=[HomeBed.id], params=params)


async def apply(
    session: AsyncSession, principal: Principal, data: HomeBedApply, settings: HomecareSettings
) -> HomeBed:
    if not principal.is_institution_user or principal.institution_id is None:
        raise Forbidden("家庭病床由提供该服务的机构受理", code="not_home_bed_provider")
    provider = check_home_bed_provider(await providers.find(session, principal.institution_id))
    recipient = await recipients.get(session, principal, data.recipient_id)
    existing = await session.scalar(
        select(HomeBed.id).where(
            HomeBed.recipient_id == recipient.id,
            HomeBed.status.in_([S.applied.value, S.assessed.value, S.opened.value]),
        )
    )
    if existing is not None:
        raise Conflict(
            "该服务对象已有进行中的家庭病床", code="home_bed_exists", extra={"home_bed_id": str(existing)}
        )
    bed = HomeBed(
        record_no=f"JTBC-{clock.today():%Y%m%d}-{uuid.uuid4().hex[:8].upper()}",
        institution_id=provider.institution_id,
        provider_name=provider.institution_name,
        region_code=recipient.region_code,
        recipient_id=recipient.id,
        status=S.applied,
        diagnosis=data.diagnosis,
        condition_stable=data.condition_stable,
        mobility=data.mobility,
        conditions=[c.value for c in data.conditions],
        has_family_doctor_contract=data.has_family_doctor_contract,
        application_note=data.application_note,
        applied_by_sub=principal.sub,
    )
    session.add(bed)
    await session.flush()
    audit.record(session, principal, action="home_bed.apply", entity_type="home_bed", entity_id=bed.id)
    return bed


async def assess(
    session: AsyncSession,
    principal: Principal,
    doctor: FetchedPractitioner,
    settings: HomecareSettings,
    bed: HomeBed,
    data: HomeBedAssess,
    if_match: str | None,
) -> HomeBed:
    _target(bed, "assess")
    practitioner_id = _ensure_doctor(doctor, principal, bed)
    check_if_match(if_match, bed.version)
    for key, value in data.model_dump(exclude_unset=True, exclude={"note"}).items():
        if value is not None:
            setattr(bed, key, [c.value for c in value] if key == "conditions" else value)
    gaps = qualification_gaps(bed, settings)
    bed.status = S.assessed if not gaps else S.not_qualified
    bed.assessed_at = clock.now()
    bed.assessed_by_practitioner_id = practitioner_id
    bed.assessment = {"qualified": not gaps, "gaps": gaps, "note": data.note}
    return await _saved(session, principal, bed, "assess", {"qualified": not gaps})


async def open_(
    session: AsyncSession,
    principal: Principal,
    doctor: FetchedPractitioner,
    settings: HomecareSettings,
    bed: HomeBed,
    data: HomeBedOpen,
    if_match: str | None,
) -> HomeBed:
    _target(bed, "open")
    practitioner_id = _ensure_doctor(doctor, principal, bed)
    check_if_match(if_match, bed.version)
    opened = data.opened_date or clock.today()
    bed.status = S.opened
    bed.opened_at = clock.now()
    bed.opened_date = opened
    bed.opened_by_practitioner_id = practitioner_id
    bed.care_plan = data.care_plan
    bed.consent_at = data.consent_at
    bed.round_interval_days = data.round_interval_days or settings.home_bed_round_interval_days
    bed.period_end_date = period_end(opened, settings)
    return await _saved(session, principal, bed, "open", {"opened_date": opened})


async def add_round(
    session: AsyncSession,
    principal: Principal,
    doctor: FetchedPractitioner,
    bed: HomeBed,
    data: HomeBedRoundCreate,
) -> tuple[HomeBedRound, bool]:
    existing = await session.scalar(
        select(HomeBedRound).where(HomeBedRound.client_record_id == data.client_record_id)
    )
    if existing is not None:
        if existing.home_bed_id != bed.id:
            raise Conflict("client_record_id 已用于另一家庭病床", code="client_record_id_reused")
        return existing, False
    _target(bed, "rounds")
    practitioner_id = _ensure_doctor(doctor, principal, bed)
    check_round_date(data.round_date, bed.opened_date, clock.today())
    await attachments.ensure_uploaded(session, data.photo_sha256)
    round_ = HomeBedRound(
        home_bed_id=bed.id,
        institution_id=bed.institution_id,
        region_code=bed.region_code,
        practitioner_id=practitioner_id,
        client_record_id=data.client_record_id,
        round_date=data.round_date,
        findings=data.findings,
        orders_text=data.orders_text,
        photo_sha256=list(data.photo_sha256),
    )
    session.add(round_)
    if bed.last_round_date is None or data.round_date > bed.last_round_date:
        bed.last_round_date = data.round_date
    await session.flush()
    audit.record(
        session,
        principal,
        action="home_bed.round",
        entity_type="home_bed",
        entity_id=bed.id,
        changes={"round_date": data.round_date},
    )
    return round_, True


async def reassess(
    session: AsyncSession,
    principal: Principal,
    doctor: FetchedPractitioner,
    settings: HomecareSettings,
    bed: HomeBed,
    data: HomeBedAssess,
    if_match: str | None,
) -> HomeBed:
    """Re-assessment of an open bed: still qualifies → a new period from today; else 422 (close it)."""
    _target(bed, "reassess")
    practitioner_id = _ensure_doctor(doctor, principal, bed)
    check_if_match(if_match, bed.version)
    for key, value in data.model_dump(exclude_unset=True, exclude={"note"}).items():
        if value is not None:
            setattr(bed, key, [c.value for c in value] if key == "conditions" else value)
    gaps = qualification_gaps(bed, settings)
    if gaps:
        raise Unprocessable(
            "再评估不符合建床条件，请撤床（原因：不再符合建床条件）",
            code="no_longer_qualifies",
            extra={"gaps": gaps},
        )
    bed.assessed_at = clock.now()
    bed.assessed_by_practitioner_id = practitioner_id
    bed.assessment = {"qualified": True, "gaps": [], "note": data.note, "reassessment": True}
    bed.reassessment_count += 1
    bed.period_end_date = period_end(clock.today(), settings)
    return await _saved(session, principal, bed, "reassess", {"period_end_date": bed.period_end_date})


async def close(
    session: AsyncSession,
    principal: Principal,
    bed: HomeBed,
    data: HomeBedClose,
    if_match: str | None,
) -> HomeBed:
    _target(bed, "close")
    _ensure_provider_user(principal, bed)
    check_if_match(if_match, bed.version)
    closed = data.closed_date or clock.today()
    check_closed_date(closed, bed.opened_date)
    bed.status = S.closed
    bed.closed_at = clock.now()
    bed.closed_date = closed
    bed.close_reason = data.reason
    bed.close_summary = data.summary
    return await _saved(session, principal, bed, "close", {"reason": data.reason.value})


async def withdraw(
    session: AsyncSession, principal: Principal, bed: HomeBed, if_match: str | None
) -> HomeBed:
    _target(bed, "withdraw")
    _ensure_provider_user(principal, bed)
    check_if_match(if_match, bed.version)
    bed.status = S.withdrawn
    return await _saved(session, principal, bed, "withdraw", {})


async def _saved(
    session: AsyncSession, principal: Principal, bed: HomeBed, action: str, changes: dict[str, Any]
) -> HomeBed:
    await session.flush()
    audit.record(
        session,
        principal,
        action=f"home_bed.{action}",
        entity_type="home_bed",
        entity_id=bed.id,
        changes={"status": bed.status.value, **changes},
    )
    return bed


async def rounds(session: AsyncSession, bed: HomeBed) -> list[HomeBedRound]:
    rows = await session.scalars(
        select(HomeBedRound).where(HomeBedRound.home_bed_id == bed.id).order_by(HomeBedRound.round_date)
    )
    return list(rows)


def to_read(bed: HomeBed, principal: Principal) -> HomeBedRead:
    today = clock.today()
    own = principal.is_institution_user and principal.institution_id == bed.institution_id
    next_due: date | None = None
    if bed.status is S.opened and bed.round_interval_days:
        base = bed.last_round_date or bed.opened_date
        next_due = base + timedelta(days=bed.round_interval_days) if base else None
    return HomeBedRead(
        id=bed.id,
        record_no=bed.record_no,
        institution_id=bed.institution_id,
        provider_name=bed.provider_name,
        region_code=bed.region_code,
        recipient_id=bed.recipient_id,
        status=bed.status,
        allowed_actions=allowed_actions(bed.status),
        diagnosis=bed.diagnosis if own else None,
        condition_stable=bed.condition_stable,
        mobility=bed.mobility,
        conditions=[QualifyingCondition(c) for c in bed.conditions],
        has_family_doctor_contract=bed.has_family_doctor_contract,
        assessed_at=bed.assessed_at,
        assessed_by_practitioner_id=bed.assessed_by_practitioner_id,
        assessment=bed.assessment,
        opened_date=bed.opened_date,
        opened_by_practitioner_id=bed.opened_by_practitioner_id,
        care_plan=bed.care_plan if own else None,
        round_interval_days=bed.round_interval_days,
        period_end_date=bed.period_end_date,
        last_round_date=bed.last_round_date,
        next_round_due=next_due,
        reassessment_count=bed.reassessment_count,
        period_overdue=bed.status is S.opened
        and bed.period_end_date is not None
        and bed.period_end_date < today,
        round_overdue=next_due is not None and next_due < today,
        closed_date=bed.closed_date,
        close_reason=bed.close_reason,
        version=bed.version,
        created_at=bed.created_at,
        updated_at=bed.updated_at,
    )
