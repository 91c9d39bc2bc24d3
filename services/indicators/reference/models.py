"""The reference tables: every load is a version of its dataset, its rows kept beside the older ones.

A load never changes a row: it adds a :class:`ReferenceVersion` (``dataset`` = ``population`` or
``targets``, ``number`` 1, 2, … per dataset) and all the rows of the file under it. The current content
of a dataset is its highest-numbered version; older ones stay readable (``?version=``). Rows are stored
in their natural order (county and year; indicator, region, due date) and paginated by ``position``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import UTCDateTime, utcnow
from services.indicators.base import Base


class ReferenceVersion(Base):
    """One load of a dataset: who loaded it, when, how many rows, and their sources."""

    __tablename__ = "reference_version"
    __table_args__ = (UniqueConstraint("dataset", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    dataset: Mapped[str] = mapped_column(String(20))
    number: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    loaded_by: Mapped[str] = mapped_column(String(120))
    loaded_by_role: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str | None] = mapped_column(String(255))
    row_count: Mapped[int] = mapped_column(Integer)
    # {source: number of rows}, e.g. {"福建省统计年鉴2024": 84}
    sources: Mapped[dict[str, Any]] = mapped_column(JSON)


class PopulationRecord(Base):
    """Resident population and population aged 65+ of a county-level division in a year."""

    __tablename__ = "population"
    __table_args__ = (
        UniqueConstraint("version_id", "region_code", "year"),
        Index("ix_population_version_year", "version_id", "year"),
    )

    version_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("reference_version.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    residents: Mapped[int] = mapped_column(BigInteger)
    aged_65_plus: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))


class TargetRecord(Base):
    """A target: an indicator, where it applies, the comparison, the value, the due date, the source."""

    __tablename__ = "target"
    __table_args__ = (
        UniqueConstraint(
            "version_id", "indicator", "region_code", "each_county", "due_date", name="uq_target_version_key"
        ),
        Index("ix_target_version_due_date", "version_id", "due_date"),
    )

    version_id: Mapped[uuid.UUID] = mapped_column(
        Uuid(), ForeignKey("reference_version.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    indicator: Mapped[str] = mapped_column(String(60))
    region_code: Mapped[str] = mapped_column(String(6))
    # True: evaluated county by county within the region ("each county"); False: the region as a whole
    each_county: Mapped[bool]
    comparison: Mapped[str] = mapped_column(String(3))
    # in the indicator's unit (catalogue.Unit): a rate as a fraction (0.85), per 10k, or a count
    value: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    due_date: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(200))
