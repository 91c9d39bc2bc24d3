"""The visit record a nurse's app submits for an order (one per order, keyed by the app's record id)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Integer, Numeric, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin
from services.homecare.base import Base
from services.homecare.catalog.models import Money


class VisitRecord(EntityMixin, ChangeTracked, Base):
    __tablename__ = "visit_record"
    __change_entity__ = "visit_record"
    __change_exclude__: ClassVar[frozenset[str]] = frozenset({"notes", "template_fields"})

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_order.id"), unique=True)
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid(), unique=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    client_created_at: Mapped[datetime]
    client_updated_at: Mapped[datetime]

    items_done: Mapped[list[str]] = mapped_column(JSON)
    bp_systolic: Mapped[int | None] = mapped_column(Integer)
    bp_diastolic: Mapped[int | None] = mapped_column(Integer)
    pulse: Mapped[int | None] = mapped_column(Integer)
    respiration_rate: Mapped[int | None] = mapped_column(Integer)
    temperature_c: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    spo2: Mapped[int | None] = mapped_column(Integer)
    blood_glucose_mmol: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    consumables: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    consumables_total_yuan: Mapped[Decimal] = mapped_column(Money)
    notes: Mapped[str | None] = mapped_column(Text)
    signature_sha256: Mapped[str | None] = mapped_column(String(64))
    photo_sha256: Mapped[list[str]] = mapped_column(JSON)
    # the record template version the record was checked against (catalog/templates.py); empty: not
    # checked (recorded before templates, imported history, or the migration period setting off)
    template_version: Mapped[str | None] = mapped_column(String(40))
    # the template's fields other than vital signs, as checked
    template_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
