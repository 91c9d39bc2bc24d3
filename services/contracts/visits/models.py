"""巡诊 visits: the medical side's record of each visit under an agreement."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin
from services.contracts.base import Base


class Visit(EntityMixin, ChangeTracked, Base):
    __tablename__ = "visit"
    __change_entity__ = "visit"
    __table_args__ = (
        Index("ix_visit_agreement_id_visit_date", "agreement_id", "visit_date"),
        Index("ix_visit_region_code_visit_date", "region_code", "visit_date"),
        # a visit imported in bulk (historical import, issue 14) is keyed by its city platform's id
        Index("ux_visit_source_key", "source_system", "external_id", unique=True),
    )

    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreement.id"))
    # copied from the agreement, for scope: its county and its medical party's county (both read it)
    region_code: Mapped[str] = mapped_column(String(6))
    medical_region_code: Mapped[str] = mapped_column(String(6))
    medical_institution_id: Mapped[uuid.UUID] = mapped_column(index=True)
    elderly_institution_id: Mapped[uuid.UUID] = mapped_column(index=True)

    visit_date: Mapped[date] = mapped_column(Date)
    practitioner_ids: Mapped[list[str]] = mapped_column(JSON)
    residents_seen: Mapped[int] = mapped_column(Integer)
    #: pseudonymous references the institutions use for residents (bed or file numbers), never names
    resident_refs: Mapped[list[str]] = mapped_column(JSON, default=list)
    services: Mapped[list[str]] = mapped_column(JSON)
    findings: Mapped[str | None] = mapped_column(Text)
    #: authorisations and prescriptions for residents who cannot travel (see schemas.HomeboundOrder)
    homebound_orders: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    recorded_by: Mapped[str] = mapped_column(String(120))

    # records imported in bulk (POST /visits/bulk): their key and the hash that makes a replay unchanged
    source_system: Mapped[str | None] = mapped_column(String(60))
    external_id: Mapped[str | None] = mapped_column(String(120))
    source_hash: Mapped[str | None] = mapped_column(String(64))

    def change_scope(self) -> tuple[str | None, uuid.UUID | None, uuid.UUID | None]:
        return (self.region_code, self.medical_institution_id, self.elderly_institution_id)

    def change_other_region(self) -> str | None:
        return self.medical_region_code
