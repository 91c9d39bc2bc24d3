"""备案 filings: a 即办 filing is accepted on submission when complete; the county may reject or revoke it.

    draft ──submit──▶ accepted ──correct──▶ accepted (revision + 1, history kept)
                         │  ├──reject──▶ rejected ──resubmit──▶ accepted
                         │  └──revoke──▶ revoked (final)

An accepted filing gives the institution its medical capability (``has_medical_unit``); rejecting or
revoking it takes that away unless another accepted filing remains.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.concurrency import check_if_match
from libs.common.errors import IllegalTransition
from libs.common.models import utcnow
from libs.common.pagination import PageParams, paginate
from libs.common.scope import can_see, ensure_in_scope_for_write, visible_condition
from services.registry.filings.errors import (
    FilingIncomplete,
    FilingNotAllowed,
    FilingNotFound,
    InstitutionInactive,
)
from services.registry.filings.models import UNIT_KIND_CODES, Filing, FilingEvent, FilingState
from services.registry.filings.schemas import (
    DOCUMENT_LABELS,
    REQUIRED_DOCUMENTS,
    FilingContent,
    FilingCorrection,
    FilingCreate,
)
from services.registry.institutions import service as institutions
from services.registry.institutions.kinds import InstitutionKind
from services.registry.institutions.models import Institution

ENTITY = "filing"
ALLOWED: Final[dict[FilingState, tuple[str, ...]]] = {
    FilingState.draft: ("submit",),
    FilingState.accepted: ("correct", "reject", "revoke"),
    FilingState.rejected: ("resubmit",),
    FilingState.revoked: (),
}
CONTENT_FIELDS: Final = (
    "unit_kind",
    "unit_name",
    "person_in_charge",
    "doctors",
    "nurses",
    "service_scope",
    "documents",
)


def allowed_actions(filing: Filing) -> list[str]:
    return list(ALLOWED[filing.state])


def missing_items(filing: Filing) -> list[tuple[str, str]]:
    """What a filing still lacks before it can be accepted (field, Chinese label)."""
    missing = [("person_in_charge", "负责人")] if not filing.person_in_charge else []
    if filing.doctors + filing.nurses < 1:
        missing.append(("doctors", "至少一名医师或护士"))
    present = set(filing.documents or [])
    missing.extend(
        ("documents", DOCUMENT_LABELS[doc]) for doc in REQUIRED_DOCUMENTS if doc.value not in present
    )
    return missing


async def get(session: AsyncSession, principal: Principal, filing_id: uuid.UUID) -> Filing:
    filing = await session.get(Filing, filing_id)
    if filing is None or not can_see(
        principal, region_code=filing.region_code, institution_ids=[filing.institution_id]
    ):
        raise FilingNotFound()
    return filing


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    institution_id: uuid.UUID | None,
    state: FilingState | None,
) -> tuple[list[Filing], str | None]:
    stmt = select(Filing).where(visible_condition(principal, Filing.region_code, Filing.institution_id))
    if institution_id is not None:
        stmt = stmt.where(Filing.institution_id == institution_id)
    if state is not None:
        stmt = stmt.where(Filing.state == state)
    return await paginate(session, stmt, order_by=[Filing.id], params=params)


async def history(session: AsyncSession, principal: Principal, filing_id: uuid.UUID) -> list[FilingEvent]:
    await get(session, principal, filing_id)
    stmt = (
        select(FilingEvent)
        .where(FilingEvent.filing_id == filing_id)
        .order_by(FilingEvent.occurred_at, FilingEvent.revision)
    )
    return list((await session.scalars(stmt)).all())


def _ensure_writable(principal: Principal, filing: Filing) -> None:
    ensure_in_scope_for_write(
        principal, region_code=filing.region_code, institution_ids=[filing.institution_id], what="备案"
    )


def add_event(
    session: AsyncSession,
    principal: Principal,
    filing: Filing,
    *,
    action: str,
    from_state: FilingState | None,
    reason: str | None = None,
    changes: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
    audit_extra: Mapping[str, Any] | None = None,
) -> None:
    """One step of the filing's history and its audit record (``occurred_at``: now, or the original time
    of a step brought by a history import; ``audit_extra``: how it came, for the audit record only)."""
    session.add(
        FilingEvent(
            filing_id=filing.id,
            action=action,
            from_state=from_state.value if from_state else None,
            to_state=filing.state.value,
            reason=reason,
            changes=changes,
            revision=filing.revision,
            actor_sub=principal.sub,
            actor_role=principal.role.value,
            occurred_at=occurred_at or utcnow(),
        )
    )
    audit.record(
        session,
        principal,
        action=f"filing.{action}",
        entity_type=ENTITY,
        entity_id=filing.id,
        changes={
            "state": [from_state.value if from_state else None, filing.state.value],
            "reason": reason,
            **(changes or {}),
            **(audit_extra or {}),
        },
    )


def filing_no_for(region_code: str, now: datetime) -> str:
    return f"YB{region_code}{now:%Y%m%d}{secrets.randbelow(10**6):06d}"


async def _accept(session: AsyncSession, principal: Principal, filing: Filing) -> None:
    missing = missing_items(filing)
    if missing:
        raise FilingIncomplete(missing)
    now = utcnow()
    filing.state = FilingState.accepted
    filing.accepted_at = now
    filing.state_reason = None
    if filing.filing_no is None:
        filing.filing_no = filing_no_for(filing.region_code, now)


async def refresh_institution(session: AsyncSession, principal: Principal, filing: Filing) -> None:
    institution = await session.get(Institution, filing.institution_id)
    assert institution is not None
    await session.flush()
    await institutions.refresh_has_medical_unit(session, principal, institution)


def check_filable(principal: Principal, institution: Institution) -> None:
    """The caller may file for ``institution`` (in its scope), which may have a filed unit (not a medical
    institution) and is active — the rule of ``create`` and of the history import."""
    ensure_in_scope_for_write(
        principal, region_code=institution.region_code, institution_ids=[institution.id], what="机构"
    )
    if institution.kind == InstitutionKind.medical:
        raise FilingNotAllowed(
            "内设医疗机构备案只适用于养老机构和医养结合机构（filing is for elderly-care institutions）"
        )
    if not institution.active:
        raise InstitutionInactive()


async def create(session: AsyncSession, principal: Principal, data: FilingCreate) -> Filing:
    institution = await institutions.get(session, principal, data.institution_id)
    check_filable(principal, institution)
    values = data.model_dump(exclude={"institution_id", "submit"}, exclude_none=True)
    values["documents"] = [str(doc) for doc in values.get("documents", [])]
    filing = Filing(
        institution_id=institution.id,
        region_code=institution.region_code,
        ws218_kind_code=UNIT_KIND_CODES[data.unit_kind],
        state=FilingState.draft,
        revision=1,
        **{"doctors": 0, "nurses": 0, **values},
    )
    if data.submit:
        await _accept(session, principal, filing)
    session.add(filing)
    await session.flush()
    add_event(
        session,
        principal,
        filing,
        action="submit" if data.submit else "create",
        from_state=None,
        changes=_json(values),
    )
    if filing.state == FilingState.accepted:
        await refresh_institution(session, principal, filing)
    return filing


def _json(values: dict[str, Any]) -> dict[str, Any]:
    return {key: (str(value) if hasattr(value, "value") else value) for key, value in values.items()}


def ensure_allowed(filing: Filing, action: str) -> None:
    if action not in ALLOWED[filing.state]:
        raise IllegalTransition(
            entity="备案", state=filing.state.value, action=action, allowed=ALLOWED[filing.state]
        )


def content_changes(filing: Filing, content: FilingContent) -> dict[str, tuple[Any, Any]]:
    """What ``content`` (the fields it carries) would change in the filing: field → (old, new)."""
    changes: dict[str, tuple[Any, Any]] = {}
    for key, value in content.model_dump(exclude_unset=True, include=set(CONTENT_FIELDS)).items():
        if key == "documents":
            value = sorted(str(doc) for doc in value or [])
        old = getattr(filing, key)
        if old != value:
            changes[key] = (old, value)
    return changes


def apply_changes(filing: Filing, changes: Mapping[str, tuple[Any, Any]]) -> dict[str, Any]:
    """Write :func:`content_changes` to the filing; returns them as the history records them."""
    for key, (_old, value) in changes.items():
        setattr(filing, key, value)
    if "unit_kind" in changes:
        filing.ws218_kind_code = UNIT_KIND_CODES[filing.unit_kind]
    return {
        key: [old.value if hasattr(old, "value") else old, new.value if hasattr(new, "value") else new]
        for key, (old, new) in changes.items()
    }


def _apply(filing: Filing, content: FilingContent) -> dict[str, Any]:
    return apply_changes(filing, content_changes(filing, content))


async def update_draft(
    session: AsyncSession,
    principal: Principal,
    filing_id: uuid.UUID,
    data: FilingContent,
    *,
    if_match: str | None,
) -> Filing:
    filing = await get(session, principal, filing_id)
    _ensure_writable(principal, filing)
    check_if_match(if_match, filing.version)
    if filing.state != FilingState.draft:
        raise IllegalTransition(
            entity="备案", state=filing.state.value, action="edit", allowed=ALLOWED[filing.state]
        )
    changes = _apply(filing, data)
    await session.flush()
    if changes:
        add_event(session, principal, filing, action="edit", from_state=filing.state, changes=changes)
    return filing


async def transition(
    session: AsyncSession,
    principal: Principal,
    filing_id: uuid.UUID,
    action: str,
    *,
    if_match: str | None,
    reason: str | None = None,
    correction: FilingCorrection | None = None,
) -> Filing:
    """Run one of submit / correct / resubmit / reject / revoke on a filing."""
    filing = await get(session, principal, filing_id)
    _ensure_writable(principal, filing)
    check_if_match(if_match, filing.version)
    ensure_allowed(filing, action)
    before = filing.state
    changes: dict[str, Any] = {}
    if action in ("correct", "resubmit") and correction is not None:
        changes = _apply(filing, correction)
        reason = correction.reason
    if action == "correct":
        if missing_items(filing):
            raise FilingIncomplete(missing_items(filing))
        filing.revision += 1
    elif action in ("submit", "resubmit"):
        if action == "resubmit":
            filing.revision += 1
        await _accept(session, principal, filing)
    elif action == "reject":
        filing.state = FilingState.rejected
        filing.state_reason = reason
    elif action == "revoke":
        filing.state = FilingState.revoked
        filing.state_reason = reason
        filing.revoked_at = utcnow()
    await session.flush()
    add_event(
        session, principal, filing, action=action, from_state=before, reason=reason, changes=changes or None
    )
    if filing.state != before:
        await refresh_institution(session, principal, filing)
    return filing
