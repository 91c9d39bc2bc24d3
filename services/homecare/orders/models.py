"""Orders of 互联网+护理服务, their item snapshots, their event log (全程留痕), nurse bookings, SOS,
ratings and complaints."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from libs.common.models import ChangeTracked, EntityMixin, str_enum, utcnow
from services.homecare.base import Base
from services.homecare.catalog.models import Money, Risk

if TYPE_CHECKING:
    from services.homecare.recipients.models import Recipient


class OrderStatus(StrEnum):
    submitted = "submitted"
    assessed = "assessed"
    accepted = "accepted"
    rejected = "rejected"
    assigned = "assigned"
    en_route = "en_route"
    checked_in = "checked_in"
    in_service = "in_service"
    checked_out = "checked_out"
    completed = "completed"
    rated = "rated"
    cancelled = "cancelled"
    incident = "incident"


STATUS_LABELS = {
    OrderStatus.submitted: "已提交",
    OrderStatus.assessed: "已评估",
    OrderStatus.accepted: "已受理",
    OrderStatus.rejected: "已拒绝",
    OrderStatus.assigned: "已派单",
    OrderStatus.en_route: "护士出发",
    OrderStatus.checked_in: "已签到",
    OrderStatus.in_service: "服务中",
    OrderStatus.checked_out: "已签退",
    OrderStatus.completed: "已完成",
    OrderStatus.rated: "已评价",
    OrderStatus.cancelled: "已取消",
    OrderStatus.incident: "因意外终止",
}


class ServiceGroup(StrEnum):
    """Who may be served (国家 互联网+护理服务 试点 rules)."""

    discharged = "discharged"
    rehabilitation = "rehabilitation"
    end_of_life = "end_of_life"
    chronic = "chronic"
    maternal_newborn = "maternal_newborn"
    very_old = "very_old"
    frail_disabled_demented = "frail_disabled_demented"


SERVICE_GROUP_LABELS = {
    ServiceGroup.discharged: "出院患者",
    ServiceGroup.rehabilitation: "康复期患者",
    ServiceGroup.end_of_life: "终末期患者",
    ServiceGroup.chronic: "慢性病患者",
    ServiceGroup.maternal_newborn: "母婴",
    ServiceGroup.very_old: "高龄老人",
    ServiceGroup.frail_disabled_demented: "失能、失智、行动不便者",
}


class Order(EntityMixin, ChangeTracked, Base):
    __tablename__ = "service_order"
    __change_entity__ = "order"
    __change_exclude__: ClassVar[frozenset[str]] = frozenset({"address_enc", "latitude", "longitude", "note"})
    __table_args__ = (
        UniqueConstraint("source_system", "external_id"),
        Index("ix_service_order_flag_queue", "flagged", "flag_reviewed_at"),
        Index("ix_service_order_nurse_window", "nurse_practitioner_id", "window_start"),
        # an institution's order list, paged by id (migration homecare_0005)
        Index("ix_service_order_institution_page", "institution_id", "id"),
    )

    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    provider_name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recipient.id"), index=True)
    home_bed_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("home_bed.id"), index=True)
    catalog_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("catalog_version.id"))
    catalog_version_code: Mapped[str] = mapped_column(String(40))
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus, 20), index=True)

    window_start: Mapped[datetime] = mapped_column(index=True)
    window_end: Mapped[datetime]
    address_enc: Mapped[bytes] = mapped_column(LargeBinary)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)

    placed_by_sub: Mapped[str] = mapped_column(String(120))
    placed_by_role: Mapped[str] = mapped_column(String(40))
    source_system: Mapped[str | None] = mapped_column(String(60))
    external_id: Mapped[str | None] = mapped_column(String(100))

    requires_doctor: Mapped[bool] = mapped_column(Boolean, default=False)
    service_group: Mapped[ServiceGroup | None] = mapped_column(str_enum(ServiceGroup, 40))
    assessment_note: Mapped[str | None] = mapped_column(Text)
    assessed_by_practitioner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    assessed_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)

    nurse_practitioner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    assigned_at: Mapped[datetime | None]
    en_route_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    in_service_at: Mapped[datetime | None]
    checked_out_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    rated_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(Text)
    # minutes from submission to check-in (for the response-time report)
    response_minutes: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))

    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    flag_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    flag_reviewed_at: Mapped[datetime | None]
    flag_review_note: Mapped[str | None] = mapped_column(Text)

    visit_fee_yuan: Mapped[Decimal] = mapped_column(Money)
    items_total_yuan: Mapped[Decimal] = mapped_column(Money)
    consumables_total_yuan: Mapped[Decimal | None] = mapped_column(Money)
    total_yuan: Mapped[Decimal | None] = mapped_column(Money)
    fees_fixed_at: Mapped[datetime | None]

    items: Mapped[list[OrderItem]] = relationship(lazy="raise", order_by="OrderItem.item_code")
    recipient: Mapped[Recipient] = relationship(lazy="raise")
    rating: Mapped[Rating | None] = relationship(lazy="raise", uselist=False, viewonly=True)


class OrderItem(EntityMixin, ChangeTracked, Base):
    """An item of an order as it was when placed (catalog snapshot and the provider's price)."""

    __tablename__ = "order_item"
    __change_entity__ = "order_item"
    __table_args__ = (UniqueConstraint("order_id", "item_code"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_order.id"), index=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    item_code: Mapped[str] = mapped_column(String(20), index=True)
    item_name: Mapped[str] = mapped_column(String(100))
    risk: Mapped[Risk] = mapped_column(str_enum(Risk, 10))
    needs_medical_order: Mapped[bool] = mapped_column(Boolean)
    needs_specialist_training: Mapped[bool] = mapped_column(Boolean)
    required_title: Mapped[str | None] = mapped_column(String(20))
    price_yuan: Mapped[Decimal] = mapped_column(Money)


class OrderEvent(Base):
    """Every transition and location report of an order, as received (全程留痕)."""

    __tablename__ = "order_event"
    __table_args__ = (Index("ix_order_event_nurse_client_at", "practitioner_id", "client_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_order.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    actor_sub: Mapped[str] = mapped_column(String(120))
    practitioner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    # the app's own id of this write: a replay with the same id never applies twice
    client_event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), unique=True)
    client_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    is_mock_location: Mapped[bool | None] = mapped_column(Boolean)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class NurseLock(Base):
    """One row per nurse, locked (FOR UPDATE) while a booking is checked, so overlaps cannot race."""

    __tablename__ = "nurse_lock"

    practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)


class NurseBooking(Base):
    """The time a nurse is booked for an order (released when the order ends early)."""

    __tablename__ = "nurse_booking"
    __table_args__ = (Index("ix_nurse_booking_nurse_start", "practitioner_id", "start_at"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_order.id"), primary_key=True)
    practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]


class RaterKind(StrEnum):
    recipient = "recipient"
    family = "family"
    city_platform = "city_platform"


RATER_LABELS = {
    RaterKind.recipient: "服务对象",
    RaterKind.family: "家属",
    RaterKind.city_platform: "城市平台",
}


class Rating(EntityMixin, ChangeTracked, Base):
    __tablename__ = "rating"
    __change_entity__ = "rating"
    __change_exclude__: ClassVar[frozenset[str]] = frozenset({"comment"})

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_order.id"), unique=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_by: Mapped[RaterKind] = mapped_column(str_enum(RaterKind, 20))
    rater_sub: Mapped[str] = mapped_column(String(120))
    rated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
