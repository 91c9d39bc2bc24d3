from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator
from pydantic.config import JsonDict

from libs.common import divisions
from libs.common.dates import BusinessDate
from libs.common.identifiers import IdCardNumber, MobilePhone
from libs.common.text import SingleLine
from services.homecare.recipients.models import (
    CONSENT_METHOD_LABELS,
    CONSENT_SIGNER_LABELS,
    DISABILITY_LABELS,
    ConsentMethod,
    ConsentSigner,
)

SHA256_PATTERN = r"^[0-9a-f]{64}$"


def county_code(value: str) -> str:
    if not divisions.is_county(value):
        raise ValueError("须为福建省内的县级行政区划代码")
    return value


class EmergencyContact(BaseModel):
    name: SingleLine = Field(min_length=1, max_length=50)
    relation: SingleLine = Field(min_length=1, max_length=20, examples=["女儿"])
    phone: MobilePhone


class Consent(BaseModel):
    given_at: datetime = Field(description="同意时间")
    method: ConsentMethod
    signed_by: ConsentSigner
    document_sha256: str | None = Field(default=None, pattern=SHA256_PATTERN, description="同意书扫描件哈希")


class Conditions(BaseModel):
    disability_level: int = Field(
        default=0,
        ge=0,
        le=4,
        description=(
            "登记的失能等级（GB/T 42195-2022，0–4）。已被居民服务的能力评估取代：失能规则读取该老人最近一次"
            "能力评估，仅在从未评估时以此为准"
        ),
    )
    dementia: bool = Field(default=False, description="失智")
    chronic_diseases: list[SingleLine] = Field(default_factory=list, max_length=20)

    @field_validator("chronic_diseases")
    @classmethod
    def _diseases(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value if v.strip()]
        if any(len(v) > 50 for v in cleaned):
            raise ValueError("病名过长")
        return cleaned


#: a new recipient of 湖里区 (the other examples name the demo data's)
RECIPIENT_EXAMPLE: JsonDict = {
    "name": "郑美华",
    "id_number": "350206194507150022",
    "phone": "13906001005",
    "address": "福建省厦门市湖里区金山街道金湖路 101 号 5 单元 702",
    "region_code": "350206",
    "latitude": 24.5132,
    "longitude": 118.1785,
    "disability_level": 2,
    "dementia": False,
    "chronic_diseases": ["高血压", "骨质疏松"],
    "emergency_contact": {"name": "郑建明", "relation": "儿子", "phone": "13906001105"},
    "consent": {"given_at": "2026-11-20T15:00:00+08:00", "method": "written", "signed_by": "self"},
}


class RecipientCreate(Conditions):
    model_config = ConfigDict(json_schema_extra={"examples": [RECIPIENT_EXAMPLE]})

    name: SingleLine = Field(min_length=1, max_length=50)
    id_number: IdCardNumber = Field(description="居民身份证号（加密保存）")
    birth_date: BusinessDate | None = Field(default=None, description="出生日期；为空时取自身份证号")
    phone: MobilePhone | None = None
    address: SingleLine = Field(min_length=4, max_length=200)
    region_code: str = Field(pattern=r"^\d{6}$", description="住址所在县级行政区划代码")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    emergency_contact: EmergencyContact | None = None
    consent: Consent
    institution_id: uuid.UUID | None = Field(
        default=None, description="服务机构（城市平台代登记时可填；机构用户登记时为本机构）"
    )

    _county = field_validator("region_code")(county_code)


class RecipientUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "disability_level": 3,
                    "chronic_diseases": ["高血压", "骨质疏松", "腔隙性脑梗死"],
                }
            ]
        }
    )

    phone: MobilePhone | None = Field(
        default=None,
        description=(
            "不在此修改：联系电话由居民主索引维护（PATCH /api/v1/residents/persons/{person_id}），"
            "填写时 422 identity_held_by_residents"
        ),
    )
    address: SingleLine | None = Field(
        default=None,
        min_length=4,
        max_length=200,
        description=(
            "不在此修改：住址由居民主索引维护（PATCH /api/v1/residents/persons/{person_id}），"
            "填写时 422 identity_held_by_residents"
        ),
    )
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$", description="服务地址所在县级行政区划")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    disability_level: int | None = Field(default=None, ge=0, le=4)
    dementia: bool | None = None
    chronic_diseases: list[SingleLine] | None = Field(default=None, max_length=20)
    emergency_contact: EmergencyContact | None = None

    @field_validator("region_code")
    @classmethod
    def _county(cls, value: str | None) -> str | None:
        return None if value is None else county_code(value)


class RecipientLookup(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id_number": "350206193808120025"}]})

    id_number: str = Field(min_length=15, max_length=20, description="身份证号（仅在请求体中传递）")


class EmergencyContactRead(BaseModel):
    name: str
    relation: str | None
    phone: str


class ConsentRead(BaseModel):
    given_at: datetime
    method: ConsentMethod
    signed_by: ConsentSigner
    document_sha256: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def method_label(self) -> str:
        return CONSENT_METHOD_LABELS[self.method]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def signed_by_label(self) -> str:
        return CONSENT_SIGNER_LABELS[self.signed_by]


_FROM_INDEX = "（取自居民主索引；列表在居民服务不可用时为空）"


class RecipientRead(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID | None = Field(description="居民主索引中的居民（为空：尚未关联的旧记录）")
    institution_id: uuid.UUID | None
    region_code: str
    disclosed: bool = Field(description="是否为完整个人信息（仅服务机构可见，且每次记录审计）")
    name: str | None = Field(description="姓名" + _FROM_INDEX)
    id_number: str | None = Field(description="身份证号" + _FROM_INDEX)
    phone: str | None = Field(description="联系电话" + _FROM_INDEX)
    address: str | None = Field(description="住址" + _FROM_INDEX)
    latitude: float | None
    longitude: float | None
    birth_date: date | None = Field(description="仅服务机构可见" + _FROM_INDEX)
    age: int | None = Field(description="年龄" + _FROM_INDEX)
    sex: str | None = Field(description="性别" + _FROM_INDEX)
    disability_level: int = Field(
        description="登记的失能等级（已被能力评估取代，仅在从未评估时作为失能规则的依据）"
    )
    dementia: bool
    chronic_diseases: list[str]
    emergency_contact: EmergencyContactRead | None
    consent: ConsentRead
    source_system: str | None
    external_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def disability_label(self) -> str:
        return DISABILITY_LABELS[self.disability_level]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def region_name(self) -> str | None:
        division = divisions.get(self.region_code)
        return division.name if division else None


class ElderCodeIssued(BaseModel):
    """The code just issued — shown this once (only its keyed hash is kept)."""

    code: str = Field(examples=["482913"], description="老人核验码（仅此一次显示，请交给老人或家属保管）")
    issued_at: datetime
    reissued: bool = Field(description="是否为重新签发（旧码随即作废）")
