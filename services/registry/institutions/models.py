"""Institutions and their yearly occupancy figures."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from libs.common.models import ChangeTracked, EntityMixin, str_enum
from services.registry.base import Base
from services.registry.institutions.kinds import KIND_LABELS as KIND_LABELS
from services.registry.institutions.kinds import (
    Category,
    ElderlyCareOwnership,
    HospitalGrade,
    HospitalType,
    InstitutionKind,
    IntegratedModel,
    LicenceType,
    Ownership,
)

__all__ = ["KIND_LABELS", "Institution", "InstitutionKind", "InstitutionYearStat"]


class Institution(EntityMixin, ChangeTracked, Base):
    """A medical, elderly-care or integrated institution: the province's master record.

    Every filter of the list endpoint has an index (see ``__table_args__``). ``has_medical_unit`` is
    derived: true for medical and integrated institutions, and for an elderly-care one while it has an
    accepted 内设医疗机构 filing.
    """

    __tablename__ = "institution"
    __change_entity__ = "institution"
    __change_exclude__: ClassVar[frozenset[str]] = frozenset({"contact_phone_enc"})
    __table_args__ = (
        Index("ix_institution_region_name", "region_code", "name", "id"),
        # nearby's candidates (id, latitude, longitude of the active ones in scope) from the index alone:
        # a box around a city holds thousands of institutions at province scale (issue 16, growth)
        Index(
            "ix_institution_nearby",
            "latitude",
            "longitude",
            "active",
            "region_code",
            "kind",
            "category",
            "id",
        ),
        Index("ix_institution_source_key", "source_system", "external_id", unique=True),
        UniqueConstraint("uscc"),
    )

    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[InstitutionKind] = mapped_column(str_enum(InstitutionKind, 20), index=True)
    category: Mapped[Category] = mapped_column(str_enum(Category, 40), index=True)
    hospital_grade: Mapped[HospitalGrade | None] = mapped_column(str_enum(HospitalGrade, 20))
    hospital_type: Mapped[HospitalType | None] = mapped_column(str_enum(HospitalType, 20))
    elderly_care_ownership: Mapped[ElderlyCareOwnership | None] = mapped_column(
        str_enum(ElderlyCareOwnership, 30)
    )
    integrated_model: Mapped[IntegratedModel | None] = mapped_column(str_enum(IntegratedModel, 40))
    ownership: Mapped[Ownership | None] = mapped_column(str_enum(Ownership, 10))

    uscc: Mapped[str | None] = mapped_column(String(18))
    ws218_kind_code: Mapped[str | None] = mapped_column(String(4))
    licence_type: Mapped[LicenceType | None] = mapped_column(str_enum(LicenceType, 20))
    licence_no: Mapped[str | None] = mapped_column(String(60))

    region_code: Mapped[str] = mapped_column(String(6), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    operating_since: Mapped[date | None] = mapped_column(Date, index=True)
    medical_operating_since: Mapped[date | None] = mapped_column(Date)
    elderly_care_operating_since: Mapped[date | None] = mapped_column(Date)

    legal_person: Mapped[str | None] = mapped_column(String(50))
    contact_name: Mapped[str | None] = mapped_column(String(50))
    contact_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    beds_elderly_care: Mapped[int] = mapped_column(Integer, default=0, index=True)
    beds_medical: Mapped[int] = mapped_column(Integer, default=0, index=True)
    beds_integrated: Mapped[int] = mapped_column(Integer, default=0, index=True)
    beds_rehabilitation: Mapped[int] = mapped_column(Integer, default=0)
    beds_nursing: Mapped[int] = mapped_column(Integer, default=0)
    beds_hospice: Mapped[int] = mapped_column(Integer, default=0)

    residents: Mapped[int] = mapped_column(Integer, default=0)
    disabled_level_1: Mapped[int] = mapped_column(Integer, default=0)
    disabled_level_2: Mapped[int] = mapped_column(Integer, default=0)
    disabled_level_3: Mapped[int] = mapped_column(Integer, default=0)
    disabled_level_4: Mapped[int] = mapped_column(Integer, default=0)
    dementia_residents: Mapped[int] = mapped_column(Integer, default=0)

    medical_insurance_designated: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    elderly_green_channel: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    hospice_care: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    home_bed_service: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    internet_nursing_provider: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # derived: true exactly when elderly_friendly_year is set (schemas.InstitutionFields.elderly_friendly)
    elderly_friendly: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    elderly_friendly_year: Mapped[int | None] = mapped_column(Integer)
    tcm_hall: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    has_medical_unit: Mapped[bool] = mapped_column(Boolean, default=False, index=True)

    national_demonstration_year: Mapped[int | None] = mapped_column(Integer)
    provincial_demonstration_year: Mapped[int | None] = mapped_column(Integer)

    # City-platform records are keyed by (source_system, external_id); both null for others.
    source_system: Mapped[str | None] = mapped_column(String(60))
    external_id: Mapped[str | None] = mapped_column(String(100))

    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)

    def change_scope(self) -> tuple[str | None, uuid.UUID | None, None]:
        return (self.region_code, self.id, None)


class InstitutionYearStat(EntityMixin, ChangeTracked, Base):
    """An institution's occupancy and residents for one calendar year.

    Occupancy is kept as ``occupied_bed_days`` (实际占用总床日数, the health-statistics measure) over
    ``operating_beds`` (实际开放床位, the year's average): occupancy = occupied_bed_days ÷
    (operating_beds × days in the year). Residents are the year-end count; ``disabled_residents`` are
    失能 level ≥ 1 (GB/T 42195), ``disabled_or_dementia_residents`` counts a person who is both once.

    In the change feed (the indicators' 入住 100 人以上 rule reads a year's residents, not today's):
    ``region_code`` is the institution's county, for the feed's scope only — filled from the institution
    on insert and moved with it (``service.update``, ``batch_write``).
    """

    __tablename__ = "institution_year_stat"
    __change_entity__ = "institution_year_stat"
    __table_args__ = (UniqueConstraint("institution_id", "year"),)

    institution_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("institution.id"))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    year: Mapped[int] = mapped_column(Integer)
    operating_beds: Mapped[int] = mapped_column(Integer)
    occupied_bed_days: Mapped[int] = mapped_column(Integer)
    residents: Mapped[int] = mapped_column(Integer)
    disabled_residents: Mapped[int] = mapped_column(Integer)
    dementia_residents: Mapped[int] = mapped_column(Integer)
    disabled_or_dementia_residents: Mapped[int] = mapped_column(Integer)


@event.listens_for(InstitutionYearStat, "before_insert")
def _region_of_institution(_mapper: Mapper[Any], connection: Connection, target: InstitutionYearStat) -> None:
    """A year's figures lie in their institution's county (the feed's scope)."""
    if getattr(target, "region_code", None) is None:
        region: str | None = connection.scalar(
            select(Institution.region_code).where(Institution.id == target.institution_id)
        )
        if region is not None:
            target.region_code = region
