"""The read model: the facts behind the indicators, as the source services' feeds carry them.

One table per followed entity type, keyed by the source's entity id. Each row is the latest state the
feed gave (``source_seq``: the feed entry it came from; an entry not newer than it is ignored, so a page
applied twice changes nothing). ``region_code`` is the entry's county-level region (an institution's
county; an agreement's elderly-care party's county; a home bed's or order's county). Columns are the
``*Data`` wire fields of ``clients/feeds.py`` — what the feeds carry today, nothing derived.

No row is written here by anything but the followers (``followers/follower.py``) and the rebuild.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from libs.common.models import UTCDateTime, utcnow
from services.indicators.base import Base


class FactColumns:
    """What every fact row has: the source's id, region, version, and where in the feed it came from."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    version: Mapped[int | None] = mapped_column(Integer)
    source_seq: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class InstitutionFact(FactColumns, Base):
    """An institution of the registry (medical, elderly-care, integrated) with what the indicators count."""

    __tablename__ = "institution"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30), index=True)
    category: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool]
    has_medical_unit: Mapped[bool]
    hospital_grade: Mapped[str | None] = mapped_column(String(20))
    hospital_type: Mapped[str | None] = mapped_column(String(40))
    ownership: Mapped[str | None] = mapped_column(String(20))
    elderly_care_ownership: Mapped[str | None] = mapped_column(String(40))
    integrated_model: Mapped[str | None] = mapped_column(String(40))
    internet_nursing_provider: Mapped[bool]
    home_bed_service: Mapped[bool]
    beds_elderly_care: Mapped[int]
    beds_medical: Mapped[int]
    beds_integrated: Mapped[int]
    beds_nursing: Mapped[int]
    beds_hospice: Mapped[int]
    residents: Mapped[int]
    elderly_green_channel: Mapped[bool]
    hospice_care: Mapped[bool]
    elderly_friendly: Mapped[bool]
    elderly_friendly_year: Mapped[int | None]
    national_demonstration_year: Mapped[int | None]
    provincial_demonstration_year: Mapped[int | None]


class InstitutionYearStatFact(FactColumns, Base):
    """An institution's figures for one calendar year: the year-end residents answer 入住 100 人以上 for
    that year (the reference date), where the institution's ``residents`` is only today's figure."""

    __tablename__ = "institution_year_stat"

    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    operating_beds: Mapped[int]
    occupied_bed_days: Mapped[int] = mapped_column(BigInteger)
    residents: Mapped[int]
    disabled_or_dementia_residents: Mapped[int]


class FilingFact(FactColumns, Base):
    """A 内设医疗机构 备案 (infirmary, nursing station, clinic) of an elderly-care institution."""

    __tablename__ = "filing"

    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    unit_kind: Mapped[str] = mapped_column(String(30))
    unit_name: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))
    filing_no: Mapped[str | None] = mapped_column(String(60))
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AgreementFact(FactColumns, Base):
    """A 医养签约 agreement between a medical and an elderly-care institution, with both parties' regions."""

    __tablename__ = "agreement"

    title: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    terminated_on: Mapped[date | None] = mapped_column(Date)
    visit_count: Mapped[int | None]
    visit_period: Mapped[str | None] = mapped_column(String(20))
    medical_institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    medical_name: Mapped[str] = mapped_column(String(200))
    medical_region_code: Mapped[str] = mapped_column(String(6), index=True)
    elderly_institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    elderly_name: Mapped[str] = mapped_column(String(200))
    elderly_region_code: Mapped[str] = mapped_column(String(6))


class RoundVisitFact(FactColumns, Base):
    """A 巡诊 visit recorded under an agreement."""

    __tablename__ = "round_visit"
    # the 巡诊 figure counts each agreement's visits of a period: one range of this index per agreement
    __table_args__ = (Index("ix_round_visit_agreement_date", "agreement_id", "visit_date"),)

    agreement_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    medical_institution_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    elderly_institution_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    visit_date: Mapped[date] = mapped_column(Date, index=True)
    residents_seen: Mapped[int]


class ReferralFact(FactColumns, Base):
    """A 双向转诊 referral under an agreement (up: elderly-care → medical; down: back); no resident data."""

    __tablename__ = "referral"

    agreement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True)
    direction: Mapped[str] = mapped_column(String(10))
    urgency: Mapped[str | None] = mapped_column(String(20))
    from_institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    to_institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    state: Mapped[str] = mapped_column(String(20))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    admitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class HomeBedFact(FactColumns, Base):
    """A 家庭病床 of a provider institution, with its opening and closing dates."""

    __tablename__ = "home_bed"

    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    provider_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    opened_date: Mapped[date | None] = mapped_column(Date, index=True)
    closed_date: Mapped[date | None] = mapped_column(Date)


class OrderFact(FactColumns, Base):
    """A 互联网+护理服务 order: who provides it, its state, when it was placed and booked."""

    __tablename__ = "care_order"

    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    nurse_practitioner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    # the home bed the order serves: its rating counts towards 建床对象满意率
    home_bed_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), index=True)


class RatingFact(FactColumns, Base):
    """The rating of an order."""

    __tablename__ = "order_rating"

    order_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    score: Mapped[int]
    rated_by: Mapped[str | None] = mapped_column(String(20))
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# ------------------------------------------------------------------------------------ residents
class SigningFact(FactColumns, Base):
    """A 家庭医生签约 (a resident's contract with a team): its term, how it ended, the contract it follows
    (``previous_signing_id``: a renewal's or a transfer's predecessor, ``origin`` says which), and whether
    the resident was 65 or over on its start date. ``region_code`` is the resident's county."""

    __tablename__ = "resident_signing"
    #: the person's latest contract in force (``reports.families.residents.signed_residents``)
    __table_args__ = (Index("ix_resident_signing_person_start", "person_id", "start_date", "id"),)

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    team_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    status: Mapped[str] = mapped_column(String(20))
    origin: Mapped[str] = mapped_column(String(20))
    previous_signing_id: Mapped[uuid.UUID | None] = mapped_column(Uuid())
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date] = mapped_column(Date, index=True)
    ended_date: Mapped[date | None] = mapped_column(Date)
    termination_reason: Mapped[str | None] = mapped_column(String(30))
    elderly_at_start: Mapped[bool]


class CheckupFact(FactColumns, Base):
    """A person's 65+ health check-up record of one year (the residents service keeps one per person and
    year): when its parts were done, whether it is standard (规范) and since when."""

    __tablename__ = "resident_checkup"
    __table_args__ = (Index("ix_resident_checkup_year_region", "year", "region_code"),)

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    year: Mapped[int] = mapped_column(Integer)
    first_date: Mapped[date] = mapped_column(Date)
    last_date: Mapped[date] = mapped_column(Date)
    standard: Mapped[bool]
    standard_date: Mapped[date | None] = mapped_column(Date)


class AssessmentFact(FactColumns, Base):
    """An ability assessment (老年人能力评估) of a person: when, by which institution, the level 0–4 the
    residents service computed (0 能力完好 … 4 完全失能)."""

    __tablename__ = "resident_assessment"
    #: the person's latest 失能 assessment of the period (``reports.families.residents.disabled_assessed``)
    __table_args__ = (Index("ix_resident_assessment_person_date", "person_id", "assessed_date", "id"),)

    person_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    institution_id: Mapped[uuid.UUID] = mapped_column(Uuid(), index=True)
    assessed_date: Mapped[date] = mapped_column(Date, index=True)
    scale_version: Mapped[str] = mapped_column(String(40))
    level: Mapped[int]
