"""全国医养结合示范创建: batches, applications and what the review levels record on them.

Every table is prefixed ``demonstration_`` (the registry's initial migration strips them; this domain has
its own migration, ``registry_0002``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from libs.common.models import ChangeTracked, EntityMixin, UTCDateTime, str_enum, utcnow
from services.registry.base import Base


class ApplicationKind(StrEnum):
    county = "county"
    institution = "institution"


KIND_LABELS = {ApplicationKind.county: "示范县（市、区）", ApplicationKind.institution: "示范机构"}


class ApplicationState(StrEnum):
    draft = "draft"
    submitted = "submitted"
    county_recommended = "county_recommended"
    city_recommended = "city_recommended"
    province_approved = "province_approved"
    sent_to_nation = "sent_to_nation"
    national_candidate = "national_candidate"
    named = "named"
    not_named = "not_named"
    declined = "declined"
    revoked = "revoked"


STATE_LABELS = {
    ApplicationState.draft: "填报中",
    ApplicationState.submitted: "已申报",
    ApplicationState.county_recommended: "县级已推荐",
    ApplicationState.city_recommended: "市级已推荐",
    ApplicationState.province_approved: "省级评审通过",
    ApplicationState.sent_to_nation: "已报送国家",
    ApplicationState.national_candidate: "国家评估候选（公示）",
    ApplicationState.named: "已命名（动态管理）",
    ApplicationState.not_named: "未获命名",
    ApplicationState.declined: "未获推荐",
    ApplicationState.revoked: "已撤销命名",
}


class AssessmentItem(StrEnum):
    """The self-assessment items, one per criterion of the work plan (seed 004, 医养结合示范项目工作方案
    （2025 年版）三、创建标准): six for a county, five for an institution (``ITEMS_BY_KIND``). The
    items of the earlier stand-in form are kept as deprecated names (``DEPRECATED_ITEMS``)."""

    leadership = "leadership"
    policy = "policy"
    services = "services"
    supervision = "supervision"
    support = "support"
    public_approval = "public_approval"
    facilities = "facilities"
    staffing = "staffing"
    management = "management"
    service_quality = "service_quality"
    service_outcomes = "service_outcomes"
    # deprecated (removed in API 2.0.0): the stand-in institution form's headings
    basic_conditions = "basic_conditions"
    service_capacity = "service_capacity"
    quality_safety = "quality_safety"
    social_evaluation = "social_evaluation"


#: the work plan's criteria, as it titles them (county 1–6, institution 1–5)
ITEM_LABELS = {
    AssessmentItem.leadership: "党政重视，部门协同",
    AssessmentItem.policy: "政策支持，推动有力",
    AssessmentItem.services: "固本强基，优化提升",
    AssessmentItem.supervision: "严格管理，强化监督",
    AssessmentItem.support: "完善支撑，加强保障",
    AssessmentItem.public_approval: "群众认可，评价良好",
    AssessmentItem.facilities: "环境设施好",
    AssessmentItem.staffing: "人员队伍好",
    AssessmentItem.management: "内部管理好",
    AssessmentItem.service_quality: "服务质量好",
    AssessmentItem.service_outcomes: "服务效果好",
    AssessmentItem.basic_conditions: "基本条件（已弃用）",
    AssessmentItem.service_capacity: "服务能力（已弃用）",
    AssessmentItem.quality_safety: "质量安全（已弃用）",
    AssessmentItem.social_evaluation: "社会评价（已弃用）",
}

ITEMS_BY_KIND: dict[ApplicationKind, tuple[AssessmentItem, ...]] = {
    ApplicationKind.county: (
        AssessmentItem.leadership,
        AssessmentItem.policy,
        AssessmentItem.services,
        AssessmentItem.supervision,
        AssessmentItem.support,
        AssessmentItem.public_approval,
    ),
    ApplicationKind.institution: (
        AssessmentItem.facilities,
        AssessmentItem.staffing,
        AssessmentItem.management,
        AssessmentItem.service_quality,
        AssessmentItem.service_outcomes,
    ),
}

#: the stand-in form's items still accepted (until API 2.0.0) and the heading each is folded into; texts
#: of several old items landing on one heading are joined in this order. A county's old 人才队伍 belongs to
#: criterion 5 (医务人员 training and careers); an institution's 服务能力 and 质量安全 to 服务质量好.
DEPRECATED_ITEMS: dict[ApplicationKind, dict[AssessmentItem, AssessmentItem]] = {
    ApplicationKind.county: {AssessmentItem.staffing: AssessmentItem.support},
    ApplicationKind.institution: {
        AssessmentItem.basic_conditions: AssessmentItem.facilities,
        AssessmentItem.service_capacity: AssessmentItem.service_quality,
        AssessmentItem.quality_safety: AssessmentItem.service_quality,
        AssessmentItem.social_evaluation: AssessmentItem.service_outcomes,
    },
}


class NationalResult(StrEnum):
    candidate = "candidate"
    named = "named"
    not_named = "not_named"


NATIONAL_RESULT_LABELS = {
    NationalResult.candidate: "拟命名（公示）",
    NationalResult.named: "命名",
    NationalResult.not_named: "未命名",
}


class DemonstrationBatch(EntityMixin, ChangeTracked, Base):
    """One national batch (e.g. 第二批 2025–2026) as the province runs it."""

    __tablename__ = "demonstration_batch"
    __change_entity__ = "demonstration_batch"
    __table_args__ = (UniqueConstraint("name"),)

    name: Mapped[str] = mapped_column(String(100))
    county_quota: Mapped[int] = mapped_column(Integer)
    institution_quota: Mapped[int] = mapped_column(Integer)
    preparation_start_date: Mapped[date] = mapped_column(Date)
    preparation_end_date: Mapped[date] = mapped_column(Date)
    application_start_date: Mapped[date] = mapped_column(Date)
    application_end_date: Mapped[date] = mapped_column(Date)
    city_recommendation_start_date: Mapped[date] = mapped_column(Date)
    city_recommendation_end_date: Mapped[date] = mapped_column(Date)
    provincial_review_start_date: Mapped[date] = mapped_column(Date)
    provincial_review_end_date: Mapped[date] = mapped_column(Date)
    national_assessment_start_date: Mapped[date] = mapped_column(Date)
    national_assessment_end_date: Mapped[date] = mapped_column(Date)
    public_notice_start_date: Mapped[date] = mapped_column(Date)
    public_notice_end_date: Mapped[date] = mapped_column(Date)
    naming_start_date: Mapped[date] = mapped_column(Date)
    naming_end_date: Mapped[date] = mapped_column(Date)
    # The rules of the batch, copied from the registry settings when it is opened (a later change of the
    # settings does not move the goalposts of a running batch).
    operating_cutoff_date: Mapped[date] = mapped_column(Date)
    operating_years_min: Mapped[int] = mapped_column(Integer)
    occupancy_min_pct: Mapped[int] = mapped_column(Integer)
    disabled_share_min_pct: Mapped[int] = mapped_column(Integer)
    satisfaction_min_pct: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(120))

    def change_scope(self) -> tuple[str | None, None, None]:
        return (None, None, None)


class DemonstrationApplication(EntityMixin, ChangeTracked, Base):
    """A county's or an institution's application in one batch, and what each level decided on it."""

    __tablename__ = "demonstration_application"
    __change_entity__ = "demonstration_application"
    __table_args__ = (
        # one application per applicant per batch ("county:350206" / "institution:<uuid>")
        UniqueConstraint("batch_id", "applicant_key"),
        Index("ix_demonstration_application_batch_state", "batch_id", "state", "id"),
        Index("ix_demonstration_application_region_created", "region_code", "created_at", "id"),
        Index("ix_demonstration_application_state_named", "state", "named_date"),
    )

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("demonstration_batch.id"))
    kind: Mapped[ApplicationKind] = mapped_column(str_enum(ApplicationKind, 20), index=True)
    applicant_key: Mapped[str] = mapped_column(String(60))
    region_code: Mapped[str] = mapped_column(String(6))
    city_code: Mapped[str] = mapped_column(String(6), index=True)
    institution_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("institution.id"), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    state: Mapped[ApplicationState] = mapped_column(str_enum(ApplicationState, 30))

    # declared by the applicant (not in the registry): looked at, not a hard criterion
    declared_satisfaction_pct: Mapped[float | None] = mapped_column(Float)
    declared_no_major_incident: Mapped[bool | None] = mapped_column(Boolean)
    contact_name: Mapped[str | None] = mapped_column(String(50))
    # the 推荐汇总表's contact columns (seed 004, attachments 4 and 5): a county gives its government's
    # contact (head_*) and its health department's (contact_*); an institution its 负责人 and 联系人
    head_name: Mapped[str | None] = mapped_column(String(50))
    head_phone: Mapped[str | None] = mapped_column(String(30))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    postal_address: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(6))

    submitted_date: Mapped[date | None] = mapped_column(Date)
    frozen_figures: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    county_recommended_date: Mapped[date | None] = mapped_column(Date)
    county_opinion: Mapped[str | None] = mapped_column(Text)
    city_opinion: Mapped[str | None] = mapped_column(Text)
    city_recommended_date: Mapped[date | None] = mapped_column(Date)

    province_document_review_passed: Mapped[bool | None] = mapped_column(Boolean)
    province_document_review_opinion: Mapped[str | None] = mapped_column(Text)
    province_site_visit_date: Mapped[date | None] = mapped_column(Date)
    province_site_visit_findings: Mapped[str | None] = mapped_column(Text)
    province_decision_reasons: Mapped[str | None] = mapped_column(Text)
    province_approved_date: Mapped[date | None] = mapped_column(Date)
    sent_to_nation_date: Mapped[date | None] = mapped_column(Date)

    national_result: Mapped[NationalResult | None] = mapped_column(str_enum(NationalResult, 20))
    national_result_date: Mapped[date | None] = mapped_column(Date)
    national_result_note: Mapped[str | None] = mapped_column(Text)
    named_date: Mapped[date | None] = mapped_column(Date)
    named_document_no: Mapped[str | None] = mapped_column(String(100))
    next_reassessment_due_date: Mapped[date | None] = mapped_column(Date)

    # returned one level down: by whom, why, when, and until when the lower level may act on it again
    returned_reason: Mapped[str | None] = mapped_column(Text)
    returned_date: Mapped[date | None] = mapped_column(Date)
    returned_level: Mapped[str | None] = mapped_column(String(20))
    reopened_until_date: Mapped[date | None] = mapped_column(Date)
    # declined / not named / revoked: why and when
    closed_reason: Mapped[str | None] = mapped_column(Text)
    closed_date: Mapped[date | None] = mapped_column(Date)

    batch: Mapped[DemonstrationBatch] = relationship(lazy="raise")
    items: Mapped[list[DemonstrationAssessmentItem]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="DemonstrationAssessmentItem.item"
    )
    attachments: Mapped[list[DemonstrationAttachment]] = relationship(
        lazy="raise", order_by="DemonstrationAttachment.created_at"
    )
    expert_scores: Mapped[list[DemonstrationExpertScore]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="DemonstrationExpertScore.position"
    )
    reassessments: Mapped[list[DemonstrationReassessment]] = relationship(
        lazy="raise", order_by="DemonstrationReassessment.assessed_date"
    )

    def change_scope(self) -> tuple[str | None, uuid.UUID | None, None]:
        return (self.region_code, self.institution_id, None)


class DemonstrationCityRecommendation(Base):
    """The one recommendation a city-level unit makes per batch (unique on batch and city)."""

    __tablename__ = "demonstration_city_recommendation"
    __table_args__ = (UniqueConstraint("batch_id", "city_code"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("demonstration_batch.id"))
    city_code: Mapped[str] = mapped_column(String(6))
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("demonstration_application.id"), unique=True)
    recommended_date: Mapped[date] = mapped_column(Date)
    actor_sub: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DemonstrationAssessmentItem(Base):
    """The applicant's text for one self-assessment item."""

    __tablename__ = "demonstration_assessment_item"
    __table_args__ = (UniqueConstraint("application_id", "item"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("demonstration_application.id"))
    item: Mapped[AssessmentItem] = mapped_column(str_enum(AssessmentItem, 30))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class DemonstrationAttachment(EntityMixin, Base):
    """A PDF/JPEG/PNG for the forms and reports; the content is loaded only for download."""

    __tablename__ = "demonstration_attachment"

    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("demonstration_application.id"), index=True)
    item: Mapped[AssessmentItem | None] = mapped_column(str_enum(AssessmentItem, 30))
    title: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(50))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_by: Mapped[str] = mapped_column(String(120))


class DemonstrationExpertScore(Base):
    """One expert's score in the provincial review."""

    __tablename__ = "demonstration_expert_score"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("demonstration_application.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    expert_name: Mapped[str] = mapped_column(String(50))
    score: Mapped[float] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)


class DemonstrationReassessment(Base):
    """A dynamic-management re-assessment of a named demonstration (every two years)."""

    __tablename__ = "demonstration_reassessment"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("demonstration_application.id"), index=True)
    assessed_date: Mapped[date] = mapped_column(Date)
    passed: Mapped[bool] = mapped_column(Boolean)
    opinion: Mapped[str] = mapped_column(Text)
    actor_sub: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DemonstrationReviewEvent(Base):
    """The review trail: who did what to an application, when, and why."""

    __tablename__ = "demonstration_review_event"
    __table_args__ = (Index("ix_demonstration_review_event_application", "application_id", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("demonstration_application.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    business_date: Mapped[date] = mapped_column(Date)
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    actor_sub: Mapped[str] = mapped_column(String(120))
    actor_role: Mapped[str] = mapped_column(String(40))
    actor_region_code: Mapped[str] = mapped_column(String(6))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
