"""Request and response bodies of the agreements API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from libs.common.bulk import EXTERNAL_ID_MAX_LENGTH, BulkRequest, records_field
from libs.common.dates import BusinessDate, BusinessMoment
from libs.common.identifiers import MobilePhone
from libs.common.openapi import DocumentedAs
from libs.common.text import MultiLine, SingleLine
from services.contracts.agreements.models import (
    AgreementState,
    FeePayer,
    ServiceKind,
    VisitPeriod,
)

_TEXT = 4000


class Contact(BaseModel):
    name: SingleLine = Field(min_length=1, max_length=50, examples=["李主任"])
    phone: MobilePhone = Field(description="手机号码（个人信息，加密保存）", examples=["13812345678"])


class ContactRead(BaseModel):
    name: str | None
    phone: str | None = Field(description="默认脱敏；协议双方机构查看详情时显示完整号码（留痕）")


class ServiceKindRead(BaseModel):
    code: ServiceKind
    label: str


def service_kinds() -> list[ServiceKindRead]:
    return [ServiceKindRead(code=kind, label=kind.label) for kind in ServiceKind]


class AgreementTerms(BaseModel):
    """The content both parties agree on (the sections of the national model text)."""

    title: SingleLine | None = Field(
        default=None, max_length=300, description="默认：甲方与乙方医养签约合作协议"
    )
    services: list[ServiceKind] = Field(min_length=1, description="签约服务项目")
    visit_count: int = Field(ge=0, le=100, description="巡诊次数（每周期）", examples=[1])
    visit_period: VisitPeriod = Field(description="巡诊周期：week 每周 / month 每月")
    visit_staff: MultiLine | None = Field(default=None, max_length=_TEXT, description="巡诊人员安排")
    green_channel_terms: MultiLine | None = Field(default=None, max_length=_TEXT, description="绿色通道约定")
    referral_terms: MultiLine | None = Field(default=None, max_length=_TEXT, description="双向转诊约定")
    fee_payer: FeePayer = Field(description="费用承担方")
    fee_amount_yuan: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    fee_terms: MultiLine | None = Field(default=None, max_length=_TEXT, description="收费标准与结算方式")
    medical_duties: MultiLine | None = Field(
        default=None, max_length=_TEXT, description="甲方（医疗机构）责任"
    )
    elderly_duties: MultiLine | None = Field(
        default=None, max_length=_TEXT, description="乙方（养老机构）责任"
    )
    change_terms: MultiLine | None = Field(default=None, max_length=_TEXT, description="协议变更与解除")
    dispute_terms: MultiLine | None = Field(default=None, max_length=_TEXT, description="争议解决")
    start_date: BusinessDate
    end_date: BusinessDate
    medical_contact: Contact | None = None
    elderly_contact: Contact | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.end_date < self.start_date:
            raise ValueError("协议终止日期不得早于起始日期")
        if len(set(self.services)) != len(self.services):
            raise ValueError("服务项目不得重复")
        return self


class AgreementCreate(AgreementTerms):
    medical_institution_id: uuid.UUID = Field(description="甲方：医疗机构")
    elderly_institution_id: uuid.UUID = Field(description="乙方：养老机构或医养结合机构（养老部分）")

    @model_validator(mode="after")
    def _distinct_parties(self) -> Self:
        if self.medical_institution_id == self.elderly_institution_id:
            raise ValueError("协议双方不能是同一机构")
        return self


class AgreementUpdate(BaseModel):
    """Changes to a draft (every field optional)."""

    title: SingleLine | None = Field(default=None, max_length=300)
    services: list[ServiceKind] | None = Field(default=None, min_length=1)
    visit_count: int | None = Field(default=None, ge=0, le=100)
    visit_period: VisitPeriod | None = None
    visit_staff: MultiLine | None = Field(default=None, max_length=_TEXT)
    green_channel_terms: MultiLine | None = Field(default=None, max_length=_TEXT)
    referral_terms: MultiLine | None = Field(default=None, max_length=_TEXT)
    fee_payer: FeePayer | None = None
    fee_amount_yuan: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=2)
    fee_terms: MultiLine | None = Field(default=None, max_length=_TEXT)
    medical_duties: MultiLine | None = Field(default=None, max_length=_TEXT)
    elderly_duties: MultiLine | None = Field(default=None, max_length=_TEXT)
    change_terms: MultiLine | None = Field(default=None, max_length=_TEXT)
    dispute_terms: MultiLine | None = Field(default=None, max_length=_TEXT)
    start_date: BusinessDate | None = None
    end_date: BusinessDate | None = None
    medical_contact: Contact | None = None
    elderly_contact: Contact | None = None


class Terminate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "养老机构停业整顿", "effective_date": "2026-06-30"}]}
    )

    reason: MultiLine = Field(min_length=2, max_length=1000, description="提前终止原因")
    effective_date: BusinessDate | None = Field(default=None, description="终止日期（默认今天）")


class Renew(BaseModel):
    """A renewal: a new draft for the same pair, linked to the old one; terms default to the old ones."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"start_date": "2027-04-01", "end_date": "2030-03-31"}]}
    )

    start_date: BusinessDate | None = Field(default=None, description="默认：原协议终止日次日")
    end_date: BusinessDate | None = Field(
        default=None, description="默认：起始日起 agreement_default_term_months 个月"
    )


