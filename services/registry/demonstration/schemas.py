"""Wire shapes of 示范创建: batches, applications, criteria, transitions, trail, summaries."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_serializer,
    model_validator,
)

from libs.common import divisions
from libs.common.auth import Role
from libs.common.openapi import enum_labels
from libs.common.renamed_fields import emit_old_names, old_output
from libs.common.text import MultiLine, SingleLine
from services.registry.demonstration.models import (
    ITEM_LABELS,
    KIND_LABELS,
    NATIONAL_RESULT_LABELS,
    STATE_LABELS,
    ApplicationKind,
    ApplicationState,
    AssessmentItem,
    NationalResult,
)
from services.registry.demonstration.workflow import ACTION_LABELS, LEVEL_LABELS, Action, Level
from services.registry.institutions.schemas import ContactPhone

PostalCode = Annotated[str, Field(pattern=r"^\d{6}$", examples=["361000"])]

#: an application's public names replaced by the platform's vocabulary (old → new), until API 2.0.0:
#: a reason for closing is ``close_reason``, as on home beds and referrals
APPLICATION_RENAMED = {"closed_reason": "close_reason"}

Text = Field(min_length=2, max_length=4000)
SUMMARY_LEVEL_LABELS = {"city": "市级推荐汇总表", "province": "省级推荐汇总表"}


def region_name(code: str | None) -> str | None:
    division = divisions.get(code) if code else None
    return division.name if division else None


# ---------------------------------------------------------------- batches


class StageWindow(BaseModel):
    start_date: date
    end_date: date

    @model_validator(mode="after")
    def _ordered(self) -> StageWindow:
        if self.end_date < self.start_date:
            raise ValueError("阶段结束日期不能早于开始日期")
        return self


STAGES = (
    "preparation",
    "application",
    "city_recommendation",
    "provincial_review",
    "national_assessment",
    "public_notice",
    "naming",
)
STAGE_LABELS = {
    "preparation": "准备阶段",
    "application": "自评申报阶段",
    "city_recommendation": "市级推荐阶段",
    "provincial_review": "省级评审阶段",
    "national_assessment": "国家评估阶段",
    "public_notice": "公示阶段",
    "naming": "命名阶段",
}


class BatchStages(BaseModel):
    """The seven stages, in order; a stage may not start before the previous one started nor end earlier."""

    preparation: StageWindow
    application: StageWindow
    city_recommendation: StageWindow
    provincial_review: StageWindow
    national_assessment: StageWindow
    public_notice: StageWindow
    naming: StageWindow

    @model_validator(mode="after")
    def _in_order(self) -> BatchStages:
        for earlier_name, later_name in pairwise(STAGES):
            earlier: StageWindow = getattr(self, earlier_name)
            later: StageWindow = getattr(self, later_name)
            if later.start_date < earlier.start_date or later.end_date < earlier.end_date:
                raise ValueError(f"{STAGE_LABELS[later_name]}不能早于{STAGE_LABELS[earlier_name]}")
        return self


class BatchCreate(BaseModel):
    name: SingleLine = Field(
        min_length=2, max_length=100, examples=["第二批全国医养结合示范项目（2025—2026年）"]
    )
    county_quota: int = Field(ge=0, le=100, description="拟推荐示范县（市、区）名额", examples=[3])
    institution_quota: int = Field(ge=0, le=100, description="拟推荐示范机构名额", examples=[2])
    stages: BatchStages
    operating_cutoff_date: date | None = Field(
        default=None, description="运营年限计算截止日期；缺省取配置 demo_operating_cutoff"
    )
    operating_years_min: int | None = Field(default=None, ge=1, le=50)
    occupancy_min_pct: int | None = Field(default=None, ge=0, le=100)
    disabled_share_min_pct: int | None = Field(default=None, ge=0, le=100)
    satisfaction_min_pct: int | None = Field(default=None, ge=0, le=100)


class BatchUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "2026 年度全国医养结合示范创建", "county_quota": 2, "institution_quota": 4}]
        }
    )

    name: SingleLine | None = Field(default=None, min_length=2, max_length=100)
    county_quota: int | None = Field(default=None, ge=0, le=100)
    institution_quota: int | None = Field(default=None, ge=0, le=100)
    stages: BatchStages | None = None
    operating_cutoff_date: date | None = None


class BatchRead(BaseModel):
    id: uuid.UUID
    name: str
    county_quota: int
    institution_quota: int
    stages: BatchStages
    operating_cutoff_date: date
    operating_years_min: int
    occupancy_min_pct: int
    disabled_share_min_pct: int
    satisfaction_min_pct: int
    current_stage: str | None = Field(description="今天（北京时间）所处阶段；不在任何阶段时为空")
    version: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def current_stage_label(self) -> str | None:
        return STAGE_LABELS.get(self.current_stage) if self.current_stage else None


# ---------------------------------------------------------------- criteria


class YearBreakdown(BaseModel):
    year: int
    value: str | None = None
    margin: str | None = None
    passed: bool


class CriterionResult(BaseModel):
    """One criterion: passed or not, its figure and threshold, by how much (margin = value − threshold)."""

    code: str
    label: str
    hard: bool = Field(description="硬性条件：不满足不能提交")
    passed: bool | None
    value: str | None = None
    threshold: str | None = None
    comparison: Literal[">=", ">"] | None = Field(
        default=None, json_schema_extra=enum_labels({">=": "不低于门槛", ">": "高于门槛"})
    )
    unit: str | None = None
    margin: str | None = Field(default=None, description="超出（正）或不足（负）门槛的幅度")
    margin_unit: str | None = None
    detail: str
    years: list[YearBreakdown] | None = None


class ItemStatus(BaseModel):
    item: AssessmentItem
    label: str
    filled: bool
    attachments: int


class CriteriaReport(BaseModel):
    application_id: uuid.UUID
    kind: ApplicationKind
    frozen: bool = Field(description="已提交：数据为提交时冻结的数据")
    evaluated_on: date
    operating_cutoff_date: date
    criteria: list[CriterionResult]
    self_assessment: list[ItemStatus]
    failing: list[str] = Field(description="未满足的硬性条件和未填写的自评项")
    can_submit: bool


# ---------------------------------------------------------------- applications


class ApplicationCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "batch_id": "5b0f1c9e-2f52-4d1c-9d0a-1f6d3c2b8a11",
                    "kind": "institution",
                    "declared_satisfaction_pct": 96.5,
                    "declared_no_major_incident": True,
                    "contact_name": "王院长",
                }
            ]
        }
    )

    batch_id: uuid.UUID
    kind: ApplicationKind = Field(description="county：县（市、区）为本地申报；institution：机构为本机构申报")
    self_assessment: dict[AssessmentItem, MultiLine] | None = None
    declared_satisfaction_pct: float | None = Field(default=None, ge=0, le=100)
    declared_no_major_incident: bool | None = None
    contact_name: SingleLine | None = Field(
        default=None, max_length=50, description="联系人（机构）／县级卫生健康部门联系人（县）"
    )
    contact_phone: ContactPhone | None = Field(default=None, description="联系人的联系电话")
    head_name: SingleLine | None = Field(
        default=None, max_length=50, description="负责人（机构）／县级人民政府联系人（县）"
    )
    head_phone: ContactPhone | None = Field(
        default=None, description="负责人（县级人民政府联系人）的联系电话"
    )
    postal_address: SingleLine | None = Field(default=None, max_length=200, description="通讯地址")
    postal_code: PostalCode | None = Field(default=None, description="邮编（6 位数字）")

    @field_validator("self_assessment")
    @classmethod
    def _texts(cls, value: dict[AssessmentItem, str] | None) -> dict[AssessmentItem, str] | None:
        _check_texts((value or {}).values())
        return value


class ApplicationUpdate(BaseModel):
    """Only the fields sent are changed; a self-assessment item set to null is cleared."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"declared_satisfaction_pct": 97.0, "contact_name": "王院长"}]}
    )

    self_assessment: dict[AssessmentItem, MultiLine | None] | None = None
    declared_satisfaction_pct: float | None = Field(default=None, ge=0, le=100)
    declared_no_major_incident: bool | None = None
    contact_name: SingleLine | None = Field(
        default=None, max_length=50, description="联系人（机构）／县级卫生健康部门联系人（县）"
    )
    contact_phone: ContactPhone | None = Field(default=None, description="联系人的联系电话")
    head_name: SingleLine | None = Field(
        default=None, max_length=50, description="负责人（机构）／县级人民政府联系人（县）"
    )
    head_phone: ContactPhone | None = Field(
        default=None, description="负责人（县级人民政府联系人）的联系电话"
    )
    postal_address: SingleLine | None = Field(default=None, max_length=200, description="通讯地址")
    postal_code: PostalCode | None = Field(default=None, description="邮编（6 位数字）")

    @field_validator("self_assessment")
    @classmethod
    def _texts(
        cls, value: dict[AssessmentItem, str | None] | None
    ) -> dict[AssessmentItem, str | None] | None:
        _check_texts((value or {}).values())
        return value


