from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, computed_field

from libs.common.dates import within_business_range
from services.residents.packages.rules import PACKAGE_KIND_LABELS, PackageKind
from services.residents.signings.rules import (
    SIGNING_ORIGIN_LABELS,
    SIGNING_STATUS_LABELS,
    TERMINATION_REASON_LABELS,
    SigningOrigin,
    SigningStatus,
    TerminationReason,
)

BusinessDate = Annotated[date, AfterValidator(within_business_range)]
PackageIds = Annotated[list[uuid.UUID], Field(min_length=1, max_length=20)]


class SigningCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "person_id": "0b8a3f0e-2f6d-4f3e-9a55-6c1f0f6f2a10",
                    "team_id": "7c3e1a44-1d1b-4c3a-8d5e-8f2f3b9c0d21",
                    "package_ids": ["5d2b6a1e-3c4f-4b5a-9e6d-7f8a9b0c1d22"],
                }
            ]
        },
    )

    person_id: uuid.UUID = Field(description="居民主索引 id（先按身份证号查找或登记居民）")
    team_id: uuid.UUID = Field(description="签约的家庭医生团队（本机构、在用）")
    package_ids: PackageIds = Field(description="签约服务包（在用版本）：一个基础包，可加个性化包")
    start_date: BusinessDate | None = Field(default=None, description="起始日期，默认今天；不能晚于今天")


class SigningRenew(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"package_ids": ["5d2b6a1e-3c4f-4b5a-9e6d-7f8a9b0c1d22"]}]},
    )

    package_ids: PackageIds | None = Field(
        default=None, description="续签的服务包；为空则沿用原合同各服务包的在用版本"
    )


class SigningTransfer(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "person_id": "0b8a3f0e-2f6d-4f3e-9a55-6c1f0f6f2a10",
                    "team_id": "9a4e2b55-2e2c-4d4b-9e6f-9a3b4c5d6e32",
                    "package_ids": ["6e3c7b2f-4d5a-4c6b-8f7e-8a9b0c1d2e33"],
                }
            ]
        },
    )

    person_id: uuid.UUID = Field(description="转签的居民")
    team_id: uuid.UUID = Field(description="转入的家庭医生团队（本机构、在用）")
    package_ids: PackageIds = Field(description="新合同的服务包（转入团队所在机构的在用版本）")


class SigningTerminate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason": "moved_away", "ended_date": "2026-03-10"}]}
    )

    reason: TerminationReason
    ended_date: BusinessDate | None = Field(default=None, description="解约日期，默认今天；不能晚于今天")


class SignedPackage(BaseModel):
    package_id: uuid.UUID
    code: str
    version_no: int
    name: str
    kind: PackageKind
    fee_yuan: Decimal

    @computed_field  # type: ignore[prop-decorator]
    @property
    def kind_label(self) -> str:
        return PACKAGE_KIND_LABELS[self.kind]


class SigningRead(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    team_id: uuid.UUID
    institution_id: uuid.UUID
    region_code: str = Field(description="居民所在县（区）：签约在此计数")
    status: SigningStatus
    origin: SigningOrigin
    previous_signing_id: uuid.UUID | None = Field(description="续签或转签时，前一份合同")
    start_date: date
    end_date: date
    ended_date: date | None = Field(description="提前终止（解约、转签）的日期")
    termination_reason: TerminationReason | None
    packages: list[SignedPackage]
    total_fee_yuan: Decimal
    elderly_at_start: bool = Field(description="起始日时居民已满 65 周岁")
    in_force: bool = Field(description="今天在履约期内")
    renewal_opens_on: date = Field(description="自该日起可续签（至到期日）")
    allowed_actions: list[str]
    signed_at: datetime
    version: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_label(self) -> str:
        return SIGNING_STATUS_LABELS[self.status]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def origin_label(self) -> str:
        return SIGNING_ORIGIN_LABELS[self.origin]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def termination_reason_label(self) -> str | None:
        return TERMINATION_REASON_LABELS[self.termination_reason] if self.termination_reason else None


class RegionRates(BaseModel):
    region_code: str = Field(description="县级区划代码；合计行为调用者的范围（如 35、3502、350206）")
    signed_persons: int = Field(description="统计日履约中的签约居民数（去重）")
    signed_persons_65_plus: int = Field(description="其中统计日已满 65 周岁者")
    due_for_renewal: int = Field(description="年度内到期应续签的合同数（履约至到期；已续签或已过到期日）")
    renewed: int = Field(description="其中已续签的合同数")
    renewal_rate_pct: Decimal | None = Field(description="续签率（%）= 已续签 / 应续签；无应续签时为空")


class SigningRates(BaseModel):
    year: int
    as_of: date = Field(description="签约人数的统计日：年度末，或今年的今天")
    items: list[RegionRates]
    total: RegionRates