class File(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "材料齐全，予以备案。"}]})

    note: MultiLine | None = Field(default=None, max_length=1000, description="备案意见")


class PartyRead(BaseModel):
    institution_id: uuid.UUID
    name: str
    region_code: str


class DocumentRead(BaseModel):
    filename: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime


class AgreementRead(BaseModel):
    id: uuid.UUID
    title: str
    medical_party: PartyRead
    elderly_party: PartyRead
    elderly_kind: str
    region_code: str = Field(description="乙方（养老机构）所在县级区划")
    state: AgreementState = Field(description="已保存的状态")
    status: AgreementState = Field(description="按今天日期（Asia/Shanghai）确定的实际状态")
    allowed_actions: list[str]
    services: list[ServiceKind]
    visit_count: int
    visit_period: VisitPeriod
    visit_staff: str | None
    green_channel_terms: str | None
    referral_terms: str | None
    fee_payer: FeePayer
    fee_amount_yuan: Decimal | None
    fee_terms: str | None
    medical_duties: str | None
    elderly_duties: str | None
    change_terms: str | None
    dispute_terms: str | None
    start_date: date
    end_date: date
    medical_contact: ContactRead | None
    elderly_contact: ContactRead | None
    submitted_by_institution_id: uuid.UUID | None
    submitted_at: datetime | None
    countersigned_at: datetime | None
    activated_at: datetime | None
    expired_at: datetime | None
    terminated_at: datetime | None
    terminated_on: date | None
    termination_reason: str | None
    renews_id: uuid.UUID | None
    filed_at: datetime | None
    filed_by: str | None
    filing_note: str | None
    document: DocumentRead | None
    source_system: str | None
    external_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_label(self) -> str:
        return self.status.label

    @computed_field  # type: ignore[prop-decorator]
    @property
    def service_labels(self) -> list[str]:
        return [s.label for s in self.services]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def visit_frequency_label(self) -> str:
        return f"{self.visit_period.label} {self.visit_count} 次"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def fee_payer_label(self) -> str:
        return self.fee_payer.label


# ------------------------------------------------------------------------------ city-platform bulk


class BulkRecordStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    signed = "signed"
    terminated = "terminated"


BULK_RECORD_STATUS_LABELS = {
    BulkRecordStatus.draft: "草稿",
    BulkRecordStatus.submitted: "已提交，待对方会签",
    BulkRecordStatus.signed: "已签署",
    BulkRecordStatus.terminated: "已提前终止",
}


