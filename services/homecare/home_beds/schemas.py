from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from libs.common.dates import BusinessDate, BusinessMoment
from libs.common.text import MultiLine
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

#: 陈秀英 of the demo data (``demo_id("recipient", "陈秀英")``)
_RECIPIENT_ID = "de596705-739e-540d-8b7e-f5a5aabaecca"


class HomeBedApply(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "recipient_id": _RECIPIENT_ID,
                    "diagnosis": "脑梗死后遗症；高血压 3 级",
                    "condition_stable": True,
                    "mobility": "bedridden",
                    "conditions": ["stroke_or_post_surgery_rehab", "chronic_bed_rest"],
                    "has_family_doctor_contract": True,
                    "application_note": "儿子代为申请，老人右侧肢体偏瘫，长期卧床",
                }
            ]
        }
    )

    recipient_id: uuid.UUID
    diagnosis: MultiLine = Field(min_length=2, max_length=500, description="明确诊断")
    condition_stable: bool = Field(description="病情稳定")
    mobility: Mobility
    conditions: list[QualifyingCondition] = Field(default_factory=list, max_length=9)
    has_family_doctor_contract: bool = Field(default=False, description="已签约家庭医生")
    application_note: MultiLine | None = Field(default=None, max_length=2000)


class HomeBedAssess(BaseModel):
    """The doctor's assessment: the recorded facts may be corrected on the spot."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "condition_stable": True,
                    "conditions": ["stroke_or_post_surgery_rehab", "skin_stoma_incontinence"],
                    "note": "上门评估：骶尾部 I 期压力性损伤，生命体征平稳，符合建床条件",
                }
            ]
        }
    )

    diagnosis: MultiLine | None = Field(default=None, min_length=2, max_length=500)
    condition_stable: bool | None = None
    mobility: Mobility | None = None
    conditions: list[QualifyingCondition] | None = Field(default=None, max_length=9)
    has_family_doctor_contract: bool | None = None
    note: MultiLine | None = Field(default=None, max_length=2000)


class HomeBedOpen(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "care_plan": "每周查床 1 次；监测血压；压力性损伤换药；肢体康复训练指导；家属照护培训",
                    "consent_at": "2026-03-02T10:30:00+08:00",
                    "round_interval_days": 7,
                    "opened_date": "2026-03-02",
                }
            ]
        }
    )

    care_plan: MultiLine = Field(min_length=2, max_length=4000, description="诊疗护理计划")
    consent_at: BusinessMoment = Field(description="签署知情同意的时间")
    round_interval_days: int | None = Field(default=None, ge=1, le=30, description="查床间隔；默认取配置")
    opened_date: BusinessDate | None = Field(default=None, description="建床日期；默认今天")


class HomeBedRoundCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "client_record_id": "55328471-d5ce-4b54-a766-f9928a6eb2ce",
                    "round_date": "2026-03-09",
                    "findings": "神志清，血压 138/82 mmHg，骶尾部创面较前缩小，无渗液",
                    "orders_text": "继续原降压方案；创面隔日换药",
                }
            ]
        }
    )

    client_record_id: uuid.UUID = Field(description="客户端生成的 ID；重发不会重复")
    round_date: BusinessDate
    findings: MultiLine = Field(min_length=1, max_length=4000)
    orders_text: MultiLine | None = Field(default=None, max_length=4000, description="医嘱")


class HomeBedClose(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reason": "recovered_or_stable",
                    "summary": "建床 90 天，压力性损伤已愈合，病情稳定，转家庭医生签约随访",
                    "closed_date": "2026-05-31",
                }
            ]
        }
    )

    reason: CloseReason
    summary: MultiLine = Field(min_length=2, max_length=4000, description="撤床小结")
    closed_date: BusinessDate | None = None


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
    assessment: dict[str, object] | None = Field(
        description="最近一次评估结论：qualified 是否符合建床条件，gaps 不符合之处，note 医师意见；"
        "再评估时另有 reassessment: true"
    )
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
