from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator
from pydantic.config import JsonDict

from libs.common import divisions
from libs.common.dates import BusinessDate
from libs.common.identifiers import IdCardNumber, MobilePhone
from libs.common.text import SingleLine
from services.residents.assessments.schemas import LatestAssessment
from services.residents.persons.models import SEX_LABELS, Sex

TOWNSHIP_PATTERN = r"^\d{9}$"


def county_code(value: str) -> str:
    if not divisions.is_county(value):
        raise ValueError("须为福建省内的县级行政区划代码")
    return value


def check_township(region_code: str | None, township_code: str | None) -> None:
    if region_code is not None and township_code is not None and not township_code.startswith(region_code):
        raise ValueError("乡镇（街道）代码须属于所填县级行政区划")


#: a resident of 湖里区 (the other examples name the demo data's)
PERSON_EXAMPLE: JsonDict = {
    "name": "陈阿婆",
    "id_number": "350206194803120026",
    "phone": "13906002001",
    "address": "福建省厦门市湖里区殿前街道高殿社区 12 号",
    "region_code": "350206",
    "township_code": "350206004",
}


class PersonCreate(BaseModel):
    """Find-or-create by ID number: the ID number identifies the person; birth date and sex come from it
    (sent, they must agree). For a person already in the index, the contact data sent is not applied
    (changes go through ``PATCH`` with ``If-Match``)."""

    model_config = ConfigDict(json_schema_extra={"examples": [PERSON_EXAMPLE]})

    name: SingleLine = Field(min_length=1, max_length=50)
    id_number: IdCardNumber = Field(description="居民身份证号（加密保存；出生日期与性别取自其中）")
    birth_date: BusinessDate | None = Field(default=None, description="出生日期；为空时取自身份证号")
    sex: Sex | None = Field(default=None, description="性别；为空时取自身份证号")
    phone: MobilePhone | None = None
    address: SingleLine | None = Field(default=None, min_length=4, max_length=200)
    region_code: str = Field(pattern=r"^\d{6}$", description="户籍或常住地县级行政区划代码")
    township_code: str | None = Field(
        default=None, pattern=TOWNSHIP_PATTERN, description="乡镇（街道）代码（9 位，属于该县）"
    )

    _county = field_validator("region_code")(county_code)

    @model_validator(mode="after")
    def _township(self) -> PersonCreate:
        check_township(self.region_code, self.township_code)
        return self


class PersonUpdate(BaseModel):
    """Contact data and place of residence; the identity (name, ID number) does not change here."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"phone": "13906002011", "address": "福建省厦门市湖里区金山街道 8 号"}]
        }
    )

    phone: MobilePhone | None = None
    address: SingleLine | None = Field(default=None, min_length=4, max_length=200)
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    township_code: str | None = Field(default=None, pattern=TOWNSHIP_PATTERN)

    @field_validator("region_code")
    @classmethod
    def _county(cls, value: str | None) -> str | None:
        return None if value is None else county_code(value)

    @model_validator(mode="after")
    def _township(self) -> PersonUpdate:
        check_township(self.region_code, self.township_code)
        return self


class PersonLookup(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"id_number": "350206194803120026"}]})

    id_number: str = Field(min_length=15, max_length=20, description="身份证号（仅在请求体中传递）")


class PersonBatch(BaseModel):
    """Several persons whole, for an internal caller that keeps its records of them without their personal
    data (homecare's recipients, contracts' referrals) and masks them per viewer itself."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ids": ["6f1c2a3e-0000-4000-8000-000000000001"],
                    "on_behalf_of": "user:xinkaiyuan_nurse",
                    "purpose": "GET recipient",
                }
            ]
        }
    )

    ids: list[uuid.UUID] = Field(
        default_factory=list,
        description="居民 id（与 id_numbers 合计不超过 persons_batch_max 个，重复的只算一次）",
    )
    id_numbers: list[str] = Field(
        default_factory=list,
        description="按身份证号查找（仅在请求体中传递）：不在居民主索引中的号码不返回，不报错",
    )
    on_behalf_of: SingleLine | None = Field(
        default=None, max_length=120, description="调用方的当前用户（sub），记入披露审计"
    )
    purpose: SingleLine | None = Field(default=None, max_length=60, description="用途，记入披露审计")

    @model_validator(mode="after")
    def _something(self) -> PersonBatch:
        if not self.ids and not self.id_numbers:
            raise ValueError("须指定 ids 或 id_numbers")
        return self


class PersonRead(BaseModel):
    id: uuid.UUID
    region_code: str
    township_code: str | None
    institution_id: uuid.UUID | None = Field(description="登记该居民的机构")
    disclosed: bool = Field(description="是否为完整个人信息（仅服务该居民的机构可见，且每次记录审计）")
    name: str
    id_number: str
    phone: str | None
    address: str | None
    birth_date: date | None = Field(description="仅服务该居民的机构可见")
    age: int
    sex: Sex
    source_system: str | None
    external_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def sex_label(self) -> str:
        return SEX_LABELS[self.sex]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def region_name(self) -> str | None:
        division = divisions.get(self.region_code)
        return division.name if division else None


class PersonBatchItem(PersonRead):
    latest_assessment: LatestAssessment | None = Field(
        description="最近一次老年人能力评估（未评估为空）：其等级即当前失能等级"
    )


class PersonBatchRead(BaseModel):
    items: list[PersonBatchItem] = Field(
        description="所请求的居民（完整个人信息，每名居民记录一条披露审计），附最近一次能力评估"
    )


class IdentityCheckRequest(BaseModel):
    """The last characters of the ID number the person shows (never the whole number)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"id_suffix": "123X"}]})

    id_suffix: str = Field(
        min_length=1,
        max_length=6,
        pattern=r"^[0-9Xx]+$",
        description="身份证号末几位（位数见服务设置，默认 4）",
    )


class IdentityCheckResult(BaseModel):
    matches: bool = Field(description="与居民身份证号末几位是否一致")
    attempts_left: int = Field(description="该居民今日剩余的核验次数")
