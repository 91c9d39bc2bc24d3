from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)

from libs.common import divisions
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


class OrderCreate(BaseModel):
    institution_id: uuid.UUID | None = Field(default=None, description="服务机构；机构用户下单时默认本机构")
    recipient_id: uuid.UUID
    item_codes: list[str] = Field(min_length=1, max_length=10, description="目录项目编码（须为机构已开通）")
    window_start: AwareDatetime = Field(description="期望上门时段开始")
    window_end: AwareDatetime
    address: str | None = Field(default=None, min_length=4, max_length=200, description="默认为服务对象住址")
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$", description="服务地址所在县级区划")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    home_bed_id: uuid.UUID | None = Field(default=None, description="关联的家庭病床")
    note: str | None = Field(default=None, max_length=1000)

    @field_validator("region_code")
    @classmethod
    def _county(cls, value: str | None) -> str | None:
        return None if value is None else county_code(value)

    @model_validator(mode="after")
    def _window(self) -> OrderCreate:
        if self.window_end <= self.window_start:
            raise ValueError("时段结束须晚于开始")
        if len(set(self.item_codes)) != len(self.item_codes):
            raise ValueError("项目重复")
        return self


class ClientEvent(BaseModel):
    """What the nurse app sends with every write: its own id of the write and its clock."""

    client_event_id: uuid.UUID | None = Field(
        default=None, description="客户端生成的操作 ID（UUID），重放不重复"
    )
    client_at: AwareDatetime | None = Field(default=None, description="客户端发生时间")


class Located(ClientEvent):
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100000)
    is_mock_location: bool = Field(default=False, description="手机是否报告为模拟位置")


class DepartBody(ClientEvent):
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100000)
    is_mock_location: bool = False


class AssessBody(ClientEvent):
    service_group: ServiceGroup = Field(description="服务对象类别（国家规定的可服务人群）")
    note: str | None = Field(default=None, max_length=2000)


class ReasonBody(ClientEvent):
    reason: str | None = Field(default=None, max_length=1000)


class AssignBody(BaseModel):
    nurse_practitioner_id: uuid.UUID


class RateBody(BaseModel):
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=1000)
    rated_by: RaterKind = Field(default=RaterKind.recipient, description="城市平台评价时固定为 city_platform")


class FlagReviewBody(BaseModel):
    note: str = Field(min_length=1, max_length=1000)


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
    recipient_name: str = Field(description="服务机构可见全名，其他人脱敏")
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
    recipient_name: str
    status: OrderStatus
    window_start: datetime
    window_end: datetime
    item_codes: list[str]
    nurse_practitioner_id: uuid.UUID | None
    flagged: bool
    flag_reasons: list[str]
    total_yuan: Decimal
    version: int
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]
