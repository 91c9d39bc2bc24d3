"""A year's 65+ health check-up of a person (one row per person and year) and its parts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin, UTCDateTime, utcnow
from services.residents.base import Base


class Checkup(EntityMixin, ChangeTracked, Base):
    """The person's check-up of a year: the database holds one per (person, year), so a year's parts
    recorded on several days merge into it and the year counts the person once."""

    __tablename__ = "checkup"
    __change_entity__ = "checkup"
    __change_exclude__: ClassVar[frozenset[str]] = frozenset({"age_years"})
    __table_args__ = (
        UniqueConstraint("person_id", "year"),
        Index("ix_checkup_year_region_code", "year", "region_code"),
        # GET /checkups?standard= (with or without a year)
        Index("ix_checkup_standard_year", "standard", "year"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    year: Mapped[int] = mapped_column(Integer)
    # the person's county when the year's record was opened (where the year's check-up counts)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    # the institution that holds the year's record (the one that opened it)
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    # the check-up rule (data/checkup_parts.csv) the record is judged by
    rule_version: Mapped[str] = mapped_column(String(40))
    # age in whole years on the first part's date (≥ 65)
    age_years: Mapped[int] = mapped_column(Integer)
    first_date: Mapped[date] = mapped_column(Date)
    last_date: Mapped[date] = mapped_column(Date)
    parts_done: Mapped[list[str]] = mapped_column(JSON)
    standard: Mapped[bool] = mapped_column(Boolean, default=False)
    # the day the last required part was done (the record became standard)
    standard_date: Mapped[date | None] = mapped_column(Date)
    created_by_sub: Mapped[str] = mapped_column(String(120))


class CheckupPartRecord(Base):
    """One part of a year's check-up (the physical exam, the ECG …), with its date and findings.
    Not in the feed (the check-up carries ``parts_done``); recording the same part again replaces it."""

    __tablename__ = "checkup_part"
    __table_args__ = (UniqueConstraint("checkup_id", "part_code"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    checkup_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("checkup.id", ondelete="CASCADE"))
    part_code: Mapped[str] = mapped_column(String(40))
    done_date: Mapped[date] = mapped_column(Date)
    abnormal: Mapped[bool | None] = mapped_column(Boolean)
    findings: Mapped[str | None] = mapped_column(Text)
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    recorded_by_sub: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
