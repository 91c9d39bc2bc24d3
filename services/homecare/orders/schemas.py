from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict

from libs.common import divisions
from libs.common.dates import BusinessMoment
from libs.common.openapi import enum_labels
from libs.common.text import MultiLine, SingleLine
from services.homecare.catalog.models import RISK_LABELS, Risk
from services.homecare.orders.models import (
    RATER_LABELS,
    SERVICE_GROUP_LABELS,
    STATUS_LABELS,
    OrderStatus,
    RaterKind,
    ServiceGroup,
)
from services.homecare.recipients.schemas import county_code

#: demo ids (``demo_id(kind, name)``): 厦门新开元医院, its nurse 林晓燕, and 黄国平 whom it serves
_PROVIDER_ID = "59ea5c2c-42f5-5c3f-b761-4b01a16af790"
_NURSE_ID = "faa2dfa5-655a-50c8-9282-0307a5985360"
_RECIPIENT_ID = "989800c0-beb9-5f81-87f5-b2aae2822f16"
_EVENT_ID = "69be518e-9ac1-4717-94d4-bec9b54996e3"
#: 黄国平's home, 湖里区殿前街道
_LATITUDE, _LONGITUDE = 24.5258, 118.1187


def _examples(example: JsonDict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


class OrderFields(BaseModel):
    """What an order says besides whom it serves: the fields ``POST /orders`` and a bulk order record share
    (both are checked by the one rule, :func:`services.homecare.orders.placement.check`)."""

    institution_id: uuid.UUID | None = Field(default=None, description="服务机构；机构用户下单时默认本机构")
    item_codes: list[SingleLine] = Field(
        min_length=1, max_length=10, description="目录项目编码（须为机构已开通）"
    )
    window_start: BusinessMoment = Field(description="期望上门时段开始")
    window_end: BusinessMoment
    address: SingleLine | None = Field(
        default=None, min_length=4, max_length=200, description="默认为服务对象住址"
    )
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$", description="服务地址所在县级区划")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    home_bed_id: uuid.UUID | None = Field(default=None, description="关联的家庭病床")
    note: MultiLine | None = Field(default=None, max_length=1000)

    @field_validator("region_code")
    @classmethod
    def _county(cls, value: str | None) -> str | None:
        return None if value is None else county_code(value)

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.window_end <= self.window_start:
            raise ValueError("时段结束须晚于开始")
        if len(set(self.item_codes)) != len(self.item_codes):
            raise ValueError("项目重复")
        return self


class OrderCreate(OrderFields):
    model_config = _examples(
        {
            "institution_id": _PROVIDER_ID,
            "recipient_id": _RECIPIENT_ID,
            "item_codes": ["HC01", "HC02"],
            "window_start": "2026-12-01T09:00:00+08:00",
            "window_end": "2026-12-01T11:00:00+08:00",
            "address": "福建省厦门市湖里区殿前街道高殿路 66 号 801",
            "region_code": "350206",
            "latitude": _LATITUDE,
            "longitude": _LONGITUDE,
            "note": "老人行动不便，上门前请先电话联系女儿黄丽华",
        }
    )

    recipient_id: uuid.UUID


class ClientEvent(BaseModel):
    """What the nurse app sends with every write: its own id of the write and its clock."""

    model_config = _examples({"client_event_id": _EVENT_ID, "client_at": "2026-12-01T09:42:00+08:00"})

    client_event_id: uuid.UUID | None = Field(
        default=None, description="客户端生成的操作 ID（UUID），重放不重复"
    )
    client_at: AwareDatetime | None = Field(default=None, description="客户端发生时间")


class Located(ClientEvent):
    model_config = _examples(
        {
            "client_event_id": _EVENT_ID,
            "client_at": "2026-12-01T09:35:00+08:00",
            "latitude": _LATITUDE,
            "longitude": _LONGITUDE,
            "accuracy_m": 12.5,
            "is_mock_location": False,
        }
    )

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100000)
    is_mock_location: bool = Field(default=False, description="手机是否报告为模拟位置")


class IdSuffixProof(BaseModel):
    """The last characters of the ID number the elder shows (never the whole number)."""

    method: Literal["id_suffix"] = Field(json_schema_extra=enum_labels({"id_suffix": "身份证号末几位"}))
    value: str = Field(
        min_length=1,
        max_length=6,
        pattern=r"^[0-9Xx]+$",
        description="身份证号末几位（位数为 HOMECARE_IDENTITY_SUFFIX_LENGTH，默认 4；其他位数 422）",
    )


class ElderCodeProof(BaseModel):
    """The code the serving institution issued to the elder (POST /recipients/{id}/elder-code)."""

    method: Literal["elder_code"] = Field(json_schema_extra=enum_labels({"elder_code": "老人核验码"}))
    value: str = Field(min_length=4, max_length=12, pattern=r"^[0-9]+$", description="老人出示的核验码")


IdentityProof = Annotated[IdSuffixProof | ElderCodeProof, Field(discriminator="method")]


class CheckInBody(Located):
    model_config = _examples(
        {
            "client_event_id": _EVENT_ID,
            "client_at": "2026-12-01T09:35:00+08:00",
            "latitude": _LATITUDE,
            "longitude": _LONGITUDE,
            "accuracy_m": 12.5,
            "is_mock_location": False,
            "identity": {"method": "id_suffix", "value": "123X"},
        }
    )

    identity: IdentityProof | None = Field(
        default=None,
        description=(
            "服务对象身份核验：身份证号末几位或老人核验码。不符时订单标记 identity_mismatch（不阻止签到），"
            "居民服务无应答时标记 identity_unverified；事件只记录方式与结果，不记录所送的值"
        ),
    )


