from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator
from pydantic.config import JsonDict

from libs.common.bulk import BulkRequest, records_field
from libs.common.dates import BusinessDate, BusinessMoment
from libs.common.openapi import DocumentedAs
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
from services.homecare.recipients.schemas import SHA256_PATTERN

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
    photo_sha256: list[Annotated[str, Field(pattern=SHA256_PATTERN)]] = Field(
        default_factory=list, max_length=10, description="照片附件的 SHA-256（须已上传）"
    )


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
    photo_sha256: list[str] = Field(default_factory=list, description="照片附件的 SHA-256")
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


# ------------------------------------------------------------------------------ historical import (bulk)

#: 厦门新开元医院 and its doctor 张建国 (41e21bc7-…) of the demo data (``demo_id(…)``)
_PROVIDER_ID = "59ea5c2c-42f5-5c3f-b761-4b01a16af790"
HISTORY_RECORD_EXAMPLE: JsonDict = {
    "external_id": "XM-HL-JTBC-2025-0107",
    "institution_id": _PROVIDER_ID,
    "recipient_id": _RECIPIENT_ID,
    "record_no": "JTBC-350206-2025-0107",
    "diagnosis": "脑梗死后遗症；高血压 3 级",
    "condition_stable": True,
    "mobility": "bedridden",
    "conditions": ["stroke_or_post_surgery_rehab", "chronic_bed_rest"],
    "has_family_doctor_contract": True,
    "assessment": {
        "assessed_at": "2025-03-01T09:00:00+08:00",
        "practitioner_id": "41e21bc7-43d8-531f-b3e4-1caa9543c480",
        "note": "符合建床条件",
    },
    "opening": {
        "opened_at": "2025-03-03T10:00:00+08:00",
        "practitioner_id": "41e21bc7-43d8-531f-b3e4-1caa9543c480",
        "care_plan": "每周查床 1 次；监测血压；肢体康复训练指导",
        "consent_at": "2025-03-03T10:00:00+08:00",
        "round_interval_days": 7,
    },
    "reassessments": [
        {
            "assessed_at": "2025-06-01T09:30:00+08:00",
            "practitioner_id": "41e21bc7-43d8-531f-b3e4-1caa9543c480",
            "note": "仍符合建床条件，续床一个周期",
        }
    ],
    "rounds": [
        {
            "round_date": "2025-03-10",
            "practitioner_id": "41e21bc7-43d8-531f-b3e4-1caa9543c480",
            "findings": "神志清，血压 138/82 mmHg",
        }
    ],
    "closing": {
        "closed_at": "2025-07-20T16:00:00+08:00",
        "reason": "recovered_or_stable",
        "summary": "病情稳定，按计划撤床，转家庭医生签约随访",
    },
}


class HomeBedHistoryAssessment(BaseModel):
    """An assessment (or a re-assessment) as it happened: when and by which doctor of the provider."""

    assessed_at: BusinessMoment = Field(description="评估时间")
    practitioner_id: uuid.UUID = Field(description="评估医师（须为本机构在职医师）")
    note: MultiLine | None = Field(default=None, max_length=2000)


class HomeBedHistoryOpening(HomeBedOpen):
    """``POST /home-beds/{id}/open`` as it happened: the same fields, plus when and by which doctor."""

    opened_at: BusinessMoment = Field(description="建床时间（建床日期即其当天）")
    practitioner_id: uuid.UUID = Field(description="建床医师（须为本机构在职医师）")
    opened_date: None = Field(default=None, description="不用：建床日期取 opened_at 当天")


class HomeBedHistoryRound(BaseModel):
    """A 查床 round as ``POST /home-beds/{id}/rounds`` records it, plus the doctor who made it."""

    client_record_id: uuid.UUID | None = Field(
        default=None, description="原系统的查床记录 ID；缺省时由键、日期与医师导出（重放不重复）"
    )
    round_date: BusinessDate
    practitioner_id: uuid.UUID = Field(description="查床医师（须为本机构在职医师）")
    findings: MultiLine = Field(min_length=1, max_length=4000)
    orders_text: MultiLine | None = Field(default=None, max_length=4000, description="医嘱")


class HomeBedHistoryClosing(BaseModel):
    """``POST /home-beds/{id}/close`` as it happened."""

    closed_at: BusinessMoment = Field(description="撤床时间（撤床日期即其当天）")
    reason: CloseReason
    summary: MultiLine = Field(min_length=2, max_length=4000, description="撤床小结")


class HomeBedHistoryRecord(HomeBedApply):
    """A past home bed: the application's facts (the body of ``POST /home-beds``), the assessment, the
    opening, the re-assessments of each period, the rounds and, when it ended, the closing."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [HISTORY_RECORD_EXAMPLE]})

    external_id: str = Field(min_length=1, max_length=100)
    institution_id: uuid.UUID = Field(description="承担家庭病床的机构（须已登记提供家庭病床服务）")
    recipient_id: uuid.UUID | None = Field(default=None, description="服务对象 id")  # type: ignore[assignment]
    recipient_external_id: str | None = Field(
        default=None, min_length=1, max_length=100, description="同一 source_system 上报的服务对象"
    )
    record_no: str | None = Field(
        default=None, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$", description="原病床编号"
    )
    assessment: HomeBedHistoryAssessment
    opening: HomeBedHistoryOpening
    reassessments: list[HomeBedHistoryAssessment] = Field(
        default_factory=list, max_length=100, description="每个周期届满时的再评估（按时间先后）"
    )
    rounds: list[HomeBedHistoryRound] = Field(default_factory=list, max_length=1000)
    closing: HomeBedHistoryClosing | None = Field(default=None, description="撤床；缺省表示仍在床")

    @model_validator(mode="after")
    def _one_recipient(self) -> HomeBedHistoryRecord:
        if (self.recipient_id is None) == (self.recipient_external_id is None):
            raise ValueError("须且只能指定 recipient_id 或 recipient_external_id 之一")
        return self


class HomeBedBulkRequest(BulkRequest):
    """A batch of past home beds; each record is validated on its own as a HomeBedHistoryRecord."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"source_system": "xm-jtbc", "records": [HISTORY_RECORD_EXAMPLE]}]},
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(HomeBedHistoryRecord)]] = records_field(
        HomeBedHistoryRecord
    )
