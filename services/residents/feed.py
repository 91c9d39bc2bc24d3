"""The residents service's change feed: one :class:`~libs.common.changes.FeedEntity` per tracked table.

Personal data (names, ID numbers, birth dates, phones, addresses) is never carried, not even masked: a
reader entitled to it reads the list, where it is masked per viewer and each disclosure is audited.
"""

from __future__ import annotations

import uuid

from pydantic import Field

from libs.common.changes import FeedEntity, feed_payload
from libs.common.feed_reasons import BLIND_INDEX, FREE_TEXT, HEALTH, NOT_LISTED, PERSONAL
from services.residents.assessments.models import Assessment
from services.residents.assessments.schemas import AssessmentRead
from services.residents.care_services.models import CareService
from services.residents.care_services.schemas import CareServiceRead
from services.residents.checkups.models import Checkup
from services.residents.checkups.schemas import CheckupRead
from services.residents.packages.models import ServicePackage
from services.residents.packages.schemas import PackageRead
from services.residents.persons.models import Person
from services.residents.persons.schemas import PersonRead
from services.residents.signings.models import Signing
from services.residents.signings.schemas import SigningRead
from services.residents.teams.models import Team, TeamMember
from services.residents.teams.schemas import TeamMemberRead, TeamRead

PersonFeedPayload = feed_payload(
    "PersonFeedPayload",
    PersonRead,
    ["region_code", "township_code", "institution_id", "sex", "version", "created_at", "updated_at"],
)
PERSON = FeedEntity(
    model=Person,
    payload=PersonFeedPayload,
    permission="persons:read",
    shown_by=PersonRead,
    excluded={
        "id": "即条目的 entity_id",
        "name_enc": PERSONAL,
        "id_number_enc": PERSONAL,
        "id_number_hash": BLIND_INDEX,
        "phone_enc": PERSONAL,
        "address_enc": PERSONAL,
        "birth_date": PERSONAL,
        "source_system": NOT_LISTED,
        "external_id": NOT_LISTED,
        "created_by_sub": NOT_LISTED,
    },
)

# ------------------------------------------------------------------ 家庭医生签约 (teams, packages, signings)
ENTRY_ID = "即条目的 entity_id"
SCOPE = "归属范围：条目本身带 region_code，按机构过滤在服务端完成"

TeamFeedPayload = feed_payload(
    "TeamFeedPayload",
    TeamRead,
    [
        "institution_id",
        "institution_name",
        "region_code",
        "name",
        "leader_practitioner_id",
        "active",
        "version",
        "created_at",
        "updated_at",
    ],
)
TEAM = FeedEntity(
    model=Team, payload=TeamFeedPayload, permission="teams:read", shown_by=TeamRead, excluded={"id": ENTRY_ID}
)

_TEAM_WHERE = "GET /teams/{team_id} 的 members"
TeamMemberFeedPayload = feed_payload(
    "TeamMemberFeedPayload",
    TeamMemberRead,
    ["practitioner_id", "practitioner_kind", "role", "created_at"],
    extra={"team_id": (uuid.UUID, Field(description=f"所属团队（{_TEAM_WHERE}）"))},
)
TEAM_MEMBER = FeedEntity(
    model=TeamMember,
    payload=TeamMemberFeedPayload,
    permission="teams:read",
    shown_by=TeamMemberRead,
    shown_as={"team_id": _TEAM_WHERE},
    excluded={
        "id": ENTRY_ID,
        "practitioner_name": "医务人员姓名：订阅中不提供，需要者读团队详情",
        "institution_id": SCOPE,
        "region_code": SCOPE,
        "version": NOT_LISTED,
        "updated_at": NOT_LISTED,
    },
)