class DepartBody(ClientEvent):
    model_config = _examples(
        {
            "client_event_id": _EVENT_ID,
            "client_at": "2026-12-01T09:05:00+08:00",
            "latitude": 24.4972,
            "longitude": 118.1469,
            "accuracy_m": 20,
            "is_mock_location": False,
        }
    )

    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100000)
    is_mock_location: bool = False


class AssessBody(ClientEvent):
    model_config = _examples(
        {
            "client_event_id": _EVENT_ID,
            "client_at": "2026-11-30T16:20:00+08:00",
            "service_group": "very_old",
            "note": "2 型糖尿病，血糖控制尚可，无急性并发症，可居家上门服务",
        }
    )

    service_group: ServiceGroup = Field(description="服务对象类别（国家规定的可服务人群）")
    note: MultiLine | None = Field(default=None, max_length=2000)


class ReasonBody(ClientEvent):
    model_config = _examples(
        {
            "client_event_id": _EVENT_ID,
            "client_at": "2026-12-01T08:30:00+08:00",
            "reason": "服务对象昨晚因发热入院，无法上门服务",
        }
    )

    reason: MultiLine | None = Field(default=None, max_length=1000)


class AssignBody(BaseModel):
    model_config = _examples({"nurse_practitioner_id": _NURSE_ID})

    nurse_practitioner_id: uuid.UUID


class RescheduleBody(BaseModel):
    """A new wanted time slot, set by the dispatcher before the nurse sets off."""

    model_config = _examples(
        {"window_start": "2026-12-02T14:00:00+08:00", "window_end": "2026-12-02T16:00:00+08:00"}
    )

    window_start: BusinessMoment = Field(description="新的期望上门时段开始")
    window_end: BusinessMoment

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.window_end <= self.window_start:
            raise ValueError("时段结束须晚于开始")
        return self


class RateBody(BaseModel):
    model_config = _examples(
        {"score": 5, "comment": "林护士操作规范，讲解耐心，准时上门", "rated_by": "family"}
    )

    score: int = Field(ge=1, le=5)
    comment: MultiLine | None = Field(default=None, max_length=1000)
    rated_by: RaterKind = Field(default=RaterKind.recipient, description="城市平台评价时固定为 city_platform")


class FlagReviewBody(BaseModel):
    model_config = _examples({"note": "已电话回访服务对象，护士按时到达；签到定位偏差系高层住宅信号漂移"})

    note: MultiLine = Field(min_length=1, max_length=1000)


class OrderItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    item_code: str
    item_name: str
    risk: Risk
    needs_medical_order: bool
    needs_specialist_training: bool
    price_yuan: Decimal

    @computed_field  # type: ignore[prop-decorator]
    @property
    def risk_label(self) -> str:
        return RISK_LABELS[self.risk]


class Fees(BaseModel):
    items_total_yuan: Decimal
    visit_fee_yuan: Decimal
    consumables_total_yuan: Decimal | None = Field(description="完成前为空（以服务记录为准）")
    total_yuan: Decimal = Field(description="完成前为不含耗材的预估")
    fixed: bool = Field(description="完成时锁定")


class RatingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    score: int
    comment: str | None
    rated_by: RaterKind
    rated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def rated_by_label(self) -> str:
        return RATER_LABELS[self.rated_by]


class OrderRead(BaseModel):
    id: uuid.UUID
    institution_id: uuid.UUID
    provider_name: str
    region_code: str
    recipient_id: uuid.UUID
    recipient_name: str | None = Field(
        description="服务机构可见全名，其他人脱敏（取自居民主索引；居民服务不可用时为空）"
    )
    address: str = Field(description="服务机构可见全址，其他人脱敏")
    latitude: float | None
    longitude: float | None
    disclosed: bool
    home_bed_id: uuid.UUID | None
    catalog_version_code: str
    status: OrderStatus
    allowed_actions: list[str]
    window_start: datetime
    window_end: datetime
    items: list[OrderItemRead]
    requires_doctor: bool
    service_group: ServiceGroup | None
    assessment_note: str | None
    assessed_by_practitioner_id: uuid.UUID | None
    assessed_at: datetime | None
    decision_reason: str | None
    nurse_practitioner_id: uuid.UUID | None
    assigned_at: datetime | None
    en_route_at: datetime | None
    checked_in_at: datetime | None
    in_service_at: datetime | None
    checked_out_at: datetime | None
    completed_at: datetime | None
    rated_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    response_minutes: Decimal | None
    flagged: bool
    flag_reasons: list[str]
    flag_reviewed_at: datetime | None
    fees: Fees
    rating: RatingRead | None
    placed_by_role: str
    source_system: str | None
    external_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def service_group_label(self) -> str | None:
        return SERVICE_GROUP_LABELS[self.service_group] if self.service_group else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def region_name(self) -> str | None:
        division = divisions.get(self.region_code)
        return division.name if division else None


class OrderSummary(BaseModel):
    """A list row: no personal data beyond the masked name."""

    id: uuid.UUID
    institution_id: uuid.UUID
    provider_name: str
    region_code: str
    recipient_id: uuid.UUID
    recipient_name: str | None = Field(description="脱敏姓名（取自居民主索引；居民服务不可用时为空）")
    status: OrderStatus
    window_start: datetime
    window_end: datetime
    item_codes: list[str]
    nurse_practitioner_id: uuid.UUID | None
    home_bed_id: uuid.UUID | None = Field(
        description="关联的家庭病床：家庭病床的服务及其评价据此归入该病床（建床对象满意率）"
    )
    flagged: bool
    flag_reasons: list[str]
    total_yuan: Decimal
    version: int
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]
