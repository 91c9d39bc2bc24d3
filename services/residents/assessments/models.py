"""老年人能力评估 records: an assessor's item scores, and the total and level the service computed.

An assessment is never edited: a new one supersedes it (the latest by ``assessed_date``, then
``created_at``, is the person's current level, which homecare's disability rules read).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import ClassVar

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin
from services.residents.base import Base


class Assessment(EntityMixin, ChangeTracked, Base):
    __tablename__ = "assessment"
    __change_entity__ = "assessment"
    __change_exclude__: ClassVar[frozenset[str]] = frozenset({"scores", "note"})
    __table_args__ = (
        Index("ix_assessment_person_id_assessed_date", "person_id", "assessed_date", "created_at"),
        Index("ix_assessment_region_code_assessed_date", "region_code", "assessed_date"),
        # GET /assessments?level= and ?assessed_from=/assessed_to= without a person or county
        Index("ix_assessment_level_assessed_date", "level", "assessed_date"),
        Index("ix_assessment_assessed_date", "assessed_date"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    # the person's county on the day of the assessment
    region_code: Mapped[str] = mapped_column(String(6))
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    assessor_practitioner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    assessed_date: Mapped[date] = mapped_column(Date)
    # the item table and bands (data/ability_*.csv) the scores were given and judged by
    scale_version: Mapped[str] = mapped_column(String(40))
    scores: Mapped[dict[str, int]] = mapped_column(JSON)
    dementia: Mapped[bool] = mapped_column(Boolean)
    mental_disorder: Mapped[bool] = mapped_column(Boolean)
    care_risk_events_30d: Mapped[int] = mapped_column(Integer)
    # computed by the service (scale.score), never taken from the client
    self_care_score: Mapped[int] = mapped_column(Integer)
    basic_motor_score: Mapped[int] = mapped_column(Integer)
    mental_score: Mapped[int] = mapped_column(Integer)
    perception_social_score: Mapped[int] = mapped_column(Integer)
    total_score: Mapped[int] = mapped_column(Integer)
    total_level: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    adjustments: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_sub: Mapped[str] = mapped_column(String(120))