ServicePackageFeedPayload = feed_payload(
    "ServicePackageFeedPayload",
    PackageRead,
    [
        "institution_id",
        "institution_name",
        "region_code",
        "code",
        "version_no",
        "name",
        "kind",
        "status",
        "fee_yuan",
        "items",
        "version",
        "created_at",
        "updated_at",
    ],
)
SERVICE_PACKAGE = FeedEntity(
    model=ServicePackage,
    payload=ServicePackageFeedPayload,
    permission="packages:read",
    shown_by=PackageRead,
    excluded={"id": ENTRY_ID},
)

SigningFeedPayload = feed_payload(
    "SigningFeedPayload",
    SigningRead,
    [
        "person_id",
        "team_id",
        "institution_id",
        "region_code",
        "status",
        "origin",
        "previous_signing_id",
        "start_date",
        "end_date",
        "ended_date",
        "termination_reason",
        "total_fee_yuan",
        "elderly_at_start",
        "signed_at",
        "version",
        "created_at",
        "updated_at",
    ],
)
SIGNING = FeedEntity(
    model=Signing,
    payload=SigningFeedPayload,
    permission="signings:read",
    shown_by=SigningRead,
    excluded={
        "id": ENTRY_ID,
        "packages": "签约服务包明细：订阅中只给合计费用，需要者读签约详情",
        "signed_by_sub": NOT_LISTED,
    },
)

# check-ups: what the health-management rate counts (persons checked, standard records, per year and county)
CheckupFeedPayload = feed_payload(
    "CheckupFeedPayload",
    CheckupRead,
    [
        "id",
        "person_id",
        "year",
        "region_code",
        "institution_id",
        "rule_version",
        "first_date",
        "last_date",
        "parts_done",
        "standard",
        "standard_date",
        "version",
        "created_at",
        "updated_at",
    ],
)
CHECKUP = FeedEntity(
    model=Checkup,
    payload=CheckupFeedPayload,
    permission="checkups:read",
    shown_by=CheckupRead,
    excluded={"age_years": PERSONAL, "created_by_sub": NOT_LISTED},
)

# ability assessments: the level the service computed, never the item scores nor the diagnoses
AssessmentFeedPayload = feed_payload(
    "AssessmentFeedPayload",
    AssessmentRead,
    [
        "id",
        "person_id",
        "region_code",
        "institution_id",
        "assessor_practitioner_id",
        "assessed_date",
        "scale_version",
        "total_score",
        "total_level",
        "level",
        "version",
        "created_at",
    ],
)
ASSESSMENT = FeedEntity(
    model=Assessment,
    payload=AssessmentFeedPayload,
    permission="assessments:read",
    shown_by=AssessmentRead,
    excluded={
        "scores": HEALTH,
        "self_care_score": HEALTH,
        "basic_motor_score": HEALTH,
        "mental_score": HEALTH,
        "perception_social_score": HEALTH,
        "dementia": HEALTH,
        "mental_disorder": HEALTH,
        "care_risk_events_30d": HEALTH,
        "adjustments": HEALTH,
        "note": FREE_TEXT,
        "created_by_sub": NOT_LISTED,
        "updated_at": NOT_LISTED,
    },
)

CareServiceFeedPayload = feed_payload(
    "CareServiceFeedPayload",
    CareServiceRead,
    [
        "id",
        "person_id",
        "region_code",
        "institution_id",
        "practitioner_id",
        "assessment_id",
        "service_date",
        "year",
        "window_number",
        "kinds",
        "version",
        "created_at",
    ],
)
CARE_SERVICE = FeedEntity(
    model=CareService,
    payload=CareServiceFeedPayload,
    permission="care_services:read",
    shown_by=CareServiceRead,
    excluded={
        "note": FREE_TEXT,
        "client_record_id": NOT_LISTED,
        "created_by_sub": NOT_LISTED,
        "updated_at": NOT_LISTED,
    },
)

FEED = [PERSON, CHECKUP, ASSESSMENT, CARE_SERVICE, TEAM, TEAM_MEMBER, SERVICE_PACKAGE, SIGNING]
