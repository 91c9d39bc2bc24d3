"""Audit records of whole personal data shown to a caller (``personal_data.disclose``).

A GET runs in a read-only session that never commits, so a disclosure made while answering one is
recorded in a short write transaction of its own, committed before the response leaves (the read
session is closed first: its rows are already loaded). A write request records them in its own session.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.database import Database
from libs.common.models import AuditRecord, utcnow
from libs.common.personal_data import PersonalDataCipher
from libs.common.request_context import current_request_id

ACTION = "personal_data.disclose"


class Disclosures:
    def __init__(self, database: Database, cipher: PersonalDataCipher) -> None:
        self.database = database
        self.cipher = cipher

    async def record(
        self,
        principal: Principal,
        *,
        entity_type: str,
        entity_ids: Sequence[uuid.UUID],
        fields: Sequence[str],
        session: AsyncSession,
        request_writes: bool = False,
    ) -> None:
        """Record the disclosures: in ``session`` when the request writes anyway; else ``session`` (the
        read session of a GET, whose rows are loaded) is closed and they commit on their own."""
        if not entity_ids or not fields:
            return
        now = utcnow()
        rows = [
            {
                "id": uuid.uuid4(),
                "occurred_at": now,
                "actor_sub": principal.sub,
                "actor_role": principal.role.value,
                "actor_institution_id": principal.institution_id,
                "action": ACTION,
                "entity_type": entity_type,
                "entity_id": str(entity_id),
                "changes": {"fields": list(fields)},
                "request_id": current_request_id(),
            }
            for entity_id in entity_ids
        ]
        if request_writes:
            await session.execute(insert(AuditRecord), rows)
            return
        await session.close()
        async with self.database.session(write=True) as own:
            await own.execute(insert(AuditRecord), rows)
            await own.commit()


def get_disclosures(request: Request) -> Disclosures:
    return Disclosures(request.app.state.database, request.app.state.cipher)


DisclosuresDep = Annotated[Disclosures, Depends(get_disclosures)]
