"""The 医养结合 services done for 失能 elders (owed twice a year: care_services/windows.py)."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin
from services.residents.base import Base


class CareServiceKind(StrEnum):
    health_assessment = "health_assessment"
    medical_care = "medical_care"
    rehabilitation = "rehabilitation"
    medication_guidance = "medication_guidance"
    health_education = "health_education"
    psychological_support = "psychological_support"
    tcm = "tcm"


CARE_SERVICE_KIND_LABELS = {
    CareServiceKind.health_assessment: "健康评估",
    CareServiceKind.medical_care: "医疗护理",
    CareServiceKind.rehabilitation: "康复指导",
    CareServiceKind.medication_guidance: "用药指导",
    CareServiceKind.health_education: "健康教育与指导",
    CareServiceKind.psychological_support: "心理支持",
    CareServiceKind.tcm: "中医药服务",
}


class CareService(EntityMixin, ChangeTracked, Base):
    __tablename__ = "care_service"
    __change_entity__ = "care_service"
    __change_exclude__: ClassVar[frozenset[str]] = frozenset({"note"})
    __table_args__ = (
        Index("ix_care_service_person_id_service_date", "person_id", "service_date"),
        Index("ix_care_service_year_window_region_code", "year", "window_number", "region_code"),
        # GET /care-services?window= without a year, and ?region_code= alone
        Index("ix_care_service_window_number_year", "window_number", "year"),
        Index("ix_care_service_region_code_service_date", "region_code", "service_date"),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"))
    region_code: Mapped[str] = mapped_column(String(6))
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    # the assessment that made the person owed the service (their latest on the service date)
    assessment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("assessment.id"))
    # a client's own id of the record: a retried request does not record the service twice
    client_record_id: Mapped[uuid.UUID] = mapped_column(Uuid(), unique=True)
    service_date: Mapped[date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)
    window_number: Mapped[int] = mapped_column(Integer)
    kinds: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_sub: Mapped[str] = mapped_column(String(120))
