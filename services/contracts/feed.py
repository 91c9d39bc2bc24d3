"""The contracts service's change feed: one :class:`~libs.common.changes.FeedEntity` per tracked table
(the reasons a column is left out: :mod:`libs.common.feed_reasons`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from libs.common.changes import FeedEntity, feed_payload
from libs.common.feed_reasons import BLIND_INDEX, FREE_TEXT, HEALTH, NOT_LISTED, PERSONAL
from services.contracts.agreements.models import Agreement
from services.contracts.agreements.schemas import AgreementRead
from services.contracts.agreements.service import TERM_FIELDS
from services.contracts.referrals.models import Referral
from services.contracts.referrals.schemas import ReferralRead
from services.contracts.visits.models import Visit
from services.contracts.visits.schemas import VisitRead

_AGREEMENT_FIELDS = [
    "id",
    "title",
    "elderly_kind",
    "region_code",
    "state",
    *TERM_FIELDS,
    "submitted_by_institution_id",
    "submitted_at",
    "countersigned_at",
    "activated_at",
    "expired_at",
    "terminated_at",
    "terminated_on",
    "termination_reason",
    "renews_id",
    "filed_at",
    "filed_by",
    "filing_note",
    "source_system",
    "external_id",
    "version",
    "created_at",
    "updated_at",
]
_PARTIES = {
    "medical_institution_id": (uuid.UUID, "medical_party.institution_id"),
    "medical_name": (str, "medical_party.name"),
    "medical_region_code": (str, "medical_party.region_code"),
    "elderly_institution_id": (uuid.UUID, "elderly_party.institution_id"),
    "elderly_name": (str, "elderly_party.name"),
    "elderly_region_code": (str, "elderly_party.region_code"),
}
_DOCUMENT = {
    "document_filename": (str | None, "document.filename"),
    "document_size_bytes": (int | None, "document.size_bytes"),
    "document_sha256": (str | None, "document.sha256"),
    "document_uploaded_at": (datetime | None, "document.uploaded_at"),
}
_AGREEMENT_EXTRA = {**_PARTIES, **_DOCUMENT}
AgreementFeedPayload = feed_payload(
    "AgreementFeedPayload",
    AgreementRead,
    _AGREEMENT_FIELDS,
    extra={
        name: (annotation, Field(description=f"列表中为 {where}"))
        for name, (annotation, where) in _AGREEMENT_EXTRA.items()
    },
)
AGREEMENT = FeedEntity(
    model=Agreement,
    payload=AgreementFeedPayload,
    permission="agreements:read",
    shown_by=AgreementRead,
    shown_as={name: where for name, (_annotation, where) in _AGREEMENT_EXTRA.items()},
    excluded={
        "medical_contact_name": PERSONAL,
        "medical_contact_phone_enc": PERSONAL,
        "elderly_contact_name": PERSONAL,
        "elderly_contact_phone_enc": PERSONAL,
        "terminated_by_institution_id": NOT_LISTED,
        "source_hash": "批量上报的去重散列，内部用",
    },
)

_VISIT_FIELDS = [
    "id",
    "agreement_id",
    "region_code",
    "medical_institution_id",
    "elderly_institution_id",
    "visit_date",
    "practitioner_ids",
    "residents_seen",
    "services",
    "recorded_by",
    "version",
    "created_at",
]
VisitFeedPayload = feed_payload("VisitFeedPayload", VisitRead, _VISIT_FIELDS)
VISIT = FeedEntity(
    model=Visit,
    payload=VisitFeedPayload,
    permission="visits:read",
    shown_by=VisitRead,
    excluded={
        "medical_region_code": "协议甲方所在县区，用于订阅范围；见协议的 medical_party.region_code",
        "resident_refs": HEALTH,
        "findings": HEALTH,
        "homebound_orders": HEALTH,
        "updated_at": NOT_LISTED,
        "source_system": NOT_LISTED,
        "external_id": NOT_LISTED,
        "source_hash": "批量上报的去重散列，内部用",
    },
)

_REFERRAL_FIELDS = [
    "id",
    "agreement_id",
    "direction",
    "urgency",
    "from_institution_id",
    "to_institution_id",
    "region_code",
    "state",
    "requested_at",
    "accepted_at",
    "admitted_at",
    "returned_at",
    "closed_at",
    "version",
]
ReferralFeedPayload = feed_payload("ReferralFeedPayload", ReferralRead, _REFERRAL_FIELDS)
REFERRAL = FeedEntity(
    model=Referral,
    payload=ReferralFeedPayload,
    permission="referrals:read",
    shown_by=ReferralRead,
    excluded={
        "reason": FREE_TEXT,
        "close_reason": FREE_TEXT,
        "resident_name_enc": PERSONAL,
        "resident_id_number_enc": PERSONAL,
        "resident_id_hash": BLIND_INDEX,
        "resident_phone_enc": PERSONAL,
        "resident_fingerprint": BLIND_INDEX,
        "medical_institution_id": NOT_LISTED,
        "elderly_institution_id": NOT_LISTED,
        "requested_by": NOT_LISTED,
        "created_at": NOT_LISTED,
        "updated_at": NOT_LISTED,
        "source_system": NOT_LISTED,
        "external_id": NOT_LISTED,
        "source_hash": "批量上报的去重散列，内部用",
        "person_id": "居民主索引的关联（issue 19）：订阅 v1 不提供",
    },
)

FEED = [AGREEMENT, VISIT, REFERRAL]
