"""家庭病床 home-bed episodes and their 查床 rounds."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin, UTCDateTime, str_enum, utcnow
from services.homecare.base import Base


class HomeBedStatus(StrEnum):
    applied = "applied"
    assessed = "assessed"
    not_qualified = "not_qualified"
    opened = "opened"
    closed = "closed"
    withdrawn = "withdrawn"


HOME_BED_STATUS_LABELS = {
    HomeBedStatus.applied: "已申请",
    HomeBedStatus.assessed: "评估合格",
    HomeBedStatus.not_qualified: "评估不符合",
    HomeBedStatus.opened: "已建床",
    HomeBedStatus.closed: "已撤床",
    HomeBedStatus.withdrawn: "已撤回申请",
}


class Mobility(StrEnum):
    bedridden = "bedridden"
    frail = "frail"
    ambulant = "ambulant"


MOBILITY_LABELS = {
    Mobility.bedridden: "长期卧床",
    Mobility.frail: "体弱行动不便",
    Mobility.ambulant: "可自行外出",
}


class QualifyingCondition(StrEnum):
    """The conditions of which a home-bed patient needs at least one (rules.md, Fuzhou)."""

    tubes = "tubes"
    skin_stoma_incontinence = "skin_stoma_incontinence"
    fracture_fixation = "fracture_fixation"
    child_rehabilitation = "child_rehabilitation"
    stroke_or_post_surgery_rehab = "stroke_or_post_surgery_rehab"
    chronic_bed_rest = "chronic_bed_rest"
    advanced_cancer = "advanced_cancer"
    peritoneal_dialysis = "peritoneal_dialysis"
    palliative_care = "palliative_care"


CONDITION_LABELS = {
    QualifyingCondition.tubes: "留置气道、营养或长期导尿管路",
    QualifyingCondition.skin_stoma_incontinence: "压力性损伤、造口、失禁或糖尿病足",
    QualifyingCondition.fracture_fixation: "骨折牵引或固定",
    QualifyingCondition.child_rehabilitation: "需长期康复的儿童",
    QualifyingCondition.stroke_or_post_surgery_rehab: "脑卒中后遗症或术后康复",
    QualifyingCondition.chronic_bed_rest: "慢性病需长期卧床",
    QualifyingCondition.advanced_cancer: "晚期肿瘤",
    QualifyingCondition.peritoneal_dialysis: "腹膜透析",
    QualifyingCondition.palliative_care: "安宁疗护",
}


class CloseReason(StrEnum):
    recovered_or_stable = "recovered_or_stable"
    admitted_to_hospital = "admitted_to_hospital"
    died = "died"
    period_ended = "period_ended"
    family_request = "family_request"
    no_longer_qualifies = "no_longer_qualifies"


CLOSE_REASON_LABELS = {
    CloseReason.recovered_or_stable: "病情好转或稳定",
    CloseReason.admitted_to_hospital: "转入住院",
    CloseReason.died: "死亡",
    CloseReason.period_ended: "周期届满未再评估",
    CloseReason.family_request: "家属要求",
    CloseReason.no_longer_qualifies: "不再符合建床条件",
}


class HomeBed(EntityMixin, ChangeTracked, Base):
    __tablename__ = "home_bed"
    __change_entity__ = "home_bed"
    __change_exclude__: ClassVar[frozenset[str]] = frozenset(
        {"diagnosis", "application_note", "care_plan", "close_summary", "assessment"}
    )
    __table_args__ = (
        Index("ix_home_bed_opened", "status", "opened_date"),
        Index("ix_home_bed_closed", "closed_date"),
    )

    record_no: Mapped[str] = mapped_column(String(40), unique=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    provider_name: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recipient.id"), index=True)
    status: Mapped[HomeBedStatus] = mapped_column(str_enum(HomeBedStatus, 20), index=True)

    diagnosis: Mapped[str] = mapped_column(Text)
    condition_stable: Mapped[bool] = mapped_column(Boolean)
    mobility: Mapped[Mobility] = mapped_column(str_enum(Mobility, 20))
    conditions: Mapped[list[str]] = mapped_column(JSON)
    has_family_doctor_contract: Mapped[bool] = mapped_column(Boolean)
    application_note: Mapped[str | None] = mapped_column(Text)
    applied_by_sub: Mapped[str] = mapped_column(String(120))

    assessed_at: Mapped[datetime | None]
    assessed_by_practitioner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    assessment: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    opened_at: Mapped[datetime | None]
    opened_date: Mapped[date | None] = mapped_column(Date)
    opened_by_practitioner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    care_plan: Mapped[str | None] = mapped_column(Text)
    consent_at: Mapped[datetime | None]
    round_interval_days: Mapped[int | None] = mapped_column(Integer)
    period_end_date: Mapped[date | None] = mapped_column(Date, index=True)
    last_round_date: Mapped[date | None] = mapped_column(Date)
    reassessment_count: Mapped[int] = mapped_column(Integer, default=0)

    closed_at: Mapped[datetime | None]
    closed_date: Mapped[date | None] = mapped_column(Date)
    close_reason: Mapped[CloseReason | None] = mapped_column(str_enum(CloseReason, 30))
    close_summary: Mapped[str | None] = mapped_column(Text)


class HomeBedRound(EntityMixin, ChangeTracked, Base):
    """A 查床 round by a provider doctor."""

    __tablename__ = "home_bed_round"
    __change_entity__ = "home_bed_round"
    __change_exclude__: ClassVar[frozenset[str]] = frozenset({"findings", "orders_text"})

    home_bed_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("home_bed.id"), index=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    region_code: Mapped[str] = mapped_column(String(6))
    practitioner_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    client_record_id: Mapped[uuid.UUID] = mapped_column(Uuid(), unique=True)
    round_date: Mapped[date] = mapped_column(Date)
    findings: Mapped[str] = mapped_column(Text)
    orders_text: Mapped[str | None] = mapped_column(Text)
    # the round's photos (issue 18): SHA-256 of attachments uploaded before the round was recorded
    photo_sha256: Mapped[list[str]] = mapped_column(JSON, default=list)


class HomeBedSource(Base):
    """The key a historical import gave a home bed (``source_system`` + ``external_id``) and a digest of
    the record it last wrote, so that a replayed record is ``unchanged``. Not in the change feed (the bed
    is); one row per imported bed."""

    __tablename__ = "home_bed_source"
    __table_args__ = (UniqueConstraint("source_system", "external_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    home_bed_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("home_bed.id"), unique=True)
    source_system: Mapped[str] = mapped_column(String(60))
    external_id: Mapped[str] = mapped_column(String(100))
    source_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
