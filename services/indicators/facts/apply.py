"""Applying feed entries to the read model: idempotent, in feed order, ignoring what is not newer.

Each followed entity type maps to its fact table and the wire model of its payload (:data:`FACTS`).
``upsert`` writes the payload's fields over the row (or creates it); ``delete`` (a deletion, or the
entity leaving the reader's scope) removes it. An entry whose ``seq`` is not greater than the row's
``source_seq`` is ignored, so re-applying a page — after a crash between reading and storing, or by two
replicas — leaves the rows as they are.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.models import utcnow
from services.indicators.clients.feeds import (
    AgreementData,
    AssessmentData,
    CheckupData,
    FeedEntry,
    FilingData,
    HomeBedData,
    InstitutionData,
    OrderData,
    RatingData,
    ReferralData,
    SigningData,
    VisitData,
    YearStatData,
)
from services.indicators.facts.models import (
    AgreementFact,
    AssessmentFact,
    CheckupFact,
    FactColumns,
    FilingFact,
    HomeBedFact,
    InstitutionFact,
    InstitutionYearStatFact,
    OrderFact,
    RatingFact,
    ReferralFact,
    RoundVisitFact,
    SigningFact,
)


@dataclass(frozen=True)
class Fact:
    """A followed entity type: its fact table and the fields of its payload that we keep."""

    entity_type: str
    model: type[FactColumns]
    data: type[BaseModel]


#: per source service, the entity types followed (the feed is asked for exactly these)
FACTS: dict[str, tuple[Fact, ...]] = {
    "registry": (
        Fact("institution", InstitutionFact, InstitutionData),
        Fact("institution_year_stat", InstitutionYearStatFact, YearStatData),
        Fact("filing", FilingFact, FilingData),
    ),
    "contracts": (
        Fact("agreement", AgreementFact, AgreementData),
        Fact("visit", RoundVisitFact, VisitData),
        Fact("referral", ReferralFact, ReferralData),
    ),
    "homecare": (
        Fact("home_bed", HomeBedFact, HomeBedData),
        Fact("order", OrderFact, OrderData),
        Fact("rating", RatingFact, RatingData),
    ),
    # issue 19: the residents' signings, 65+ check-ups and ability assessments
    "residents": (
        Fact("signing", SigningFact, SigningData),
        Fact("checkup", CheckupFact, CheckupData),
        Fact("assessment", AssessmentFact, AssessmentData),
    ),
}

FACT_MODELS: tuple[type[FactColumns], ...] = tuple(f.model for facts in FACTS.values() for f in facts)

RESIDENT_FACTS = FACTS["residents"]


class UnexpectedEntry(ValueError):
    """An entry of a type this feed was not asked for, or an upsert without its payload."""


async def apply_entries(
    session: AsyncSession,
    service: str,
    entries: Sequence[FeedEntry],
    *,
    facts: Sequence[Fact] | None = None,
) -> int:
    """Apply ``entries`` (one page, in feed order) of ``service``'s feed (its facts: ``FACTS[service]``
    unless given); return how many rows were written or removed.

    Set-based (issue 19: the residents feed's ~117,000 entries of the demo): per entity type, the stored
    ``source_seq`` of the page's ids in ONE SELECT; each entity's **last** entry newer than its row is its
    new state (a row holds only the latest state, so the entries before it in the page change nothing
    the last one does not overwrite: a tombstone then an upsert — a move between counties — is the
    upsert); then ONE DELETE of the entities whose last entry is a delete, ONE INSERT (executemany) of
    the new rows and ONE UPDATE by primary key (executemany) of the existing ones — Core statements on
    the table (the ORM's bulk paths cost as much again in Python)."""
    facts_by_type = {fact.entity_type: fact for fact in (FACTS[service] if facts is None else facts)}
    by_type: dict[str, list[FeedEntry]] = {}
    for entry in entries:
        if entry.entity_type not in facts_by_type:
            raise UnexpectedEntry(f"{service} feed sent an unsubscribed type {entry.entity_type!r}")
        by_type.setdefault(entry.entity_type, []).append(entry)
    changed = 0
    moment = utcnow()
    for entity_type, items in by_type.items():
        fact = facts_by_type[entity_type]
        model = fact.model
        last: dict[uuid.UUID, FeedEntry] = {}
        for entry in sorted(items, key=lambda e: e.seq):
            last[entry.entity_id] = entry
        stored: dict[uuid.UUID, int] = {
            row_id: seq
            for row_id, seq in (
                await session.execute(select(model.id, model.source_seq).where(model.id.in_(last)))
            ).all()
        }
        removed: list[uuid.UUID] = []
        inserted: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
        for entity_id, entry in last.items():
            seq = stored.get(entity_id)
            if seq is not None and seq >= entry.seq:
                continue
            if entry.op == "delete":
                if seq is not None:
                    removed.append(entity_id)
                continue
            if entry.data is None:
                raise UnexpectedEntry(f"{service} feed sent an upsert of {entity_type} without data")
            values = fact.data.model_validate(entry.data).model_dump()
            values.update(
                id=entity_id,
                region_code=entry.region_code,
                version=entry.version,
                source_seq=entry.seq,
                changed_at=entry.changed_at,
                applied_at=moment,
            )
            (updated if seq is not None else inserted).append(values)
        table = model.__table__  # type: ignore[attr-defined]
        if removed:
            await session.execute(delete(table).where(table.c.id.in_(removed)))
        if inserted:
            await session.execute(insert(table), inserted)
        if updated:  # by primary key: the row's id as a bound parameter of its own
            await session.execute(
                update(table).where(table.c.id == bindparam("row_id")),
                [{**values, "row_id": values.pop("id")} for values in updated],
            )
        changed += len(removed) + len(inserted) + len(updated)
    return changed
