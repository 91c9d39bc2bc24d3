from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from libs.common.bulk import EXTERNAL_ID_MAX_LENGTH, BulkRequest, records_field
from libs.common.dates import BusinessDate
from libs.common.openapi import DocumentedAs
from libs.common.text import MultiLine, SingleLine
from services.contracts.agreements.models import ServiceKind, VisitPeriod
from services.contracts.agreements.schemas import AgreementKey

_REF = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9\-_/#]+$")


class HomeboundOrder(BaseModel):
    """For a resident who cannot travel: the recorded authorisation and the prescription issued from
    the visit's treatment plan (rules.md)."""

    resident_ref: SingleLine = _REF
    authorisation_ref: SingleLine = Field(min_length=1, max_length=60, description="授权书编号")
    authorised_on: BusinessDate
    prescription: MultiLine = Field(min_length=1, max_length=2000, description="依巡诊治疗方案开具的处方")


class VisitCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "visit_date": "2026-03-18",
                    "practitioner_ids": ["3f1c2a9e-7d4b-4c1e-9a52-0b8e6f1d2c31"],
                    "residents_seen": 24,
                    "resident_refs": ["A-012", "A-031"],
                    "services": ["medical_rounds", "health_management"],
                    "findings": "2 名老人血压控制欠佳，已调整用药并预约复诊",
                }
            ]
        }
    )

    visit_date: BusinessDate
    practitioner_ids: list[uuid.UUID] = Field(
        min_length=1, max_length=20, description="巡诊人员（注册库 id）"
    )
    residents_seen: int = Field(ge=0, le=2000, description="诊视人数")
    resident_refs: list[SingleLine] = Field(
        default_factory=list, max_length=2000, description="诊视对象的机构内编号（可选，不含姓名等身份信息）"
    )
    services: list[ServiceKind] = Field(min_length=1, description="提供的服务")
    findings: MultiLine | None = Field(default=None, max_length=8000, description="巡诊发现与处理")
    homebound_orders: list[HomeboundOrder] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _refs(self) -> Self:
        for ref in self.resident_refs:
            if not 1 <= len(ref) <= 40:
                raise ValueError("诊视对象编号应为 1–40 个字符")
        if self.resident_refs and len(self.resident_refs) > self.residents_seen:
            raise ValueError("诊视对象编号数不得多于诊视人数")
        return self


class VisitRecord(AgreementKey, VisitCreate):
    """One past 巡诊 as a city platform holds it: the body of ``POST /agreements/{id}/visits`` (the same
    fields and checks), its agreement, its key, and who recorded it."""

    external_id: SingleLine = Field(
        min_length=1, max_length=EXTERNAL_ID_MAX_LENGTH, description="城市平台内的巡诊记录编号"
    )
    recorded_by: SingleLine | None = Field(
        default=None, max_length=120, description="原登记人（账号）；默认为上报方"
    )


class VisitBulk(BulkRequest):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source_system": "xm-ijk",
                    "records": [
                        {
                            "external_id": "XZ-2025-0001",
                            "agreement_external_id": "XY-2025-0001",
                            "visit_date": "2025-06-18",
                            "practitioner_ids": ["3f1c2a9e-7d4b-4c1e-9a52-0b8e6f1d2c31"],
                            "residents_seen": 24,
                            "services": ["medical_rounds"],
                        }
                    ],
                }
            ]
        }
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(VisitRecord)]] = records_field(VisitRecord)


class VisitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    agreement_id: uuid.UUID
    region_code: str
    medical_institution_id: uuid.UUID
    elderly_institution_id: uuid.UUID
    visit_date: date
    practitioner_ids: list[uuid.UUID]
    residents_seen: int
    resident_refs: list[str]
    services: list[ServiceKind]
    findings: str | None
    homebound_orders: list[HomeboundOrder]
    recorded_by: str
    version: int
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def service_labels(self) -> list[str]:
        return [s.label for s in self.services]


class Shortfall(BaseModel):
    """Visits done against visits owed in a period (the agreed frequency, at least the province minimum)."""

    agreement_id: uuid.UUID
    region_code: str
    medical_name: str
    elderly_name: str
    period_start: date
    period_end: date
    days_in_force: int = Field(description="期内协议有效天数")
    visit_count: int
    visit_period: VisitPeriod
    agreed: float = Field(description="按协议约定频次应巡诊次数")
    province_minimum: float = Field(description="按全省最低频次应巡诊次数")
    required: float = Field(description="应巡诊次数 = max(约定, 全省最低)")
    done: int
    shortfall: float
    falling_short: bool


class RegionShortfall(BaseModel):
    region_code: str
    region_name: str
    agreements: int = Field(description="期内有效协议数")
    required: float
    done: int
    shortfall: float = Field(description="各协议欠缺次数之和")
    falling_short: int = Field(description="未达标协议数")


class ShortfallReport(BaseModel):
    period_start: date
    period_end: date
    min_rounds_per_month: int
    group_by: str
    regions: list[RegionShortfall]
