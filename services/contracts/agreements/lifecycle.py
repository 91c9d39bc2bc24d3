"""The agreement state machine and the calendar.

Stored states move by explicit transitions (submit, countersign, terminate, renew) and by the
calendar (activation on the start date, expiry after the end date, Asia/Shanghai). Reads report the
*effective* status — the stored state refined by today's date — so nobody waits for the periodic job;
the job (:func:`advance_calendar`) persists the same moves, idempotently and safely with several
replicas: each move is one ``UPDATE … WHERE state = … AND <date condition>``.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from libs.common import changes
from services.contracts.agreements.models import Agreement, AgreementState

S = AgreementState

#: the transition endpoints allowed from each effective status
ALLOWED_ACTIONS: dict[AgreementState, tuple[str, ...]] = {
    S.draft: ("submit",),
    S.submitted: ("countersign", "terminate"),
    S.countersigned: ("terminate",),
    S.active: ("terminate", "renew"),
    S.expired: ("renew",),
    S.terminated: (),
}


def effective_status(state: AgreementState, start_date: date, end_date: date, today: date) -> AgreementState:
    if state in (S.countersigned, S.active):
        if end_date < today:
            return S.expired
        if start_date <= today:
            return S.active
        return S.countersigned
    return state


def signed_state_for(start_date: date, end_date: date, today: date) -> AgreementState:
    """The state to store when an agreement becomes binding today."""
    return effective_status(S.countersigned, start_date, end_date, today)


def status_condition(status: AgreementState, today: date) -> ColumnElement[bool]:
    """SQL for "effective status is ``status`` on ``today``"."""
    signed = Agreement.state.in_([S.countersigned, S.active])
    if status is S.active:
        return and_(signed, Agreement.start_date <= today, Agreement.end_date >= today)
    if status is S.expired:
        return or_(Agreement.state == S.expired, and_(signed, Agreement.end_date < today))
    if status is S.countersigned:
        return and_(signed, Agreement.start_date > today)
    return Agreement.state == status


def in_force_condition(today: date) -> ColumnElement[bool]:
    return status_condition(S.active, today)


def pairs_scope(pairs: Collection[tuple[uuid.UUID, uuid.UUID]]) -> list[ColumnElement[bool]]:
    """SQL for the agreements of ``pairs``: both parties among the pairs' ones, two ``IN`` lists whatever
    the number of pairs. It may also match other combinations of the same parties; callers that need the
    exact pairs filter the rows (moving those through the calendar is right anyway)."""
    return [
        Agreement.medical_institution_id.in_({medical for medical, _ in pairs}),
        Agreement.elderly_institution_id.in_({elderly for _, elderly in pairs}),
    ]


async def advance_calendar(
    session: AsyncSession,
    *,
    today: date,
    now: datetime,
    pairs: Collection[tuple[uuid.UUID, uuid.UUID]] | None = None,
) -> int:
    """Persist the calendar's moves (expiry first, then activation) and feed them to the change feed.

    Idempotent: a second run (or another replica running at the same time) matches no row.
    ``pairs`` limits the run to the agreements of those (medical, elderly-care) pairs (see
    :func:`pairs_scope`).
    """
    scope = pairs_scope(pairs) if pairs is not None else []
    moved: list[uuid.UUID] = []
    statements = [
        update(Agreement)
        .where(Agreement.state.in_([S.countersigned, S.active]), Agreement.end_date < today, *scope)
        .values(state=S.expired, expired_at=now, updated_at=now, version=Agreement.version + 1),
        update(Agreement)
        .where(
            Agreement.state == S.countersigned,
            Agreement.start_date <= today,
            Agreement.end_date >= today,
            *scope,
        )
        .values(state=S.active, activated_at=now, updated_at=now, version=Agreement.version + 1),
    ]
    for stmt in statements:
        result = await session.execute(
            stmt.returning(Agreement.id), execution_options={"synchronize_session": False}
        )
        moved.extend(result.scalars().all())
    if moved:
        rows = await session.scalars(
            select(Agreement).where(Agreement.id.in_(moved)).execution_options(populate_existing=True)
        )
        for agreement in rows:
            changes.track(session, agreement)
    return len(moved)
