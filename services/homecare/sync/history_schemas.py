"""A past order as a city platform or the province imports it (``POST /orders/history/bulk``).

A record is the body of ``POST /orders`` (:class:`OrderFields`, checked by the same placement rule) plus
the platform's key, the state it ended in (completed, rated or cancelled) and its timeline with the
original times, the nurse and the visit record (:class:`VisitContent`, the nurse app's record), the
rating, and optionally a resolved SOS alert and a complaint. What a state needs is checked here
(``validation_failed``); whether the times are in the past and in order, the nurse, the doctor, the
service group and the home bed on that day are the service's rules (their own codes).
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from libs.common.bulk import BulkRequest, records_field
from libs.common.dates import BusinessMoment
from libs.common.openapi import DocumentedAs
from libs.common.text import MultiLine, SingleLine
from services.homecare.orders.complaints.schemas import ComplaintCreate
from services.homecare.orders.models import STATUS_LABELS, OrderStatus, ServiceGroup
from services.homecare.orders.schemas import OrderFields, RateBody
from services.homecare.orders.visits.schemas import VisitContent


class FinalStatus(StrEnum):
    """The states a historical order may be imported in (its flow is over)."""

    completed = OrderStatus.completed.value
    rated = OrderStatus.rated.value
    cancelled = OrderStatus.cancelled.value


FINAL_STATUS_LABELS = {
    FinalStatus.completed: STATUS_LABELS[OrderStatus.completed],
    FinalStatus.rated: STATUS_LABELS[OrderStatus.rated],
    FinalStatus.cancelled: STATUS_LABELS[OrderStatus.cancelled],
}


#: the steps of a completed order, in the order they happen (``started_at`` may be left out)
STEPS: tuple[str, ...] = (
    "submitted_at",
    "assessed_at",
    "accepted_at",
    "assigned_at",
    "departed_at",
    "checked_in_at",
    "started_at",
    "checked_out_at",
    "completed_at",
)


class Timeline(BaseModel):
    """When each step happened (the original times, not the import's). A step not reached is null."""

    submitted_at: BusinessMoment = Field(description="下单时间")
    assessed_at: BusinessMoment | None = Field(default=None, description="首诊评估时间")
    accepted_at: BusinessMoment | None = Field(default=None, description="受理时间")
    assigned_at: BusinessMoment | None = Field(default=None, description="派单时间")
    departed_at: BusinessMoment | None = Field(default=None, description="护士出发时间")
    checked_in_at: BusinessMoment | None = Field(default=None, description="到达签到时间")
    started_at: BusinessMoment | None = Field(default=None, description="开始服务时间（默认签到时间）")
    checked_out_at: BusinessMoment | None = Field(default=None, description="签退时间")
    completed_at: BusinessMoment | None = Field(default=None, description="完成时间")
    cancelled_at: BusinessMoment | None = Field(default=None, description="取消时间")


class VisitHistory(VisitContent):
    """The visit record of a completed order (what the nurse app records), with when it was written."""

    record_id: uuid.UUID | None = Field(default=None, description="原系统的记录 ID（UUID；缺省时由平台生成）")
    recorded_at: BusinessMoment | None = Field(
        default=None, description="记录时间（签到至完成之间；缺省为签退时间）"
    )


class RatingHistory(RateBody):
    rated_at: BusinessMoment = Field(description="评价时间（完成之后）")


class SosHistory(BaseModel):
    """A one-tap SOS the nurse raised during the visit, and how it was resolved."""

    raised_at: BusinessMoment = Field(description="报警时间（出发至签退之间）")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    message: MultiLine | None = Field(default=None, max_length=500)
    resolved_at: BusinessMoment = Field(description="处理时间")
    resolution: MultiLine = Field(min_length=1, max_length=1000)


class ComplaintHistory(ComplaintCreate):
    filed_at: BusinessMoment = Field(description="投诉时间（下单之后）")
    resolution: MultiLine | None = Field(default=None, min_length=2, max_length=2000)
    resolved_at: BusinessMoment | None = Field(default=None, description="办结时间（与 resolution 同时填写）")

    @model_validator(mode="after")
    def _resolved(self) -> Self:
        if (self.resolution is None) != (self.resolved_at is None):
            raise ValueError("resolution 与 resolved_at 须同时填写")
        return self


ORDER_HISTORY_RECORD_EXAMPLE: JsonDict = {
    "external_id": "XM-HL-DD-20250312-0007",
    # demo_id("institution", "厦门新开元医院")
    "institution_id": "59ea5c2c-42f5-5c3f-b761-4b01a16af790",
    "recipient_external_id": "XM-HL-2025-000088",
    "item_codes": ["HC01", "HC09"],
    "window_start": "2025-03-12T09:00:00+08:00",
    "window_end": "2025-03-12T11:00:00+08:00",
    "status": "rated",
    "service_group": "chronic",
    "nurse_practitioner_id": "b7f2c0d4-5a7e-5a57-9a1d-6d2d3f0c8e11",
    "timeline": {
        "submitted_at": "2025-03-11T13:02:00+08:00",
        "assessed_at": "2025-03-11T14:10:00+08:00",
        "accepted_at": "2025-03-11T14:12:00+08:00",
        "assigned_at": "2025-03-11T15:30:00+08:00",
        "departed_at": "2025-03-12T08:30:00+08:00",
        "checked_in_at": "2025-03-12T09:05:00+08:00",
        "checked_out_at": "2025-03-12T10:10:00+08:00",
        "completed_at": "2025-03-12T10:15:00+08:00",
    },
    "visit_record": {
        "items_done": ["HC01", "HC09"],
        "vital_signs": {"bp_systolic": 138, "bp_diastolic": 82, "pulse": 74, "spo2": 97},
        "consumables": [{"name": "一次性换药包", "qty": 1, "unit_price_yuan": 12.5}],
        "notes": "骶尾部皮肤完整，已翻身减压并指导家属",
    },
    "rating": {
        "score": 5,
        "comment": "护士很耐心",
        "rated_by": "family",
        "rated_at": "2025-03-12T18:00:00+08:00",
    },
}


class OrderHistoryRecord(OrderFields):
    """A past order in a final state: the body of ``POST /orders`` plus the platform's key, the recipient
    by id or by external id, and what happened to it."""

    model_config = ConfigDict(json_schema_extra={"examples": [ORDER_HISTORY_RECORD_EXAMPLE]})

    external_id: SingleLine = Field(min_length=1, max_length=100)
    recipient_id: uuid.UUID | None = None
    recipient_external_id: SingleLine | None = Field(
        default=None, max_length=100, description="同一 source_system 的服务对象"
    )
    status: FinalStatus = Field(description="订单的最终状态：completed / rated / cancelled")
    service_group: ServiceGroup | None = Field(default=None, description="首诊评估的服务人群（评估过则必填）")
    assessed_by_practitioner_id: uuid.UUID | None = Field(
        default=None, description="评估医师（含高风险或需医嘱项目时必填，须为本机构医师）"
    )
    nurse_practitioner_id: uuid.UUID | None = Field(
        default=None, description="上门护士（已派单则必填，须具备上门资格并胜任每个项目）"
    )
    timeline: Timeline
    cancel_reason: MultiLine | None = Field(default=None, max_length=1000, description="取消原因")
    visit_record: VisitHistory | None = Field(default=None, description="服务记录（已完成、已评价必填）")
    rating: RatingHistory | None = Field(default=None, description="评价（已评价必填）")
    sos: SosHistory | None = Field(default=None, description="服务中的一键报警（已处理）")
    complaint: ComplaintHistory | None = Field(default=None, description="投诉")

    @model_validator(mode="after")
    def _what_the_state_needs(self) -> Self:
        if (self.recipient_id is None) == (self.recipient_external_id is None):
            raise ValueError("须且只能指定 recipient_id 或 recipient_external_id 之一")
        t = self.timeline
        if t.assessed_at is not None and self.service_group is None:
            raise ValueError("已评估的订单须填写 service_group")
        if t.assigned_at is not None and self.nurse_practitioner_id is None:
            raise ValueError("已派单的订单须填写 nurse_practitioner_id")
        if self.status is FinalStatus.cancelled:
            if t.cancelled_at is None or not self.cancel_reason:
                raise ValueError("已取消的订单须填写 timeline.cancelled_at 与 cancel_reason")
            if t.completed_at is not None or self.visit_record is not None or self.rating is not None:
                raise ValueError("已取消的订单不能有完成时间、服务记录或评价")
            return self
        missing = [step for step in STEPS if step != "started_at" and getattr(t, step) is None]
        if missing:
            raise ValueError(f"已完成的订单须有各环节时间：缺 {', '.join(missing)}")
        if t.cancelled_at is not None or self.cancel_reason is not None:
            raise ValueError("已完成的订单不能有取消时间或取消原因")
        if self.visit_record is None:
            raise ValueError("已完成的订单须有服务记录 visit_record")
        if (self.status is FinalStatus.rated) != (self.rating is not None):
            raise ValueError("已评价的订单须有评价 rating，其他状态不能有")
        return self


class OrderHistoryBulkRequest(BulkRequest):
    """A batch of past orders; each record is validated on its own as an OrderHistoryRecord."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"source_system": "xm-ijiankang", "records": [ORDER_HISTORY_RECORD_EXAMPLE]}]
        },
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(OrderHistoryRecord)]] = records_field(
        OrderHistoryRecord
    )
