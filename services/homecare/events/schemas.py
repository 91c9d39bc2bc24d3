"""What a follower of order events reads: one item per event, ``payload`` typed by ``type`` (an
allow-list: ids, times and states — never a name, phone, address or free text)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, Union

from pydantic import BaseModel, Field

from services.homecare.orders.models import OrderStatus


class AssignedPayload(BaseModel):
    nurse_practitioner_id: uuid.UUID
    window_start: datetime
    window_end: datetime
    order_status: OrderStatus
    order_version: int


class UnassignedPayload(BaseModel):
    nurse_practitioner_id: uuid.UUID = Field(description="被撤回派单的护士")
    order_status: OrderStatus
    order_version: int


class RescheduledPayload(BaseModel):
    window_start: datetime
    window_end: datetime
    previous_window_start: datetime
    previous_window_end: datetime
    nurse_practitioner_id: uuid.UUID | None
    order_status: OrderStatus
    order_version: int


class CancelledPayload(BaseModel):
    previous_status: OrderStatus
    nurse_practitioner_id: uuid.UUID | None
    order_status: OrderStatus
    order_version: int


class CompletedPayload(BaseModel):
    nurse_practitioner_id: uuid.UUID | None
    order_status: OrderStatus
    order_version: int


class SosPayload(BaseModel):
    sos_id: uuid.UUID
    nurse_practitioner_id: uuid.UUID
    raised_at: datetime
    resolved_at: datetime | None


class _Event(BaseModel):
    cursor: str = Field(description="该事件的游标（SSE 的 id）；从它之后继续读取")
    order_id: uuid.UUID
    occurred_at: datetime


class AssignedEvent(_Event):
    type: Literal["assigned"]
    payload: AssignedPayload


class UnassignedEvent(_Event):
    type: Literal["unassigned"]
    payload: UnassignedPayload


class RescheduledEvent(_Event):
    type: Literal["rescheduled"]
    payload: RescheduledPayload


class CancelledEvent(_Event):
    type: Literal["cancelled"]
    payload: CancelledPayload


class CompletedEvent(_Event):
    type: Literal["completed"]
    payload: CompletedPayload


class SosRaisedEvent(_Event):
    type: Literal["sos_raised"]
    payload: SosPayload


class SosAcknowledgedEvent(_Event):
    type: Literal["sos_acknowledged"]
    payload: SosPayload


OrderEventItem = Annotated[
    Union[  # noqa: UP007
        AssignedEvent,
        UnassignedEvent,
        RescheduledEvent,
        CancelledEvent,
        CompletedEvent,
        SosRaisedEvent,
        SosAcknowledgedEvent,
    ],
    Field(discriminator="type"),
]


class EventFeedPage(BaseModel):
    items: list[OrderEventItem]
    next_cursor: str = Field(description="下一次请求的 after 参数（没有新事件时不变）")
    has_more: bool
