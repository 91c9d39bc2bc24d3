"""Service recipients (elders).

The elder's identity (name, ID number, phone, address, birth date, sex) is held by the residents' person
index (issue 19): a recipient names its ``person_id`` and keeps only its own care data — conditions,
consent, the service coordinates and the emergency contact (another person's data that only homecare
uses, kept here encrypted). The identity columns below are empty for a linked recipient; one registered
before recipients named their person (or by the city bulk sync) and not linked yet still holds its copy,
encrypted, the ID number also as a blind index, until ``recipients/person_link.py`` links it and clears it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar

from sqlalchemy import JSON, Boolean, Date, Float, Integer, LargeBinary, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import ChangeTracked, EntityMixin, str_enum
from services.homecare.base import Base

PERSONAL_COLUMNS = frozenset(
    {
        "name_enc",
        "id_number_enc",
        "id_number_hash",
        "phone_enc",
        "address_enc",
        "emergency_contact_name_enc",
        "emergency_contact_phone_enc",
        "latitude",
        "longitude",
        "birth_date",
    }
)

# the identity's columns: held by the residents' person index, empty once a recipient is linked
IDENTITY_COLUMNS = frozenset(
    {"name_enc", "id_number_enc", "id_number_hash", "phone_enc", "address_enc", "birth_date", "sex"}
)


# 失能等级 per GB/T 42195-2022
DISABILITY_LABELS = {0: "能力完好", 1: "轻度失能", 2: "中度失能", 3: "重度失能", 4: "完全失能"}


class ConsentMethod(StrEnum):
    written = "written"
    electronic = "electronic"
    verbal_recorded = "verbal_recorded"


CONSENT_METHOD_LABELS = {
    ConsentMethod.written: "书面签字",
    ConsentMethod.electronic: "电子签名",
    ConsentMethod.verbal_recorded: "口头同意（录音）",
}


class ConsentSigner(StrEnum):
    self_ = "self"
    guardian = "guardian"
    family = "family"


CONSENT_SIGNER_LABELS = {
    ConsentSigner.self_: "本人",
    ConsentSigner.guardian: "监护人",
    ConsentSigner.family: "家属",
}


class Recipient(EntityMixin, ChangeTracked, Base):
    __tablename__ = "recipient"
    __change_entity__ = "recipient"
    __change_exclude__: ClassVar[frozenset[str]] = PERSONAL_COLUMNS | {"elder_code_hash"}
    __table_args__ = (UniqueConstraint("source_system", "external_id"),)

    # the provider institution serving this person (sees personal data whole); empty until one does
    institution_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True)
    # the person of the residents' person index (issue 19); empty only for a record not linked yet
    person_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)

    # the identity's copy of a record not linked yet (empty once linked: the residents hold it)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    birth_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(6))
    # the city bulk sync's keyed fingerprint (HMAC) of the identity it last sent:
    # "same record, changed?" without decrypting anything (sync/service.py)
    identity_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # where the service is given (homecare's own: the nurse's check-in is measured against it)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    disability_level: Mapped[int] = mapped_column(Integer, default=0)
    dementia: Mapped[bool] = mapped_column(Boolean, default=False)
    chronic_diseases: Mapped[list[str]] = mapped_column(JSON, default=list)

    emergency_contact_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    emergency_contact_relation: Mapped[str | None] = mapped_column(String(20))
    emergency_contact_phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)

    consent_given_at: Mapped[datetime]
    consent_method: Mapped[ConsentMethod] = mapped_column(str_enum(ConsentMethod, 20))
    consent_signed_by: Mapped[ConsentSigner] = mapped_column(str_enum(ConsentSigner, 20))
    consent_document_sha256: Mapped[str | None] = mapped_column(String(64))

    source_system: Mapped[str | None] = mapped_column(String(60))
    external_id: Mapped[str | None] = mapped_column(String(100))
    created_by_sub: Mapped[str] = mapped_column(String(120))

    # the code the elder holds for the identity check at check-in (issue 18): a keyed hash only, the code
    # is shown once when issued (recipients/elder_code.py)
    elder_code_hash: Mapped[str | None] = mapped_column(String(64))
    elder_code_issued_at: Mapped[datetime | None]
