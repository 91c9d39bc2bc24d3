from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from libs.common.bulk import EXTERNAL_ID_MAX_LENGTH, BulkRequest, records_field
from libs.common.dates import BusinessMoment
from libs.common.identifiers import IdCardNumber, MobilePhone
from libs.common.openapi import DocumentedAs
from libs.common.text import MultiLine, SingleLine
from services.contracts.agreements.schemas import AgreementKey
from services.contracts.referrals.models import ReferralDirection, ReferralState, Urgency


class Resident(BaseModel):
    name: SingleLine = Field(min_length=1, max_length=50, description="姓名（由居民主索引保存）")
    id_number: IdCardNumber = Field(description="居民身份证号（由居民主索引保存，一人一档）")
    phone: MobilePhone | None = Field(default=None, description="联系电话（由居民主索引保存）")


class ReferralContent(BaseModel):
    """What a referral's request says (without its agreement)."""

    direction: ReferralDirection = Field(description="up 上转（养老→医疗）/ down 下转（医疗→养老）")
    urgency: Urgency = Urgency.routine
    reason: MultiLine = Field(min_length=2, max_length=2000, description="转诊原因、病情摘要")
    resident: Resident


class ReferralCreate(ReferralContent):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "agreement_id": "5b0f1c9e-2f52-4d1c-9d0a-1f6d3c2b8a11",
                    "direction": "up",
                    "urgency": "urgent",
                    "reason": "夜间突发胸闷气促，血氧 88%，需上转急诊评估",
                    "resident": {"name": "陈阿婆", "id_number": "350206194001010021", "phone": "13912345678"},
                }
            ]
        }
    )

    agreement_id: uuid.UUID


class ReferralClose(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "家属决定转往其他医院"}]})

    reason: MultiLine = Field(min_length=2, max_length=1000)


class ReferralRecord(AgreementKey, ReferralContent):
    """One referral as a city platform holds it (historical import): the body of ``POST /referrals`` (the
    same fields and checks), its agreement (by id or by the agreement's key), its key, the state it has
    reached and the original moments of the lifecycle's transitions (requested ≤ accepted ≤ admitted ≤
    returned; declined or cancelled with closed_at and a reason)."""

    external_id: SingleLine = Field(
        min_length=1, max_length=EXTERNAL_ID_MAX_LENGTH, description="城市平台内的转诊记录编号"
    )
    state: ReferralState = Field(default=ReferralState.requested, description="转诊当前状态")
    requested_at: BusinessMoment = Field(description="申请时间（原始时间）")
    requested_by: SingleLine | None = Field(
        default=None, max_length=120, description="申请人（账号）；默认为上报方"
    )
    accepted_at: BusinessMoment | None = Field(default=None, description="接收时间")
    admitted_at: BusinessMoment | None = Field(default=None, description="入院/入住时间")
    returned_at: BusinessMoment | None = Field(default=None, description="转回时间")
    closed_at: BusinessMoment | None = Field(default=None, description="拒绝或取消的时间")
    close_reason: MultiLine | None = Field(
        default=None, min_length=2, max_length=1000, description="拒绝或取消的原因"
    )


class ReferralBulk(BulkRequest):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source_system": "xm-ijk",
                    "records": [
                        {
                            "external_id": "ZZ-2025-0001",
                            "agreement_external_id": "XY-2025-0001",
                            "direction": "up",
                            "urgency": "emergency",
                            "reason": "夜间突发胸闷气促，经绿色通道转诊急诊",
                            "resident": {"name": "陈阿婆", "id_number": "350206194001010021"},
                            "state": "returned",
                            "requested_at": "2025-06-18T22:10:00+08:00",
                            "accepted_at": "2025-06-18T22:25:00+08:00",
                            "admitted_at": "2025-06-18T23:05:00+08:00",
                            "returned_at": "2025-06-30T10:00:00+08:00",
                        }
                    ],
                }
            ]
        }
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(ReferralRecord)]] = records_field(ReferralRecord)


class ResidentRead(BaseModel):
    """The resident as the residents' person index holds them (issue 19); the fields empty when the index
    cannot be reached (a list still answers)."""

    name: str | None
    id_number: str | None
    phone: str | None
    masked: bool = Field(description="true 表示已脱敏；转诊双方机构查看详情时显示完整信息（留痕）")


class ReferralRead(BaseModel):
    id: uuid.UUID
    agreement_id: uuid.UUID
    direction: ReferralDirection
    urgency: Urgency
    from_institution_id: uuid.UUID
    to_institution_id: uuid.UUID
    region_code: str
    state: ReferralState
    allowed_actions: list[str]
    reason: str
    resident: ResidentRead
    requested_at: datetime
    accepted_at: datetime | None
    admitted_at: datetime | None
    returned_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    version: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def state_label(self) -> str:
        return self.state.label

    @computed_field  # type: ignore[prop-decorator]
    @property
    def direction_label(self) -> str:
        return self.direction.label

    @computed_field  # type: ignore[prop-decorator]
    @property
    def urgency_label(self) -> str:
        return self.urgency.label


class ReferralRegionStats(BaseModel):
    region_code: str
    region_name: str
    requested: int
    accepted: int
    admitted: int
    returned: int
    declined: int
    avg_minutes_to_accept: float | None = Field(description="申请→接收 平均分钟")
    median_minutes_to_accept: float | None
    avg_minutes_to_admit: float | None = Field(description="接收→入院 平均分钟")
    median_minutes_to_admit: float | None


class ReferralStats(BaseModel):
    group_by: str
    regions: list[ReferralRegionStats]
