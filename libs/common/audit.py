"""The audit trail every service keeps: actor, action, entity, changed fields, request id — and a record of
every showing of whole personal data (``personal_data.disclose``)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.changes import json_value
from libs.common.database import READ_METHODS, Database, session_scope
from libs.common.models import AuditRecord
from libs.common.request_context import current_request_id

MASK = "***"


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed, as ``{field: [old, new]}``."""
    return {
        key: [json_value(before.get(key)), json_value(value)]
        for key, value in after.items()
        if before.get(key) != value
    }


def masked(changes: Mapping[str, Any], personal_fields: Collection[str]) -> dict[str, Any]:
    return {key: (MASK if key in personal_fields else json_value(value)) for key, value in changes.items()}


def record(
    session: AsyncSession,
    principal: Principal,
    *,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | str,
    changes: Mapping[str, Any] | None = None,
    personal_fields: Collection[str] = (),
) -> AuditRecord:
    """Add an audit record to the request's transaction (it commits or rolls back with the write)."""
    entry = AuditRecord(
        actor_sub=principal.sub,
        actor_role=principal.role.value,
        actor_institution_id=principal.institution_id,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        changes=masked(changes, personal_fields) if changes is not None else None,
        request_id=current_request_id(),
    )
    session.add(entry)
    return entry


DISCLOSURE_ACTION = "personal_data.disclose"


async def record_disclosures(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    entity_type: str,
    entity_ids: Sequence[uuid.UUID],
    fields: Collection[str],
    purpose: str | None = None,
) -> None:
    """Audit that whole personal data of ``entity_ids`` is about to be shown to ``principal``.

    A write request records it in its own transaction (it commits with the write). A read request's
    session never commits, so the records are committed in a unit of work of their own before the
    response leaves; the read session is closed first (its rows are already loaded), which also keeps
    the two apart when tests run both on one connection.
    """
    if not entity_ids:
        return
    changes: dict[str, Any] = {"fields": sorted(fields)}
    if purpose:
        changes["purpose"] = purpose
    if request.method not in READ_METHODS:
        for entity_id in entity_ids:
            record(
                session,
                principal,
                action=DISCLOSURE_ACTION,
                entity_type=entity_type,
                entity_id=entity_id,
                changes=changes,
            )
        return
    await session.close()
    database: Database = request.app.state.database
    async with session_scope(database) as own:
        for entity_id in entity_ids:
            record(
                own,
                principal,
                action=DISCLOSURE_ACTION,
                entity_type=entity_type,
                entity_id=entity_id,
                changes=changes,
            )
