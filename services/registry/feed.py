"""The registry's change feed: one :class:`~libs.common.changes.FeedEntity` per tracked table (the reasons
a column is left out: :mod:`libs.common.feed_reasons`)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from libs.common.changes import FeedEntity, feed_payload
from libs.common.feed_reasons import BLIND_INDEX, NOT_LISTED, PERSONAL
from services.registry.demonstration.models import DemonstrationApplication, DemonstrationBatch
from services.registry.demonstration.schemas import STAGES, ApplicationListItem, BatchRead
from services.registry.filings.models import Filing
from services.registry.filings.schemas import FilingRead
from services.registry.institutions.models import Institution, InstitutionYearStat
from services.registry.institutions.schemas import RENAMED, InstitutionRead, YearStatRead
from services.registry.practitioners.models import Practitioner
from services.registry.practitioners.schemas import PractitionerRead

_INSTITUTION_FIELDS = [
    "id",
    "name",
    "kind",
    "category",
    "region_code",
    "active",
    "has_medical_unit",
    "internet_nursing_provider",
    "home_bed_service",
    "latitude",
    "longitude",
    "lat",
    "lng",
    "hospital_grade",
    "hospital_type",
    "elderly_care_ownership",
    "integrated_model",
    "ownership",
    "uscc",
    "ws218_kind_code",
    "licence_type",
    "licence_no",
    "address",
    "operating_since",
    "medical_operating_since",
    "elderly_care_operating_since",
    "legal_person",
    "contact_name",
    "beds_elderly_care",
    "beds_medical",
    "beds_integrated",
    "beds_rehabilitation",
    "beds_nursing",
    "beds_hospice",
    "residents",
    "disabled_level_1",
    "disabled_level_2",
    "disabled_level_3",
    "disabled_level_4",
    "dementia_residents",
    "medical_insurance_designated",
    "elderly_green_channel",
    "hospice_care",
    "elderly_friendly",
    "elderly_friendly_year",
    "tcm_hall",
    "national_demonstration_year",
    "provincial_demonstration_year",
    "source_system",
    "external_id",
    "version",
    "created_at",
    "updated_at",
]
InstitutionFeedPayload = feed_payload("InstitutionFeedPayload", InstitutionRead, _INSTITUTION_FIELDS)
INSTITUTION = FeedEntity(
    model=Institution,
    payload=InstitutionFeedPayload,
    permission="institutions:read",
    shown_by=InstitutionRead,
    excluded={"contact_phone_enc": PERSONAL},
    renamed=RENAMED,
)

# a year's occupancy and year-end residents: the indicators' 入住 100 人以上 rule asks them for year Y
# (indicators.md: every date question on the period's reference date), not today's ``residents``
_YEAR_STAT_FIELDS = [
    "institution_id",
    "year",
    "operating_beds",
    "occupied_bed_days",
    "residents",
    "disabled_residents",
    "dementia_residents",
    "disabled_or_dementia_residents",
    "version",
    "updated_at",
]
YearStatFeedPayload = feed_payload("InstitutionYearStatFeedPayload", YearStatRead, _YEAR_STAT_FIELDS)
YEAR_STAT = FeedEntity(
    model=InstitutionYearStat,
    payload=YearStatFeedPayload,
    permission="year_stats:read",
    shown_by=YearStatRead,
    excluded={
        "id": "即条目的 entity_id",
        "region_code": "所属机构的县区，只用于订阅范围（条目的 region_code）",
        "created_at": NOT_LISTED,
    },
)

_FILING_FIELDS = [
    "id",
    "institution_id",
    "region_code",
    "unit_kind",
    "unit_name",
    "ws218_kind_code",
    "person_in_charge",
    "doctors",
    "nurses",
    "service_scope",
    "documents",
    "state",
    "filing_no",
    "revision",
    "accepted_at",
    "revoked_at",
    "state_reason",
    "version",
    "created_at",
    "updated_at",
]
FilingFeedPayload = feed_payload("FilingFeedPayload", FilingRead, _FILING_FIELDS)
#: the key a history import gave a record is the sender's business, not a field of the list
_IMPORT_KEY = {"source_system": NOT_LISTED, "external_id": NOT_LISTED}
FILING = FeedEntity(
    model=Filing,
    payload=FilingFeedPayload,
    permission="filings:read",
    shown_by=FilingRead,
    excluded=_IMPORT_KEY,
)

_PRACTITIONER_FIELDS = [
    "id",
    "institution_id",
    "region_code",
    "name",
    "kind",
    "title",
    "practice_certificate_no",
    "clinical_years",
    "trainings",
    "misconduct_recorded",
    "active",
    "version",
    "created_at",
    "updated_at",
]
PractitionerFeedPayload = feed_payload(
    "PractitionerFeedPayload",
    PractitionerRead,
    _PRACTITIONER_FIELDS,
)
PRACTITIONER = FeedEntity(
    model=Practitioner,
    payload=PractitionerFeedPayload,
    permission="practitioners:read",
    shown_by=PractitionerRead,
    excluded={
        "id_number_enc": PERSONAL,
        "id_number_hash": BLIND_INDEX,
        "phone_enc": PERSONAL,
        **_IMPORT_KEY,
    },
)

_STAGE_DATES = [f"{stage}_{end}_date" for stage in STAGES for end in ("start", "end")]
_BATCH_FIELDS = [
    "id",
    "name",
    "county_quota",
    "institution_quota",
    "operating_cutoff_date",
    "operating_years_min",
    "occupancy_min_pct",
    "disabled_share_min_pct",
    "satisfaction_min_pct",
    "version",
    "created_at",
    "updated_at",
]
DemonstrationBatchFeedPayload = feed_payload(
    "DemonstrationBatchFeedPayload",
    BatchRead,
    _BATCH_FIELDS,
    extra={name: (date, Field(description="阶段起止日期（列表中为 stages）")) for name in _STAGE_DATES},
)
DEMONSTRATION_BATCH = FeedEntity(
    model=DemonstrationBatch,
    payload=DemonstrationBatchFeedPayload,
    permission="demonstration:read",
    shown_by=BatchRead,
    shown_as={name: "stages" for name in _STAGE_DATES},
    excluded={"created_by": NOT_LISTED},
)

_APPLICATION_FIELDS = [
    "id",
    "batch_id",
    "kind",
    "state",
    "region_code",
    "city_code",
    "institution_id",
    "applicant_name",
    "submitted_date",
    "county_recommended_date",
    "city_recommended_date",
    "named_date",
    "version",
    "created_at",
    "updated_at",
]
DemonstrationApplicationFeedPayload = feed_payload(
    "DemonstrationApplicationFeedPayload", ApplicationListItem, _APPLICATION_FIELDS
)
DEMONSTRATION_APPLICATION = FeedEntity(
    model=DemonstrationApplication,
    payload=DemonstrationApplicationFeedPayload,
    permission="demonstration:read",
    shown_by=ApplicationListItem,
    excluded={
        name: NOT_LISTED
        for name in (
            "applicant_key",
            "declared_satisfaction_pct",
            "declared_no_major_incident",
            "contact_name",
            "contact_phone",
            "head_name",
            "head_phone",
            "postal_address",
            "postal_code",
            "frozen_figures",
            "county_opinion",
            "city_opinion",
            "province_document_review_passed",
            "province_document_review_opinion",
            "province_site_visit_date",
            "province_site_visit_findings",
            "province_decision_reasons",
            "province_approved_date",
            "sent_to_nation_date",
            "national_result",
            "national_result_date",
            "national_result_note",
            "named_document_no",
            "next_reassessment_due_date",
            "returned_reason",
            "returned_date",
            "returned_level",
            "reopened_until_date",
            "closed_reason",
            "closed_date",
        )
    },
)

FEED = [INSTITUTION, YEAR_STAT, FILING, PRACTITIONER, DEMONSTRATION_BATCH, DEMONSTRATION_APPLICATION]