class AgreementRecord(AgreementCreate):
    """One agreement as a city platform holds it: the body of ``POST /agreements`` (the same fields and the
    same checks), its key in the platform, how it stands (a draft, submitted and awaiting the other
    party's countersignature, signed, or terminated early) and, for a historical import, the moments of its
    past — each optional; a moment not given is stamped with the time of the import, as the single
    write would."""

    external_id: SingleLine = Field(
        min_length=1,
        max_length=EXTERNAL_ID_MAX_LENGTH,
        description="城市平台内的协议编号",
        examples=["XY-2026-0001"],
    )
    status: BulkRecordStatus = Field(
        default=BulkRecordStatus.signed,
        description=(
            "draft 草稿 / submitted 已提交待会签 / signed 已签署（按日期生效/到期）/ terminated 已提前终止"
        ),
    )
    termination_reason: MultiLine | None = Field(default=None, max_length=1000)
    terminated_on: BusinessDate | None = None
    submitted_by_institution_id: uuid.UUID | None = Field(
        default=None, description="先签署并提交的一方（协议双方之一）；submitted 状态必填"
    )
    submitted_at: BusinessMoment | None = Field(default=None, description="提交时间（原始时间）")
    countersigned_at: BusinessMoment | None = Field(default=None, description="会签时间（已签署、已终止）")
    activated_at: BusinessMoment | None = Field(
        default=None, description="生效时间（已生效或已到期的协议；不早于起始日）"
    )
    expired_at: BusinessMoment | None = Field(
        default=None, description="到期时间（已到期的协议；晚于终止日）"
    )
    terminated_at: BusinessMoment | None = Field(default=None, description="作出终止决定的时间")
    terminated_by_institution_id: uuid.UUID | None = Field(default=None, description="提出终止的一方")
    renews_external_id: SingleLine | None = Field(
        default=None,
        max_length=EXTERNAL_ID_MAX_LENGTH,
        description="所续签的原协议在同一城市平台内的编号（原协议须已上报，或在本批中位于其前）",
    )
    filed_at: BusinessMoment | None = Field(
        default=None, description="县级卫健部门备案时间（仅已会签的协议）"
    )
    filed_by: SingleLine | None = Field(default=None, max_length=120, description="备案人（账号）")
    filing_note: MultiLine | None = Field(default=None, max_length=1000, description="备案意见")

    @model_validator(mode="after")
    def _termination(self) -> Self:
        if self.status is BulkRecordStatus.terminated and not (
            self.termination_reason and self.terminated_on
        ):
            raise ValueError("已终止的协议须填写终止原因和终止日期")
        if self.status is BulkRecordStatus.submitted and self.submitted_by_institution_id is None:
            raise ValueError("待会签的协议须填写提交方 submitted_by_institution_id")
        if (self.filed_at is None) != (self.filed_by is None):
            raise ValueError("备案时间 filed_at 与备案人 filed_by 须同时填写")
        return self


class AgreementKey(BaseModel):
    """How a bulk record names its agreement: by id, or by the agreement's key in the same source system."""

    agreement_id: uuid.UUID | None = Field(
        default=None, description="协议 id（与 agreement_external_id 二选一）"
    )
    agreement_external_id: SingleLine | None = Field(
        default=None,
        max_length=EXTERNAL_ID_MAX_LENGTH,
        description="协议在同一城市平台内的编号（经 POST /agreements/bulk 上报）",
    )

    @model_validator(mode="after")
    def _one_agreement(self) -> Self:
        if (self.agreement_id is None) == (self.agreement_external_id is None):
            raise ValueError("agreement_id 与 agreement_external_id 须填写且只填写其一")
        return self


class AgreementBulk(BulkRequest):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source_system": "xm-ijk",
                    "records": [
                        {
                            "external_id": "XY-2026-0001",
                            "medical_institution_id": "3f1c2a9e-7d4b-4c1e-9a52-0b8e6f1d2c31",
                            "elderly_institution_id": "8a0d5b7c-1e2f-4a3b-8c9d-6e5f4a3b2c1d",
                            "services": ["medical_rounds", "two_way_referral"],
                            "visit_count": 1,
                            "visit_period": "week",
                            "fee_payer": "elderly_care_party",
                            "start_date": "2026-01-01",
                            "end_date": "2026-12-31",
                        }
                    ],
                }
            ]
        }
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(AgreementRecord)]] = records_field(AgreementRecord)
