"""Complaints about an order, and their handling."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin, str_enum
from services.homecare.base import Base


class ComplaintStatus(StrEnum):
    open = "open"
    resolved = "resolved"


COMPLAINT_STATUS_LABELS = {ComplaintStatus.open: "待处理", ComplaintStatus.resolved: "已办结"}


class Complaint(EntityMixin, ChangeTracked, Base):
    __tablename__ = "complaint"
    __change_entity__ = "complaint"
    __change_exclude__: ClassVar[frozenset[str]] = frozenset({"content", "resolution"})

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_order.id"), index=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    status: Mapped[ComplaintStatus] = mapped_column(str_enum(ComplaintStatus, 20), index=True)
    content: Mapped[str] = mapped_column(Text)
    filed_by_sub: Mapped[str] = mapped_column(String(120))
    filed_by_role: Mapped[str] = mapped_column(String(40))
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
