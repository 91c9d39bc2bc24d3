"""SOS alerts raised by a nurse's app during a visit: recorded at once, seen by the provider's admins."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from sqlalchemy import Float, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin, utcnow
from services.homecare.base import Base


class SosAlert(EntityMixin, ChangeTracked, Base):
    __tablename__ = "sos_alert"
    __change_entity__ = "sos_alert"
    __change_exclude__: ClassVar[frozenset[str]] = frozenset({"latitude", "longitude", "message"})
    __table_args__ = (Index("ix_sos_alert_open", "institution_id", "resolved_at"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_order.id"), index=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    client_event_id: Mapped[uuid.UUID] = mapped_column(Uuid(), unique=True)
    client_at: Mapped[datetime]
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    message: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
    resolved_by_sub: Mapped[str | None] = mapped_column(String(120))
    resolution: Mapped[str | None] = mapped_column(Text)