def _check_texts(texts: Iterable[str | None]) -> None:
    for text in texts:
        if text is not None and not 2 <= len(text.strip()) <= 20000:
            raise ValueError("自评内容须为 2–20000 个字符")


class AssessmentItemRead(BaseModel):
    item: AssessmentItem
    text: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        return ITEM_LABELS[self.item]


class AttachmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    application_id: uuid.UUID
    item: AssessmentItem | None
    title: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str
    version: int
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def download_path(self) -> str:
        return (
            f"/api/v1/registry/demonstration-applications/{self.application_id}/attachments/{self.id}/content"
        )


class HolderRead(BaseModel):
    level: Level
    name: str = Field(description="当前持有（可办理）的单位")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def level_label(self) -> str:
        return LEVEL_LABELS[self.level]


class ExpertScoreIn(BaseModel):
    expert_name: SingleLine = Field(min_length=2, max_length=50)
    score: float = Field(ge=0, le=100)
    comment: MultiLine | None = Field(default=None, max_length=4000)


class ExpertScoreRead(ExpertScoreIn):
    model_config = ConfigDict(from_attributes=True)


class ProvinceReviewWrite(BaseModel):
    """The provincial review record (document review, site visit, expert scores); the decision is separate."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "document_review_passed": True,
                    "document_review_opinion": "材料齐全、数据可核。",
                    "site_visit_date": "2026-10-15",
                    "site_visit_findings": "现场核查与申报一致。",
                    "expert_scores": [],
                }
            ]
        }
    )

    document_review_passed: bool
    document_review_opinion: MultiLine = Text
    site_visit_date: date | None = None
    site_visit_findings: MultiLine | None = Field(default=None, min_length=2, max_length=4000)
    expert_scores: list[ExpertScoreIn] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _visit(self) -> ProvinceReviewWrite:
        if (self.site_visit_date is None) != (self.site_visit_findings is None):
            raise ValueError("现场核查日期和核查意见须同时填写")
        return self


class ProvinceReviewRead(BaseModel):
    document_review_passed: bool | None
    document_review_opinion: str | None
    site_visit_date: date | None
    site_visit_findings: str | None
    expert_scores: list[ExpertScoreRead]
    average_score: float | None
    decision_reasons: str | None
    approved_date: date | None


class ReassessmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    assessed_date: date
    passed: bool
    opinion: str
    actor_sub: str


class ApplicationListItem(BaseModel):
    id: uuid.UUID
    batch_id: uuid.UUID
    kind: ApplicationKind
    state: ApplicationState
    region_code: str
    city_code: str
    institution_id: uuid.UUID | None
    applicant_name: str
    holder: HolderRead
    submitted_date: date | None
    county_recommended_date: date | None
    city_recommended_date: date | None
    named_date: date | None
    version: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def region_name(self) -> str | None:
        return region_name(self.region_code)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def city_name(self) -> str | None:
        return region_name(self.city_code)


class ApplicationRead(ApplicationListItem):
    self_assessment: list[AssessmentItemRead]
    attachments: list[AttachmentRead]
    declared_satisfaction_pct: float | None
    declared_no_major_incident: bool | None
    contact_name: str | None
    contact_phone: str | None
    head_name: str | None
    head_phone: str | None
    postal_address: str | None
    postal_code: str | None
    frozen_figures: dict[str, Any] | None = Field(description="提交时冻结的指标数据")
    county_opinion: str | None
    city_opinion: str | None
    province_review: ProvinceReviewRead
    sent_to_nation_date: date | None
    national_result: NationalResult | None
    national_result_date: date | None
    national_result_note: str | None
    named_document_no: str | None
    next_reassessment_due_date: date | None
    reassessments: list[ReassessmentRead]
    returned_reason: str | None
    returned_date: date | None
    returned_level: Level | None = Field(description="退回的层级")
    close_reason: str | None = Field(description="终止（不予推荐、撤销命名等）的原因")
    closed_reason: str | None = old_output("close_reason", "终止的原因")
    closed_date: date | None
    allowed_actions: list[str] = Field(description="调用者当前可执行的操作")

    _old_names = model_serializer(mode="wrap")(emit_old_names(APPLICATION_RENAMED))

    @computed_field  # type: ignore[prop-decorator]
    @property
    def national_result_label(self) -> str | None:
        return NATIONAL_RESULT_LABELS[self.national_result] if self.national_result else None


# ---------------------------------------------------------------- transitions


class OpinionBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"opinion": "经审核，申报材料齐全，同意推荐。"}]}
    )

    opinion: MultiLine = Text


class ReasonBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "申报材料不全，请补充近三年入住率证明。"}]}
    )

    reason: MultiLine = Text


class ProvinceApproveBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reasons": "材料审核与现场核查均通过，专家评分位列前列，同意报送。"}]
        }
    )

    reasons: MultiLine = Text


class SendToNationBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "随文报送国家卫生健康委。"}]})

    note: MultiLine | None = Field(default=None, max_length=4000)


class NationalResultBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"result": "named", "result_date": "2026-12-20", "document_no": "国卫老龄函〔2026〕88号"}
            ]
        }
    )

    result: NationalResult
    result_date: date
    note: MultiLine | None = Field(default=None, max_length=4000)
    document_no: SingleLine | None = Field(default=None, min_length=2, max_length=100, description="命名文号")

    @model_validator(mode="after")
    def _named(self) -> NationalResultBody:
        if self.result is NationalResult.named and self.document_no is None:
            raise ValueError("命名须填写命名文号")
        if self.result is NationalResult.not_named and not self.note:
            raise ValueError("未命名须说明原因")
        return self


class NameBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"named_date": "2026-12-28", "document_no": "闽卫老龄〔2026〕12号"}]}
    )

    named_date: date
    document_no: SingleLine = Field(min_length=2, max_length=100, description="命名文号")


class ReassessBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"assessed_date": "2029-11-20", "passed": True, "opinion": "复核合格，保留称号。"}]
        }
    )

    assessed_date: date
    passed: bool
    opinion: MultiLine = Text


# ---------------------------------------------------------------- trail, named list


class ReviewEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    occurred_at: datetime
    business_date: date
    action: str
    from_state: ApplicationState | None
    to_state: ApplicationState
    actor_sub: str
    actor_role: Role
    actor_region_code: str
    reason: str | None
    details: dict[str, Any] | None = Field(description="该步骤的附加信息（因步骤而异，如推荐意见、评分）")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def action_label(self) -> str:
        try:
            return ACTION_LABELS[Action(self.action)]
        except ValueError:
            return {"create": "创建申报", "update": "修改申报材料", "province-review": "省级评审记录"}.get(
                self.action, self.action
            )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def actor_role_label(self) -> str:
        return self.actor_role.label

    @computed_field  # type: ignore[prop-decorator]
    @property
    def actor_region_name(self) -> str | None:
        return region_name(self.actor_region_code)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def to_state_label(self) -> str:
        return STATE_LABELS[self.to_state]


class NamedDemonstration(BaseModel):
    application_id: uuid.UUID
    batch_id: uuid.UUID
    batch_name: str
    kind: ApplicationKind
    applicant_name: str
    region_code: str
    city_code: str
    institution_id: uuid.UUID | None
    named_date: date
    named_document_no: str | None
    next_reassessment_due_date: date | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def region_name(self) -> str | None:
        return region_name(self.region_code)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def city_name(self) -> str | None:
        return region_name(self.city_code)


# ---------------------------------------------------------------- recommendation summaries (推荐汇总表)


class SummaryRow(BaseModel):
    """One application in a 推荐汇总表; ``figures`` are the frozen key figures, by column key."""

    number: int = Field(description="序号")
    application_id: uuid.UUID
    city_name: str
    region_name: str
    applicant_name: str
    state: ApplicationState
    head_name: str | None = Field(description="负责人（机构）／县级人民政府联系人（县）")
    head_phone: str | None
    contact_name: str | None = Field(description="联系人（机构）／县级卫生健康部门联系人（县）")
    contact_phone: str | None
    postal_address: str | None
    postal_code: str | None
    figures: dict[str, str | None]
    submitted_date: date | None
    county_recommended_date: date | None
    county_opinion: str | None
    city_recommended_date: date | None
    city_opinion: str | None
    province_decision: str | None
    province_average_score: float | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


class SummaryColumn(BaseModel):
    key: str
    header: str
    type: Literal["text", "number", "date"] = Field(
        json_schema_extra=enum_labels({"text": "文本", "number": "数值", "date": "日期"})
    )


class SummaryTable(BaseModel):
    title: str
    batch_id: uuid.UUID
    batch_name: str
    level: Literal["city", "province"] = Field(json_schema_extra=enum_labels(SUMMARY_LEVEL_LABELS))
    kind: ApplicationKind
    city_code: str | None
    figure_columns: list[SummaryColumn]
    rows: list[SummaryRow]
