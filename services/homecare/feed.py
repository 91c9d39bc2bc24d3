"""The homecare service's change feed: one :class:`~libs.common.changes.FeedEntity` per tracked table.

Personal data (names, ID numbers, phones, addresses, locations) is never carried, not even masked: a reader
entitled to it reads the list, where it is masked per viewer and each disclosure is audited. Clinical free
text (diagnoses, findings, care plans) is not carried either (the reasons: :mod:`libs.common.feed_reasons`).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from pydantic import Field

from libs.common.changes import FeedEntity, feed_payload
from libs.common.feed_reasons import BLIND_INDEX, FREE_TEXT, HEALTH, LOCATION, NOT_LISTED, PERSONAL
from services.homecare.home_beds.models import HomeBed, HomeBedRound
from services.homecare.home_beds.schemas import HomeBedRead, HomeBedRoundRead
from services.homecare.orders.complaints.models import Complaint
from services.homecare.orders.complaints.schemas import ComplaintRead
from services.homecare.orders.models import Order, OrderItem, Rating
from services.homecare.orders.schemas import OrderItemRead, OrderSummary, RatingRead
from services.homecare.orders.sos.models import SosAlert
from services.homecare.orders.sos.schemas import SosRead
from services.homecare.orders.visits.models import VisitRecord
from services.homecare.orders.visits.schemas import VisitRecordRead
from services.homecare.providers.models import Provider, ProviderItem
from services.homecare.providers.schemas import ProviderItemRead, ProviderRead
from services.homecare.recipients.models import Recipient
from services.homecare.recipients.schemas import RecipientRead

SCOPE = "归属范围：条目本身带 region_code，按机构过滤在服务端完成"
ENTRY_ID = "即条目的 entity_id"


def _parent(where: str) -> tuple[type[uuid.UUID], object]:
    return (uuid.UUID, Field(description=f"所属上级记录（{where}）"))


ProviderFeedPayload = feed_payload(
    "ProviderFeedPayload",
    ProviderRead,
    [
        "institution_id",
        "institution_name",
        "region_code",
        "visit_fee_yuan",
        "home_bed_service",
        "version",
        "updated_at",
    ],
)
PROVIDER = FeedEntity(
    model=Provider,
    payload=ProviderFeedPayload,
    permission="providers:read",
    shown_by=ProviderRead,
    excluded={"id": ENTRY_ID, "created_at": NOT_LISTED},
)

_PROVIDER_ITEM_WHERE = "GET /providers/{institution_id} 的 items"
ProviderItemFeedPayload = feed_payload(
    "ProviderItemFeedPayload",
    ProviderItemRead,
    ["item_code", "price_yuan", "enabled", "version"],
    extra={"institution_id": _parent(_PROVIDER_ITEM_WHERE)},
)
PROVIDER_ITEM = FeedEntity(
    model=ProviderItem,
    payload=ProviderItemFeedPayload,
    permission="providers:read",
    shown_by=ProviderItemRead,
    shown_as={"institution_id": _PROVIDER_ITEM_WHERE},
    excluded={"id": ENTRY_ID, "region_code": SCOPE, "created_at": NOT_LISTED, "updated_at": NOT_LISTED},
)

OrderFeedPayload = feed_payload(
    "OrderFeedPayload",
    OrderSummary,
    [
        "id",
        "institution_id",
        "provider_name",
        "region_code",
        "recipient_id",
        "status",
        "window_start",
        "window_end",
        "nurse_practitioner_id",
        "home_bed_id",
        "flagged",
        "flag_reasons",
        "version",
        "created_at",
    ],
    # the list shows an estimate before completion; the stored total exists only once the order is done
    extra={"total_yuan": (Decimal | None, Field(description="完成后的总费用（元）；完成前为空"))},
)
ORDER = FeedEntity(
    model=Order,
    payload=OrderFeedPayload,
    permission="orders:read",
    shown_by=OrderSummary,
    excluded={
        "address_enc": PERSONAL,
        "latitude": LOCATION,
        "longitude": LOCATION,
        "note": FREE_TEXT,
        "assessment_note": FREE_TEXT,
        "decision_reason": FREE_TEXT,
        "end_reason": FREE_TEXT,
        "flag_review_note": FREE_TEXT,
        **{
            name: NOT_LISTED
            for name in (
                "catalog_version_id",
                "catalog_version_code",
                "placed_by_sub",
                "placed_by_role",
                "source_system",
                "external_id",
                "requires_doctor",
                "service_group",
                "assessed_by_practitioner_id",
                "assessed_at",
                "assigned_at",
                "en_route_at",
                "checked_in_at",
                "in_service_at",
                "checked_out_at",
                "completed_at",
                "rated_at",
                "ended_at",
                "response_minutes",
                "flag_reviewed_at",
                "visit_fee_yuan",
                "items_total_yuan",
                "consumables_total_yuan",
                "fees_fixed_at",
                "updated_at",
            )
        },
    },
)

_ORDER_WHERE = "GET /orders/{order_id}"
OrderItemFeedPayload = feed_payload(
    "OrderItemFeedPayload",
    OrderItemRead,
    ["item_code", "item_name", "risk", "needs_medical_order", "needs_specialist_training", "price_yuan"],
    extra={"order_id": _parent(_ORDER_WHERE + " 的 items")},
)
ORDER_ITEM = FeedEntity(
    model=OrderItem,
    payload=OrderItemFeedPayload,
    permission="orders:read",
    shown_by=OrderItemRead,
    shown_as={"order_id": _ORDER_WHERE + " 的 items"},
    excluded={
        "id": ENTRY_ID,
        "institution_id": SCOPE,
        "region_code": SCOPE,
        "required_title": NOT_LISTED,
        "version": NOT_LISTED,
        "created_at": NOT_LISTED,
        "updated_at": NOT_LISTED,
    },
)

RatingFeedPayload = feed_payload(
    "RatingFeedPayload",
    RatingRead,
    ["score", "rated_by", "rated_at"],
    extra={"order_id": _parent(_ORDER_WHERE + " 的 rating")},
)
RATING = FeedEntity(
    model=Rating,
    payload=RatingFeedPayload,
    permission="orders:read",
    shown_by=RatingRead,
    shown_as={"order_id": _ORDER_WHERE + " 的 rating"},
    excluded={
        "comment": FREE_TEXT,
        "rater_sub": NOT_LISTED,
        "id": ENTRY_ID,
        "institution_id": SCOPE,
        "region_code": SCOPE,
        "version": NOT_LISTED,
        "created_at": NOT_LISTED,
        "updated_at": NOT_LISTED,
    },
)

SosAlertFeedPayload = feed_payload(
    "SosAlertFeedPayload",
    SosRead,
    [
        "id",
        "order_id",
        "institution_id",
        "region_code",
        "practitioner_id",
        "client_at",
        "raised_at",
        "resolved_at",
        "version",
    ],
)
SOS_ALERT = FeedEntity(
    model=SosAlert,
    payload=SosAlertFeedPayload,
    permission="sos:read",
    shown_by=SosRead,
    excluded={
        "latitude": LOCATION,
        "longitude": LOCATION,
        "message": FREE_TEXT,
        "resolution": FREE_TEXT,
        "client_event_id": NOT_LISTED,
        "resolved_by_sub": NOT_LISTED,
        "created_at": NOT_LISTED,
        "updated_at": NOT_LISTED,
    },
)

ComplaintFeedPayload = feed_payload(
    "ComplaintFeedPayload",
    ComplaintRead,
    [
        "id",
        "order_id",
        "institution_id",
        "region_code",
        "status",
        "filed_by_role",
        "resolved_at",
        "version",
        "created_at",
    ],
)
COMPLAINT = FeedEntity(
    model=Complaint,
    payload=ComplaintFeedPayload,
    permission="complaints:read",
    shown_by=ComplaintRead,
    excluded={
        "content": FREE_TEXT,
        "resolution": FREE_TEXT,
        "filed_by_sub": NOT_LISTED,
        "updated_at": NOT_LISTED,
    },
)

HomeBedFeedPayload = feed_payload(
    "HomeBedFeedPayload",
    HomeBedRead,
    [
        "id",
        "record_no",
        "institution_id",
        "provider_name",
        "region_code",
        "recipient_id",
        "status",
        "condition_stable",
        "mobility",
        "conditions",
        "has_family_doctor_contract",
        "assessed_at",
        "assessed_by_practitioner_id",
        "opened_date",
        "opened_by_practitioner_id",
        "round_interval_days",
        "period_end_date",
        "last_round_date",
        "reassessment_count",
        "closed_date",
        "close_reason",
        "version",
        "created_at",
        "updated_at",
    ],
)
HOME_BED = FeedEntity(
    model=HomeBed,
    payload=HomeBedFeedPayload,
    permission="home_beds:read",
    shown_by=HomeBedRead,
    excluded={
        "diagnosis": HEALTH,
        "assessment": HEALTH,
        "care_plan": HEALTH,
        "application_note": FREE_TEXT,
        "close_summary": FREE_TEXT,
        "applied_by_sub": NOT_LISTED,
        "opened_at": NOT_LISTED,
        "consent_at": NOT_LISTED,
        "closed_at": NOT_LISTED,
    },
)

_ROUNDS_WHERE = "GET /home-beds/{home_bed_id}/rounds"
HomeBedRoundFeedPayload = feed_payload(
    "HomeBedRoundFeedPayload",
    HomeBedRoundRead,
    ["id", "round_date", "practitioner_id", "created_at"],
    extra={"home_bed_id": _parent(_ROUNDS_WHERE)},
)
HOME_BED_ROUND = FeedEntity(
    model=HomeBedRound,
    payload=HomeBedRoundFeedPayload,
    permission="home_beds:read",
    shown_by=HomeBedRoundRead,
    shown_as={"home_bed_id": _ROUNDS_WHERE},
    excluded={
        "findings": HEALTH,
        "orders_text": HEALTH,
        "photo_sha256": HEALTH,
        "client_record_id": NOT_LISTED,
        "institution_id": SCOPE,
        "region_code": SCOPE,
        "version": NOT_LISTED,
        "updated_at": NOT_LISTED,
    },
)

RecipientFeedPayload = feed_payload(
    "RecipientFeedPayload",
    RecipientRead,
    [
        "id",
        "institution_id",
        "region_code",
        "sex",
        "disability_level",
        "dementia",
        "chronic_diseases",
        "source_system",
        "external_id",
        "version",
        "created_at",
        "updated_at",
    ],
)
RECIPIENT = FeedEntity(
    model=Recipient,
    payload=RecipientFeedPayload,
    permission="recipients:read",
    shown_by=RecipientRead,
    excluded={
        "name_enc": PERSONAL,
        "id_number_enc": PERSONAL,
        "id_number_hash": BLIND_INDEX,
        "identity_fingerprint": BLIND_INDEX,
        "phone_enc": PERSONAL,
        "address_enc": PERSONAL,
        "latitude": LOCATION,
        "longitude": LOCATION,
        "birth_date": PERSONAL,
        "emergency_contact_name_enc": PERSONAL,
        "emergency_contact_relation": PERSONAL,
        "emergency_contact_phone_enc": PERSONAL,
        "consent_given_at": "列表中为 consent；订阅 v1 不提供",
        "consent_method": "列表中为 consent；订阅 v1 不提供",
        "consent_signed_by": "列表中为 consent；订阅 v1 不提供",
        "consent_document_sha256": "列表中为 consent；订阅 v1 不提供",
        "created_by_sub": NOT_LISTED,
        "person_id": "居民主索引的关联（issue 19）：订阅 v1 不提供",
        "elder_code_hash": "老人核验码的散列（凭据，issue 18）",
        "elder_code_issued_at": "老人核验码的签发时间（issue 18）：订阅 v1 不提供",
    },
)

VisitRecordFeedPayload = feed_payload(
    "VisitRecordFeedPayload",
    VisitRecordRead,
    [
        "id",
        "order_id",
        "record_id",
        "practitioner_id",
        "client_created_at",
        "client_updated_at",
        "items_done",
        "consumables_total_yuan",
        "version",
        "created_at",
        "updated_at",
    ],
)
VISIT_RECORD = FeedEntity(
    model=VisitRecord,
    payload=VisitRecordFeedPayload,
    permission="orders:read",
    shown_by=VisitRecordRead,
    excluded={
        "institution_id": SCOPE,
        "region_code": SCOPE,
        "bp_systolic": HEALTH,
        "bp_diastolic": HEALTH,
        "pulse": HEALTH,
        "respiration_rate": HEALTH,
        "template_fields": HEALTH,
        "template_version": "记录模板版本（issue 18）：订阅 v1 不提供",
        "temperature_c": HEALTH,
        "spo2": HEALTH,
        "blood_glucose_mmol": HEALTH,
        "consumables": NOT_LISTED,
        "notes": FREE_TEXT,
        "signature_sha256": NOT_LISTED,
        "photo_sha256": NOT_LISTED,
    },
)

FEED = [
    PROVIDER,
    PROVIDER_ITEM,
    RECIPIENT,
    ORDER,
    ORDER_ITEM,
    RATING,
    VISIT_RECORD,
    SOS_ALERT,
    COMPLAINT,
    HOME_BED,
    HOME_BED_ROUND,
]
