"""Wire shapes of 备案 filings."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final, Self

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from libs.common.bulk import BulkRequest, records_field
from libs.common.dates import BusinessMoment
from libs.common.openapi import DocumentedAs
from libs.common.text import MultiLine, SingleLine
from services.registry.filings.models import FILING_STATE_LABELS, UNIT_KIND_LABELS, FilingState, UnitKind


class FilingDocument(StrEnum):
    application_form = "application_form"
    premises_proof = "premises_proof"
    staff_qualifications = "staff_qualifications"
    rules = "rules"
    layout_plan = "layout_plan"


DOCUMENT_LABELS: Final = {
    FilingDocument.application_form: "医疗机构备案表",
    FilingDocument.premises_proof: "房屋产权证明或租赁合同",
    FilingDocument.staff_qualifications: "医务人员资格证书、执业证书",
    FilingDocument.rules: "医疗质量安全管理制度",
    FilingDocument.layout_plan: "平面布局图",
}
REQUIRED_DOCUMENTS: Final = (
    FilingDocument.application_form,
    FilingDocument.premises_proof,
    FilingDocument.staff_qualifications,
    FilingDocument.rules,
)


class FilingContent(BaseModel):
    """What a filing says about the unit (a correction sends a subset)."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    unit_kind: UnitKind | None = Field(default=None, description="内设医务室/护理站/诊所")
    unit_name: SingleLine | None = Field(
        default=None, min_length=2, max_length=200, examples=["兰馨颐养院医务室"]
    )
    person_in_charge: SingleLine | None = Field(default=None, max_length=50, description="负责人")
    doctors: int | None = Field(default=None, ge=0, le=1000, description="医师人数")
    nurses: int | None = Field(default=None, ge=0, le=1000, description="护士人数")
    service_scope: MultiLine | None = Field(default=None, max_length=2000, description="服务范围")
    documents: list[FilingDocument] | None = Field(default=None, description="已提交的材料")


class FilingCreate(FilingContent):
    institution_id: uuid.UUID
    unit_kind: UnitKind = Field(description="内设医务室/护理站/诊所")
    unit_name: SingleLine = Field(min_length=2, max_length=200, examples=["兰馨颐养院医务室"])
    submit: bool = Field(default=True, description="即办：材料齐全时立即备案；false 则先存为草稿")


class FilingCorrection(FilingContent):
    reason: MultiLine | None = Field(default=None, max_length=500, description="更正说明")


class FilingDecision(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "内设医务室执业人员资质证明不全"}]}
    )

    reason: MultiLine = Field(min_length=2, max_length=500, description="不予备案或撤销的理由")


class FilingRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    institution_id: uuid.UUID
    region_code: str
    unit_kind: UnitKind
    unit_name: str
    ws218_kind_code: str
    person_in_charge: str | None
    doctors: int
    nurses: int
    service_scope: str | None
    documents: list[str]
    state: FilingState
    filing_no: str | None
    revision: int
    accepted_at: datetime | None
    revoked_at: datetime | None = Field(default=None, description="撤销时间（已撤销的备案）")
    state_reason: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    allowed_actions: list[str] = Field(default_factory=list, description="当前状态下允许的操作")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def state_label(self) -> str:
        return FILING_STATE_LABELS[self.state]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unit_kind_label(self) -> str:
        return UNIT_KIND_LABELS[self.unit_kind]


class FilingEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    action: str
    from_state: str | None
    to_state: str
    reason: str | None
    changes: dict[str, Any] | None = Field(description="本步骤更改的字段：旧值与新值")
    revision: int
    actor_sub: str
    actor_role: str
    occurred_at: datetime


#: the states a history import may give a filing: a past filing was accepted, and may since be revoked
HISTORY_STATES: Final = (FilingState.accepted, FilingState.revoked)


class FilingHistoryRecord(FilingContent):
    """One past filing of a history import (``POST /filings/bulk``): the body of ``POST /filings`` (always
    submitted: a past filing was accepted) with its original dates, its state and its 备案号."""

    external_id: str = Field(description="来源系统内的备案编号（与批次的 source_system 一起作为键）")
    institution_id: uuid.UUID
    unit_kind: UnitKind = Field(description="内设医务室/护理站/诊所")
    unit_name: SingleLine = Field(min_length=2, max_length=200, examples=["兰馨颐养院医务室"])
    state: FilingState = Field(
        default=FilingState.accepted, description="accepted（已备案）或 revoked（已撤销）"
    )
    filing_no: SingleLine | None = Field(
        default=None, min_length=4, max_length=40, description="原备案号（缺省时按备案日期生成）"
    )
    accepted_at: BusinessMoment = Field(description="备案时间（原始时间，不晚于现在）")
    revoked_at: BusinessMoment | None = Field(
        default=None, description="撤销时间（state 为 revoked 时必填；不早于备案时间，不晚于现在）"
    )
    revoke_reason: MultiLine | None = Field(
        default=None, min_length=2, max_length=500, description="撤销理由（state 为 revoked 时必填）"
    )

    @model_validator(mode="after")
    def _state_and_revocation(self) -> Self:
        if self.state not in HISTORY_STATES:
            raise ValueError("历史备案的状态只能是 accepted 或 revoked（state must be accepted or revoked）")
        revoked = self.state is FilingState.revoked
        if revoked and (self.revoked_at is None or self.revoke_reason is None):
            raise ValueError("已撤销的备案须填写 revoked_at 和 revoke_reason（revocation date and reason)")
        if not revoked and (self.revoked_at is not None or self.revoke_reason is not None):
            raise ValueError("未撤销的备案不能填写 revoked_at 或 revoke_reason（not revoked）")
        return self


class FilingBulkRequest(BulkRequest):
    """A batch of past filings (libs/common/bulk.py): each record is validated on its own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "source_system": "xm-ijiankang",
                    "records": [
                        {
                            "external_id": "BA-2019-0007",
                            "institution_id": "8a0d5b7c-1e2f-4a3b-8c9d-6e5f4a3b2c1d",
                            "unit_kind": "infirmary",
                            "unit_name": "兰馨颐养院医务室",
                            "person_in_charge": "林晓燕",
                            "doctors": 1,
                            "nurses": 2,
                            "documents": [
                                "application_form",
                                "premises_proof",
                                "staff_qualifications",
                                "rules",
                            ],
                            "state": "revoked",
                            "filing_no": "YB350206201900007",
                            "accepted_at": "2019-03-01T10:00:00+08:00",
                            "revoked_at": "2019-09-17T15:30:00+08:00",
                            "revoke_reason": "现场核查：医师执业地点未变更",
                        }
                    ],
                }
            ]
        },
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(FilingHistoryRecord)]] = records_field(
        FilingHistoryRecord
    )
