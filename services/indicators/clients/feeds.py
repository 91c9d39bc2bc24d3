"""The change feeds of the registry, contracts and homecare, as the indicators read them.

Pages come from ``GET /api/v1/{service}/changes`` through the gateway with a service token whose
audience is that service. The wire models are our own and tolerant: unknown fields are ignored, so a
source may add fields to a payload without breaking us; each ``*Data`` model names only what the read
model keeps (``facts/models.py`` has a column for each of its fields).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from libs.common.http_client import ServiceClient, ServiceTokenSource, StaticTokenSource


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FeedEntry(_Wire):
    seq: int
    entity_type: str
    entity_id: uuid.UUID
    op: Literal["upsert", "delete"]
    version: int | None = None
    region_code: str | None = None
    changed_at: datetime
    data: dict[str, Any] | None = None


class FeedPage(_Wire):
    items: list[FeedEntry]
    next_cursor: str
    has_more: bool


class FeedClient(ServiceClient):
    """One source's feed; a non-200 answer is ``feed_refused`` (e.g. 403 ``entity_type_forbidden``)."""

    refused_code = "feed_refused"
    bad_payload_code = "feed_bad_payload"

    def __init__(
        self,
        service: str,
        http: Any,
        tokens: ServiceTokenSource | StaticTokenSource,
    ) -> None:
        super().__init__(http, tokens)
        self.service = service
        self.upstream_name = f"{service} 变更订阅"

    async def page(self, *, after: str | None, limit: int, entity_types: tuple[str, ...]) -> FeedPage:
        params: dict[str, str | int] = {"limit": limit, "entity_types": ",".join(entity_types)}
        if after is not None:
            params["after"] = after
        response = await self.request("GET", f"/api/v1/{self.service}/changes", params=params)
        return self.read(response, FeedPage)


# ------------------------------------------------------------------------------- registry payloads
class InstitutionData(_Wire):
    name: str
    kind: str
    category: str
    active: bool = True
    has_medical_unit: bool = False
    hospital_grade: str | None = None
    hospital_type: str | None = None
    ownership: str | None = None
    elderly_care_ownership: str | None = None
    integrated_model: str | None = None
    internet_nursing_provider: bool = False
    home_bed_service: bool = False
    beds_elderly_care: int = 0
    beds_medical: int = 0
    beds_integrated: int = 0
    beds_nursing: int = 0
    beds_hospice: int = 0
    residents: int = 0
    elderly_green_channel: bool = False
    hospice_care: bool = False
    elderly_friendly: bool = False
    elderly_friendly_year: int | None = None
    national_demonstration_year: int | None = None
    provincial_demonstration_year: int | None = None


class YearStatData(_Wire):
    """An institution's figures for one year (occupancy, year-end residents)."""

    institution_id: uuid.UUID
    year: int
    operating_beds: int = 0
    occupied_bed_days: int = 0
    residents: int = 0
    disabled_or_dementia_residents: int = 0


class FilingData(_Wire):
    institution_id: uuid.UUID
    unit_kind: str
    unit_name: str | None = None
    state: str
    filing_no: str | None = None
    accepted_at: datetime | None = None


# ------------------------------------------------------------------------------ contracts payloads
class AgreementData(_Wire):
    title: str | None = None
    state: str
    start_date: date | None = None
    end_date: date | None = None
    activated_at: datetime | None = None
    expired_at: datetime | None = None
    terminated_at: datetime | None = None
    terminated_on: date | None = None
    visit_count: int | None = None
    visit_period: str | None = None
    medical_institution_id: uuid.UUID
    medical_name: str
    medical_region_code: str
    elderly_institution_id: uuid.UUID
    elderly_name: str
    elderly_region_code: str


class VisitData(_Wire):
    agreement_id: uuid.UUID
    medical_institution_id: uuid.UUID
    elderly_institution_id: uuid.UUID
    visit_date: date
    residents_seen: int = 0


class ReferralData(_Wire):
    """A 双向转诊 referral: no resident data (the contracts feed carries none)."""

    agreement_id: uuid.UUID | None = None
    direction: str
    urgency: str | None = None
    from_institution_id: uuid.UUID
    to_institution_id: uuid.UUID
    state: str
    requested_at: datetime
    accepted_at: datetime | None = None
    admitted_at: datetime | None = None
    returned_at: datetime | None = None
    closed_at: datetime | None = None


# ------------------------------------------------------------------------------- homecare payloads
class HomeBedData(_Wire):
    institution_id: uuid.UUID
    provider_name: str | None = None
    status: str
    opened_date: date | None = None
    closed_date: date | None = None


class OrderData(_Wire):
    institution_id: uuid.UUID
    status: str
    created_at: datetime
    window_start: datetime | None = None
    nurse_practitioner_id: uuid.UUID | None = None
    home_bed_id: uuid.UUID | None = None


class RatingData(_Wire):
    order_id: uuid.UUID
    score: int
    rated_by: str | None = None
    rated_at: datetime


# ------------------------------------------------------------------------------ residents payloads
class SigningData(_Wire):
    """A 家庭医生签约 (residents ``SigningFeedPayload``): no personal data, the person by id only."""

    person_id: uuid.UUID
    team_id: uuid.UUID
    institution_id: uuid.UUID
    status: str
    origin: str
    previous_signing_id: uuid.UUID | None = None
    start_date: date
    end_date: date
    ended_date: date | None = None
    termination_reason: str | None = None
    elderly_at_start: bool


class CheckupData(_Wire):
    """A year's 65+ health check-up record (residents ``CheckupFeedPayload``)."""

    person_id: uuid.UUID
    institution_id: uuid.UUID
    year: int
    first_date: date
    last_date: date
    standard: bool
    standard_date: date | None = None


class AssessmentData(_Wire):
    """An ability assessment (residents ``AssessmentFeedPayload``): the level the service computed."""

    person_id: uuid.UUID
    institution_id: uuid.UUID
    assessed_date: date
    scale_version: str
    level: int
