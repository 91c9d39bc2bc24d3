"""医养签约 agreements between a medical institution and an elderly-care institution."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin, UTCDateTime, str_enum, utcnow
from services.contracts.base import Base


class ServiceKind(StrEnum):
    """The services an agreement may cover (泉州 measures; rules.md)."""

    medical_rounds = "medical_rounds"
    health_management = "health_management"
    appointment = "appointment"
    emergency_green_channel = "emergency_green_channel"
    two_way_referral = "two_way_referral"
    rehabilitation = "rehabilitation"
    medical_nursing = "medical_nursing"
    tcm = "tcm"
    mental_health = "mental_health"
    hospice = "hospice"
    pharmacy_guidance = "pharmacy_guidance"
    training = "training"
    telemedicine = "telemedicine"

    @property
    def label(self) -> str:
        return SERVICE_KIND_LABELS[self]


SERVICE_KIND_LABELS = {
    ServiceKind.medical_rounds: "医疗巡诊",
    ServiceKind.health_management: "健康管理",
    ServiceKind.appointment: "预约就诊",
    ServiceKind.emergency_green_channel: "急诊急救绿色通道",
    ServiceKind.two_way_referral: "双向转诊",
    ServiceKind.rehabilitation: "医疗康复",
    ServiceKind.medical_nursing: "医疗护理",
    ServiceKind.tcm: "中医药服务",
    ServiceKind.mental_health: "精神卫生（心理）服务",
    ServiceKind.hospice: "安宁疗护",
    ServiceKind.pharmacy_guidance: "药事管理指导",
    ServiceKind.training: "专业培训",
    ServiceKind.telemedicine: "远程医疗（远程咨询/会诊）",
}
#: an agreement with one of these lets its parties refer residents to each other
REFERRAL_SERVICES = frozenset({ServiceKind.two_way_referral, ServiceKind.emergency_green_channel})


class VisitPeriod(StrEnum):
    week = "week"
    month = "month"

    @property
    def label(self) -> str:
        return {VisitPeriod.week: "每周", VisitPeriod.month: "每月"}[self]


class FeePayer(StrEnum):
    free = "free"
    elderly_care_party = "elderly_care_party"
    medical_party = "medical_party"
    resident = "resident"
    medical_insurance = "medical_insurance"
    shared = "shared"

    @property
    def label(self) -> str:
        return FEE_PAYER_LABELS[self]


FEE_PAYER_LABELS = {
    FeePayer.free: "免费（公益性服务）",
    FeePayer.elderly_care_party: "养老机构支付",
    FeePayer.medical_party: "医疗机构承担",
    FeePayer.resident: "入住老年人自付",
    FeePayer.medical_insurance: "按规定由医保支付",
    FeePayer.shared: "双方按约定分担",
}


class AgreementState(StrEnum):
    draft = "draft"
    submitted = "submitted"
    countersigned = "countersigned"
    active = "active"
    expired = "expired"
    terminated = "terminated"

    @property
    def label(self) -> str:
        return AGREEMENT_STATE_LABELS[self]


AGREEMENT_STATE_LABELS = {
    AgreementState.draft: "草稿",
    AgreementState.submitted: "已提交，待对方会签",
    AgreementState.countersigned: "已会签，待生效",
    AgreementState.active: "生效中",
    AgreementState.expired: "已到期",
    AgreementState.terminated: "已终止",
}
#: an agreement being negotiated or signed but not yet in force: at most one per pair (unique index)
PENDING_STATES = (AgreementState.draft, AgreementState.submitted, AgreementState.countersigned)
#: signed states: the agreement is or was binding
SIGNED_STATES = (
    AgreementState.countersigned,
    AgreementState.active,
    AgreementState.expired,
    AgreementState.terminated,
)


def _in(states: tuple[AgreementState, ...]) -> str:
    return "state IN (" + ", ".join(f"'{s.value}'" for s in states) + ")"


#: signed (stored countersigned, active or expired) and not yet filed with the county: 待备案
AWAITING_FILING = (
    _in((AgreementState.countersigned, AgreementState.active, AgreementState.expired))
    + " AND filed_at IS NULL"
)


class Agreement(EntityMixin, ChangeTracked, Base):
    __tablename__ = "agreement"
    __change_entity__ = "agreement"
    __change_exclude__ = frozenset({"medical_contact_phone_enc", "elderly_contact_phone_enc", "source_hash"})
    __table_args__ = (
        UniqueConstraint("source_system", "external_id"),
        # At most one agreement being negotiated, and one in force, per pair: concurrent creates
        # cannot both win. A renewal may be negotiated while its predecessor is still in force.
        Index(
            "ux_agreement_pending_pair",
            "medical_institution_id",
            "elderly_institution_id",
            unique=True,
            sqlite_where=text(_in(PENDING_STATES)),
            postgresql_where=text(_in(PENDING_STATES)),
        ),
        Index(
            "ux_agreement_active_pair",
            "medical_institution_id",
            "elderly_institution_id",
            unique=True,
            sqlite_where=text(_in((AgreementState.active,))),
            postgresql_where=text(_in((AgreementState.active,))),
        ),
        Index("ix_agreement_region_code_id", "region_code", "id"),
        # officials of the medical party's county read the agreement too (scope and ?region_code=)
        Index("ix_agreement_medical_region_code_id", "medical_region_code", "id"),
        Index("ix_agreement_state_end_date", "state", "end_date"),
        Index("ix_agreement_state_start_date", "state", "start_date"),
        # the county's 待备案 list (?awaiting_filing=true): signed, not yet filed, by county, keyset on id
        Index(
            "ix_agreement_awaiting_filing",
            "region_code",
            "id",
            sqlite_where=text(AWAITING_FILING),
            postgresql_where=text(AWAITING_FILING),
        ),
    )

    # parties, with the snapshot kept at signature (names and region codes)
    medical_institution_id: Mapped[uuid.UUID] = mapped_column(index=True)
    medical_name: Mapped[str] = mapped_column(String(200))
    medical_region_code: Mapped[str] = mapped_column(String(6))
    elderly_institution_id: Mapped[uuid.UUID] = mapped_column(index=True)
    elderly_name: Mapped[str] = mapped_column(String(200))
    elderly_region_code: Mapped[str] = mapped_column(String(6))
    elderly_kind: Mapped[str] = mapped_column(String(20))
    #: the elderly-care party's county: where the agreement belongs (its writes are that county's); the
    #: officials of ``medical_region_code`` read it as well
    region_code: Mapped[str] = mapped_column(String(6))

    state: Mapped[AgreementState] = mapped_column(str_enum(AgreementState, 20), default=AgreementState.draft)
    title: Mapped[str] = mapped_column(String(300))

    # content
    services: Mapped[list[str]] = mapped_column(JSON)
    visit_count: Mapped[int] = mapped_column(Integer)
    visit_period: Mapped[VisitPeriod] = mapped_column(str_enum(VisitPeriod, 10))
    visit_staff: Mapped[str | None] = mapped_column(Text)
    green_channel_terms: Mapped[str | None] = mapped_column(Text)
    referral_terms: Mapped[str | None] = mapped_column(Text)
    fee_payer: Mapped[FeePayer] = mapped_column(str_enum(FeePayer, 30))
    fee_amount_yuan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    fee_terms: Mapped[str | None] = mapped_column(Text)
    medical_duties: Mapped[str | None] = mapped_column(Text)
    elderly_duties: Mapped[str | None] = mapped_column(Text)
    change_terms: Mapped[str | None] = mapped_column(Text)
    dispute_terms: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)

    # contacts: the phone numbers are personal data (encrypted)
    medical_contact_name: Mapped[str | None] = mapped_column(String(50))
    medical_contact_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    elderly_contact_name: Mapped[str | None] = mapped_column(String(50))
    elderly_contact_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    # lifecycle
    submitted_by_institution_id: Mapped[uuid.UUID | None] = mapped_column()
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    countersigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    terminated_on: Mapped[date | None] = mapped_column(Date)
    termination_reason: Mapped[str | None] = mapped_column(Text)
    terminated_by_institution_id: Mapped[uuid.UUID | None] = mapped_column()
    renews_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agreement.id"), index=True)

    # 备案 with the county
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    filed_by: Mapped[str | None] = mapped_column(String(120))
    filing_note: Mapped[str | None] = mapped_column(Text)

    # the signed document (bytes in agreement_document)
    document_filename: Mapped[str | None] = mapped_column(String(200))
    document_size_bytes: Mapped[int | None] = mapped_column(Integer)
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    document_uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # records pushed by a city platform (issue 7)
    source_system: Mapped[str | None] = mapped_column(String(60))
    external_id: Mapped[str | None] = mapped_column(String(120))
    source_hash: Mapped[str | None] = mapped_column(String(64))

    def change_scope(self) -> tuple[str | None, uuid.UUID | None, uuid.UUID | None]:
        return (self.region_code, self.medical_institution_id, self.elderly_institution_id)

    def change_other_region(self) -> str | None:
        return self.medical_region_code


class AgreementDocument(Base):
    """The bytes of an agreement's signed PDF (kept in the database, so every replica can serve it)."""

    __tablename__ = "agreement_document"

    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agreement.id", ondelete="CASCADE"), primary_key=True
    )
    content: Mapped[bytes] = mapped_column(LargeBinary)
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(120))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def plain_services(services: list[Any]) -> list[str]:
    return [ServiceKind(s).value for s in services]
