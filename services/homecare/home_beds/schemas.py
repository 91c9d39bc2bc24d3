from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, Field, computed_field

from services.homecare.home_beds.models import (
    CLOSE_REASON_LABELS,
    CONDITION_LABELS,
    HOME_BED_STATUS_LABELS,
    MOBILITY_LABELS,
    CloseReason,
    HomeBedStatus,
    Mobility,
    QualifyingCondition,
)


class HomeBedApply(BaseModel):
    recipient_id: uuid.UUID
    diagnosis: str = Field(min_length=2, max_length=500, description="明确诊断")
    condition_stable: bool = Field(description="病情稳定")
    mobility: Mobility
    conditions: list[QualifyingCondition] = Field(default_factory=list, max_length=9)
    has_family_doctor_contract: bool = Field(default=False, description="已签约家庭医生")
    application_note: str | None = Field(default=None, max_length=2000)


class HomeBedAssess(BaseModel):
    """The doctor's assessment: the recorded facts may be corrected on the spot."""

    diagnosis: str | None = Field(default=None, min_length=2, max_length=500)
    condition_stable: bool | None = None
    mobility: Mobility | None = None
    conditions: list[QualifyingCondition] | None = Field(default=None, max_length=9)
    has_family_doctor_contract: bool | None = None
    note: str | None = Field(default=None, max_length=2000)


class HomeBedOpen(BaseModel):
    care_plan: str = Field(min_length=2, max_length=4000, description="诊疗护理计划")
    consent_at: AwareDatetime = Field(description="签署知情同意的时间")
    round_interval_days: int | None = Field(default=None, ge=1, le=30, description="查床间隔；默认取配置")
    opened_date: date | None = Field(default=None, description="建床日期；默认今天")


class HomeBedRoundCreate(BaseModel):
    client_record_id: uuid.UUID = Field(description="客户端生成的 ID；重发不会重复")
    round_date: date
    findings: str = Field(min_length=1, max_length=4000)
    orders_text: str | None = Field(default=None, max_length=4000, description="医嘱")


class HomeBedClose(BaseModel):
    reason: CloseReason
    summary: str = Field(min_length=2, max_length=4000, description="撤床小结")
    closed_date: date | None = None


class HomeBedRoundRead(BaseModel):
    id: uuid.UUID
    round_date: date
    practitioner_id: uuid.UUID
    created_at: datetime


class HomeBedRead(BaseModel):
    id: uuid.UUID
    record_no: str
    institution_id: uuid.UUID
    provider_name: str
    region_code: str
    recipient_id: uuid.UUID
    status: HomeBedStatus
    allowed_actions: list[str]
    diagnosis: str | None = Field(description="仅服务机构可见")
    condition_stable: bool
    mobility: Mobility
    conditions: list[QualifyingCondition]
    has_family_doctor_contract: bool
    assessed_at: datetime | None
    assessed_by_practitioner_id: uuid.UUID | None
    assessment: dict[str, object] | None
    opened_date: date | None
    opened_by_practitioner_id: uuid.UUID | None
    care_plan: str | None = Field(description="仅服务机构可见")
    round_interval_days: int | None
    period_end_date: date | None
    last_round_date: date | None
    next_round_due: date | None
    reassessment_count: int
    period_overdue: bool = Field(description="周期已满，须再评估或撤床")
    round_overdue: bool = Field(description="查床逾期")
    closed_date: date | None
    close_reason: CloseReason | None
    version: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_label(self) -> str:
        return HOME_BED_STATUS_LABELS[self.status]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def mobility_label(self) -> str:
        return MOBILITY_LABELS[self.mobility]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def condition_labels(self) -> list[str]:
        return [CONDITION_LABELS[c] for c in self.conditions]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def close_reason_label(self) -> str | None:
        return CLOSE_REASON_LABELS[self.close_reason] if self.close_reason else None
