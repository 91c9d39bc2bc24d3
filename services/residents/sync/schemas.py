"""What a city platform pushes in bulk (``libs/common/bulk``'s envelope): persons, 65+ check-ups,
ability assessments and family-doctor contracts, each keyed by ``source_system`` + ``external_id``; the
fields are the single writes' (``PersonCreate``, ``CheckupRecord``, ``AssessmentCreate``,
``SigningCreate``) so a record sent in bulk obeys exactly the rules of the single write; the person is
named by ID number (registered first: persons bulk)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from libs.common.bulk import BulkRequest, records_field
from libs.common.dates import BusinessDate
from libs.common.identifiers import IdCardNumber
from libs.common.openapi import DocumentedAs
from services.residents.checkups.schemas import CheckupPartIn
from services.residents.persons.schemas import PersonCreate


class PersonBulkRecord(PersonCreate):
    """A person (find-or-create by ID number, as ``POST /persons``)."""

    external_id: str = Field(description="城市平台内的居民编号")


class PersonBulk(BulkRequest):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source_system": "xm-ijiankang",
                    "records": [
                        {
                            "external_id": "JM-0001",
                            "name": "陈阿婆",
                            "id_number": "350206194001010021",
                            "phone": "13906001015",
                            "address": "福建省厦门市湖里区江头街道台湾街 88 号",
                            "region_code": "350206",
                        }
                    ],
                }
            ]
        }
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(PersonBulkRecord)]] = records_field(PersonBulkRecord)


class CheckupBulkRecord(BaseModel):
    """Parts of a person's 65+ check-up done by a primary-care institution of the platform's city (as
    ``POST /checkups`` by that institution); the person by ID number (registered first: persons bulk)."""

    model_config = ConfigDict(extra="forbid")

    institution_id: uuid.UUID = Field(description="做体检的基层医疗卫生机构（本市）")
    id_number: IdCardNumber = Field(description="居民身份证号（居民须已登记）")
    parts: list[CheckupPartIn] = Field(min_length=1, max_length=20)


class CheckupBulkRecordIn(CheckupBulkRecord):
    external_id: str = Field(description="城市平台内的体检记录编号")


class CheckupBulk(BulkRequest):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source_system": "xm-ijiankang",
                    "records": [
                        {
                            "external_id": "TJ-2026-0001",
                            "institution_id": "4a0c1d2e-3f40-4b5c-8d6e-7f8091a2b3c4",
                            "id_number": "350206194001010021",
                            "parts": [{"code": "lifestyle_assessment", "done_date": "2026-04-08"}],
                        }
                    ],
                }
            ]
        }
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(CheckupBulkRecordIn)]] = records_field(
        CheckupBulkRecordIn
    )


class AssessmentBulkRecord(BaseModel):
    """An ability assessment by a primary-care institution of the platform's city (as ``POST
    /assessments`` by that institution): item scores only, the total and level are the service's."""

    model_config = ConfigDict(extra="forbid")

    institution_id: uuid.UUID = Field(description="做评估的基层医疗卫生机构（本市）")
    id_number: IdCardNumber = Field(description="居民身份证号（居民须已登记）")
    assessed_date: BusinessDate
    scores: dict[str, int] = Field(description="各项得分（GET /assessments/scale）")
    dementia: bool = False
    mental_disorder: bool = False
    care_risk_events_30d: int = Field(default=0, ge=0, le=100)


class AssessmentBulkRecordIn(AssessmentBulkRecord):
    external_id: str = Field(description="城市平台内的评估记录编号")


class AssessmentBulk(BulkRequest):
    records: list[Annotated[dict[str, Any], DocumentedAs(AssessmentBulkRecordIn)]] = records_field(
        AssessmentBulkRecordIn
    )


class SigningBulkRecord(BaseModel):
    """A family-doctor contract with a team of an institution of the platform's city (as ``POST
    /signings`` by that institution)."""

    model_config = ConfigDict(extra="forbid")

    team_id: uuid.UUID = Field(description="签约的家庭医生团队（本市机构、在用）")
    id_number: IdCardNumber = Field(description="居民身份证号（居民须已登记）")
    package_ids: list[uuid.UUID] = Field(min_length=1, max_length=10)
    start_date: BusinessDate | None = Field(default=None, description="起始日期（不晚于今天；为空取今天）")


class SigningBulkRecordIn(SigningBulkRecord):
    external_id: str = Field(description="城市平台内的签约编号")


class SigningBulk(BulkRequest):
    records: list[Annotated[dict[str, Any], DocumentedAs(SigningBulkRecordIn)]] = records_field(
        SigningBulkRecordIn
    )
