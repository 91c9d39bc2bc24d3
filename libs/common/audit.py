"""The audit trail every service keeps: actor, action, entity, changed fields, request id."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.changes import json_value
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
