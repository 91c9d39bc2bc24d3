"""The order events a nurse's app and an institution's dispatcher follow (issue 18): one row per event,
numbered in commit order (``seq``, written under the change feed's lock), addressed to the institution
and, when one is concerned, to a nurse."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import BigIntKey, str_enum
from services.homecare.base import Base


class EventType(StrEnum):
    assigned = "assigned"
    unassigned = "unassigned"
    rescheduled = "rescheduled"
    cancelled = "cancelled"
    completed = "completed"
    sos_raised = "sos_raised"
    sos_acknowledged = "sos_acknowledged"


EVENT_TYPE_LABELS = {
    EventType.assigned: "已派单",
    EventType.unassigned: "已撤回派单",
    EventType.rescheduled: "已改期",
    EventType.cancelled: "已取消",
    EventType.completed: "已完成",
    EventType.sos_raised: "报警",
    EventType.sos_acknowledged: "报警已处理",
}


class OrderNotice(Base):
    """One event of an order as its followers see it. The source is the order's event log
    (``order_event_id``) or its SOS alert (``sos_alert_id``); ``payload`` is the type's allow-list
    (no personal data)."""

    __tablename__ = "order_notice"
    __table_args__ = (
        # a nurse's feed and an institution's feed, each paged by seq
        Index("ix_order_notice_nurse_seq", "practitioner_id", "seq"),
        Index("ix_order_notice_institution_seq", "institution_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    event_type: Mapped[EventType] = mapped_column(str_enum(EventType, 30))
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    #: the nurse the event concerns (the one assigned, un-assigned, who raised the SOS …), if any
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    occurred_at: Mapped[datetime]
    order_event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    sos_alert_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    region_code: Mapped[str] = mapped_column(String(6))
