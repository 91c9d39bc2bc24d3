"""The agreement a bulk record of a visit or a referral belongs to (historical import, issue 14).

A record names its agreement by the platform's id (``agreement_id``) or — what a city platform holds —
by the agreement's key in the same source system (``agreement_external_id``: an agreement it pushed
through ``POST /agreements/bulk``). The agreements of a whole batch are loaded in one SELECT; a record
whose agreement is unknown is rejected ``agreement_not_found``, one of an agreement outside the writer's
region ``out_of_scope`` (403: an out-of-scope write), as the single writes answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from libs.common.auth import Principal
from services.contracts.agreements.errors import AgreementNotFound, OutOfScope
from services.contracts.agreements.models import Agreement


class AgreementRef(Protocol):
    @property
    def agreement_id(self) -> uuid.UUID | None: ...

    @property
    def agreement_external_id(self) -> str | None: ...


class Agreements:
    """The agreements a batch names, by id and by key."""

    def __init__(self, rows: Iterable[Agreement], source_system: str) -> None:
        self.source_system = source_system
        self.by_id: dict[uuid.UUID, Agreement] = {}
        self.by_key: dict[str, Agreement] = {}
        for agreement in rows:
            self.by_id[agreement.id] = agreement
            if agreement.source_system == source_system and agreement.external_id is not None:
                self.by_key[agreement.external_id] = agreement

    def get(self, ref: AgreementRef) -> Agreement:
        """The record's agreement, or 404 ``agreement_not_found``."""
        found = (
            self.by_id.get(ref.agreement_id)
            if ref.agreement_id is not None
            else self.by_key.get(ref.agreement_external_id or "")
        )
        if found is None:
            raise AgreementNotFound()
        return found


async def load(session: AsyncSession, refs: Iterable[AgreementRef], *, source_system: str) -> Agreements:
    """The agreements ``refs`` name, in one SELECT."""
    refs = list(refs)
    ids = {r.agreement_id for r in refs if r.agreement_id is not None}
    keys = {r.agreement_external_id for r in refs if r.agreement_id is None and r.agreement_external_id}
    conditions: list[ColumnElement[bool]] = []
    if ids:
        conditions.append(Agreement.id.in_(ids))
    if keys:
        conditions.append(and_(Agreement.source_system == source_system, Agreement.external_id.in_(keys)))
    if not conditions:
        return Agreements((), source_system)
    rows = await session.scalars(select(Agreement).where(or_(*conditions)))
    return Agreements(rows.all(), source_system)


def ensure_importer(principal: Principal, agreement: Agreement) -> None:
    """Who imports an agreement's records: an official or platform whose scope holds the agreement's
    county (the elderly-care party's; 403 ``out_of_scope``)."""
    if principal.is_institution_user or not principal.scope.contains(agreement.region_code):
        raise OutOfScope()
