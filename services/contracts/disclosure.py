"""Whole personal data shown to the institution serving the person, with an audit record of each showing.

Reads run in a read-only session that never commits, so the disclosure record is written in a unit of
work of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from fastapi import Request

from libs.common import audit
from libs.common.auth import Principal
from libs.common.database import Database, session_scope


async def record_disclosure(
    request: Request,
    principal: Principal,
    *,
    entity_type: str,
    entity_id: uuid.UUID,
    fields: Collection[str],
) -> None:
    database: Database = request.app.state.database
    async with session_scope(database) as session:
        audit.record(
            session,
            principal,
            action="personal_data.disclose",
            entity_type=entity_type,
            entity_id=entity_id,
            changes={"fields": sorted(fields)},
        )
