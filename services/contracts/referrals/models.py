"""双向转诊 referrals between the parties of an agreement, through the green channel."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin, UTCDateTime, str_enum
from services.contracts.base import Base


class ReferralState(StrEnum):
    requested = "requested"
    accepted = "accepted"
    admitted = "admitted"
    returned = "returned"
    declined = "declined"
    cancelled = "cancelled"

    @property
    def label(self) -> str:
        return {
            ReferralState.requested: "已申请",
            ReferralState.accepted: "已接收",
            ReferralState.admitted: "已入院/入住",
            ReferralState.returned: "已转回",
            ReferralState.declined: "已拒绝",
            ReferralState.cancelled: "已取消",
        }[self]


OPEN_STATES = (ReferralState.requested, ReferralState.accepted, ReferralState.admitted)


class ReferralDirection(StrEnum):
    up = "up"
    down = "down"

    @property
    def label(self) -> str:
        return {
            ReferralDirection.up: "上转（养老机构→医疗机构）",
            ReferralDirection.down: "下转（医疗机构→养老机构）",
        }[self]


class Urgency(StrEnum):
    routine = "routine"
    emergency = "emergency"

    @property
    def label(self) -> str:
        return {Urgency.routine: "普通", Urgency.emergency: "急诊（绿色通道）"}[self]


_OPEN = "state IN (" + ", ".join(f"'{s.value}'" for s in OPEN_STATES) + ")"


class Referral(EntityMixin, ChangeTracked, Base):
    __tablename__ = "referral"
    __change_entity__ = "referral"
    __change_exclude__ = frozenset(
        {"resident_name_enc", "resident_id_number_enc", "resident_id_hash", "resident_phone_enc"}
    )
    __table_args__ = (
        # One open referral per resident, also under concurrent requests.
        Index(
            "ux_referral_open_resident",
            "resident_id_hash",
            unique=True,
            sqlite_where=text(_OPEN),
            postgresql_where=text(_OPEN),
        ),
        # ... and per person of the residents' index (a referral linked holds no blind index, issue 19)
        Index(
            "ux_referral_open_person",
            "person_id",
            unique=True,
            sqlite_where=text(_OPEN),
            postgresql_where=text(_OPEN),
        ),
        Index("ix_referral_region_code_requested_at", "region_code", "requested_at"),
        Index("ix_referral_resident_id_hash", "resident_id_hash"),
        # a referral imported in bulk (historical import, issue 14) is keyed by its city platform's id
        Index("ux_referral_source_key", "source_system", "external_id", unique=True),
    )

    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agreement.id"), index=True)
    direction: Mapped[ReferralDirection] = mapped_column(str_enum(ReferralDirection, 10))
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency, 20))
    from_institution_id: Mapped[uuid.UUID] = mapped_column(index=True)
    to_institution_id: Mapped[uuid.UUID] = mapped_column(index=True)
    medical_institution_id: Mapped[uuid.UUID] = mapped_column()
    elderly_institution_id: Mapped[uuid.UUID] = mapped_column()
    region_code: Mapped[str] = mapped_column(String(6))
    # the resident's person in the residents' person index (issue 19, referrals/person_link.py)
    person_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    state: Mapped[ReferralState] = mapped_column(str_enum(ReferralState, 20), index=True)
    reason: Mapped[str] = mapped_column(Text)

    # the resident's copy (encrypted; the ID number's blind index finds open referrals) only while the
    # referral is not linked to its person (issue 19: the residents hold the identity; contracts_0008)
    resident_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    resident_id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    resident_id_hash: Mapped[str | None] = mapped_column(String(64))
    resident_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    requested_by: Mapped[str] = mapped_column(String(120))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    admitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str | None] = mapped_column(Text)

    # records imported in bulk (POST /referrals/bulk): their key and the hash that makes a replay unchanged
    source_system: Mapped[str | None] = mapped_column(String(60))
    external_id: Mapped[str | None] = mapped_column(String(120))
    source_hash: Mapped[str | None] = mapped_column(String(64))
    # the keyed fingerprint of the resident the city platform sent last (PersonalDataCipher
    # .identity_fingerprint): a replay tells a changed resident without a copy (issue 19)
    resident_fingerprint: Mapped[str | None] = mapped_column(String(64))

    def change_scope(self) -> tuple[str | None, uuid.UUID | None, uuid.UUID | None]:
        return (self.region_code, self.medical_institution_id, self.elderly_institution_id)
