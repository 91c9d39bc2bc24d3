"""Audit records of disclosures of whole personal data ("personal_data.disclose").

A disclosure is recorded before the data leaves: in the request's transaction for writes, and in a
unit of work of its own for reads (read requests do not commit), so that no whole value is ever sent
without its audit record committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.database import READ_METHODS, Database, session_scope

DISCLOSED_FIELDS = ("name", "id_number", "phone", "address", "emergency_contact", "coordinates")


def _add(
    session: AsyncSession,
    principal: Principal,
    entity_type: str,
    entity_ids: Sequence[uuid.UUID],
    purpose: str,
) -> None:
    for entity_id in entity_ids:
        audit.record(
            session,
            principal,
            action="personal_data.disclose",
            entity_type=entity_type,
            entity_id=entity_id,
            changes={"fields": list(DISCLOSED_FIELDS), "purpose": purpose},
        )


async def disclose(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    *,
    entity_type: str,
    entity_ids: Sequence[uuid.UUID],
    purpose: str,
) -> None:
    if not entity_ids:
        return
    if request.method not in READ_METHODS:
        _add(session, principal, entity_type, entity_ids, purpose)
        return
    database: Database = request.app.state.database
    async with session_scope(database) as audit_session:
        _add(audit_session, principal, entity_type, entity_ids, purpose)
