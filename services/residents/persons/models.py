"""The person index: one row per elder (one per 居民身份证号), and the institutions that serve each.

Personal data is stored encrypted (:mod:`libs.common.personal_data`); the ID number also as a keyed
blind index (``id_number_hash``), unique — the database, not the code, guarantees one person per ID
number, so two concurrent find-or-creates meet at the constraint and the loser reads the winner's row.
Birth date and sex are derived from the ID number and kept in the clear for the age rules (65+) and the
reports; they are personal data all the same (never in the feed, masked in responses).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import Boolean, Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin, str_enum, utcnow
from services.residents.base import Base

PERSONAL_COLUMNS = frozenset(
    {"name_enc", "id_number_enc", "id_number_hash", "phone_enc", "address_enc", "birth_date"}
)


class Sex(StrEnum):
    male = "male"
    female = "female"


SEX_LABELS = {Sex.male: "男", Sex.female: "女"}


class Person(EntityMixin, ChangeTracked, Base):
    __tablename__ = "person"
    __change_entity__ = "person"
    __change_exclude__: ClassVar[frozenset[str]] = PERSONAL_COLUMNS
    __table_args__ = (
        UniqueConstraint("id_number_hash"),
        UniqueConstraint("source_system", "external_id"),
        Index("ix_person_region_code_id", "region_code", "id"),
        Index("ix_person_township_code_id", "township_code", "id"),
    )

    # the county (县级) of residence: decides which officials and city platform see the person
    region_code: Mapped[str] = mapped_column(String(6))
    # the township (乡镇/街道, GB/T 10114 nine digits, within the county), when known
    township_code: Mapped[str | None] = mapped_column(String(9))
    # the institution that registered the person (the feed's owning institution); it serves the person
    institution_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True)

    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_hash: Mapped[str] = mapped_column(String(64))
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[Sex] = mapped_column(str_enum(Sex, 6))

    # a city platform's own key of the record (bulk sync), when it came that way
    source_system: Mapped[str | None] = mapped_column(String(60))
    external_id: Mapped[str | None] = mapped_column(String(100))
    created_by_sub: Mapped[str] = mapped_column(String(120))


class ServingReason(StrEnum):
    registered = "registered"
    signed = "signed"
    checkup = "checkup"
    assessment = "assessment"
    care_service = "care_service"


SERVING_REASON_LABELS = {
    ServingReason.registered: "登记",
    ServingReason.signed: "家庭医生签约",
    ServingReason.checkup: "健康体检",
    ServingReason.assessment: "能力评估",
    ServingReason.care_service: "医养结合服务",
}


class PersonInstitution(Base):
    """An institution serving a person (registered, signed, examined or assessed them): its users see the
    person and — audited — the whole personal data. Written by :func:`services.residents.persons.service.
    link_institution`, which the signing, check-up and assessment writers call; never removed (a past
    serving institution keeps seeing the records it made)."""

    __tablename__ = "person_institution"
    __table_args__ = (
        UniqueConstraint("person_id", "institution_id"),
        Index("ix_person_institution_institution_id_person_id", "institution_id", "person_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    reason: Mapped[ServingReason] = mapped_column(str_enum(ServingReason, 20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdentityCheck(Base):
    """One identity check of a person asked by another service (issue 18, persons/identity.py): when, by
    whom, the answer — never the value sent. Today's rows bound the attempts per person."""

    __tablename__ = "identity_check"
    __table_args__ = (Index("ix_identity_check_person_id_check_date", "person_id", "check_date"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    # the day in Asia/Shanghai (the per-day bound)
    check_date: Mapped[date] = mapped_column(Date)
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)
    caller_sub: Mapped[str] = mapped_column(String(120))
    matches: Mapped[bool] = mapped_column(Boolean)
