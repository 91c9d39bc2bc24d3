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

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

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
    unless given); return how many changed a row."""
    facts_by_type = {fact.entity_type: fact for fact in (FACTS[service] if facts is None else facts)}
    by_type: dict[str, list[FeedEntry]] = {}
    for entry in entries:
        if entry.entity_type not in facts_by_type:
            raise UnexpectedEntry(f"{service} feed sent an unsubscribed type {entry.entity_type!r}")
        by_type.setdefault(entry.entity_type, []).append(entry)
    changed = 0
    for entity_type, items in by_type.items():
        fact = facts_by_type[entity_type]
        model = fact.model
        ids = {entry.entity_id for entry in items}
        rows: dict[uuid.UUID, FactColumns] = {
            row.id: row for row in (await session.scalars(select(model).where(model.id.in_(ids)))).all()
        }
        for entry in sorted(items, key=lambda e: e.seq):
            row = rows.get(entry.entity_id)
            if row is not None and row.source_seq >= entry.seq:
                continue
            if entry.op == "delete":
                if row is not None:
                    await session.flush()  # the row may have been added earlier in this page
                    await session.delete(row)
                    await session.flush()  # and may come back later in it
                    del rows[entry.entity_id]
                    changed += 1
                continue
            if entry.data is None:
                raise UnexpectedEntry(f"{service} feed sent an upsert of {entity_type} without data")
            values = fact.data.model_validate(entry.data).model_dump()
            values.update(
                region_code=entry.region_code,
                version=entry.version,
                source_seq=entry.seq,
                changed_at=entry.changed_at,
            )
            if row is None:
                row = model()
                row.id = entry.entity_id
                session.add(row)
                rows[entry.entity_id] = row
            for key, value in values.items():
                setattr(row, key, value)
            changed += 1
    return changed
