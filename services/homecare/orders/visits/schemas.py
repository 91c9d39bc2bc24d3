from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, computed_field, model_validator

from libs.common import divisions
from libs.common.money import Amount
from libs.common.text import MultiLine, SingleLine
from services.homecare.orders.models import STATUS_LABELS, OrderStatus
from services.homecare.recipients.schemas import SHA256_PATTERN


class VitalSigns(BaseModel):
    """Plausible ranges for an elder at home; anything outside is refused naming the field."""

    bp_systolic: int | None = Field(default=None, ge=60, le=260, description="收缩压 mmHg")
    bp_diastolic: int | None = Field(default=None, ge=30, le=160, description="舒张压 mmHg")
    pulse: int | None = Field(default=None, ge=20, le=250, description="脉搏 次/分")
    respiration_rate: int | None = Field(default=None, ge=5, le=60, description="呼吸 次/分")
    temperature_c: Decimal | None = Field(default=None, ge=34, le=43, decimal_places=1, description="体温 ℃")
    spo2: int | None = Field(default=None, ge=50, le=100, description="血氧饱和度 %")
    blood_glucose_mmol: Decimal | None = Field(
        default=None, ge=Decimal("1.0"), le=Decimal("35.0"), decimal_places=1, description="血糖 mmol/L"
    )

    @model_validator(mode="after")
    def _pressure(self) -> VitalSigns:
        if (self.bp_systolic is None) != (self.bp_diastolic is None):
            raise ValueError("收缩压与舒张压须同时填写")
        if (
            self.bp_systolic is not None
            and self.bp_diastolic is not None
            and self.bp_diastolic >= self.bp_systolic
        ):
            raise ValueError("舒张压须低于收缩压")
        return self


class Consumable(BaseModel):
    name: SingleLine = Field(min_length=1, max_length=100)
    qty: int = Field(ge=1, le=1000)
    unit_price_yuan: Amount = Field(ge=0, le=10000, decimal_places=2)


class VisitContent(BaseModel):
    """What a visit record says: the items done, vital signs, consumables, notes, signature and photos
    (the nurse app's record and a historical import's visit record alike)."""

    items_done: list[SingleLine] = Field(
        min_length=1, max_length=10, description="已完成的项目（订单项目的子集）"
    )
    vital_signs: VitalSigns = Field(default_factory=VitalSigns)
    consumables: list[Consumable] = Field(default_factory=list, max_length=50)
    notes: MultiLine | None = Field(default=None, max_length=4000)
    signature_sha256: str | None = Field(default=None, pattern=SHA256_PATTERN)
    photo_sha256: list[SingleLine] = Field(default_factory=list, max_length=10)
    template_version: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._-]{1,40}$",
        description="据以填写的服务记录模板版本（GET /catalog/templates）；为空时按当前版本校验",
    )
    fields: dict[str, bool | int | float | str] = Field(
        default_factory=dict,
        max_length=60,
        description="模板字段（生命体征以外；生命体征填在 vital_signs 中），键为模板字段的 key",
    )

    @model_validator(mode="after")
    def _photos(self) -> Self:
        for digest in self.photo_sha256:
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ValueError("photo_sha256 须为 64 位小写十六进制")
        for key, value in self.fields.items():
            if len(key) > 40 or not key.isascii() or not key.replace("_", "").isalnum():
                raise ValueError("fields 的键须为模板字段的 key（小写英文、数字、下划线）")
            if isinstance(value, str) and len(value) > 4000:
                raise ValueError("fields 的文字最多 4000 字")
        return self


class VisitRecordWrite(VisitContent):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "record_id": "5ac78ce0-48c4-43db-8d7c-35aeabad8681",
                    "client_created_at": "2026-12-01T10:20:00+08:00",
                    "client_updated_at": "2026-12-01T10:26:00+08:00",
                    "items_done": ["HC01", "HC02"],
                    "vital_signs": {
                        "bp_systolic": 142,
                        "bp_diastolic": 86,
                        "pulse": 76,
                        "respiration_rate": 18,
                        "temperature_c": 36.6,
                        "spo2": 97,
                        "blood_glucose_mmol": 7.8,
                    },
                    "consumables": [
                        {"name": "一次性采血针", "qty": 2, "unit_price_yuan": 1.5},
                        {"name": "血糖试纸", "qty": 1, "unit_price_yuan": 4},
                    ],
                    "notes": "餐后 2 小时血糖 7.8 mmol/L，血压偏高；嘱按时服药、控制主食，一周后复测",
                    "signature_sha256": "a543997d84f12798350c09bdef2cdb171bf41ed3e4a5f808af2feb0c56263009",
                    "photo_sha256": ["55c64d0fcd6f9d5f7c828093857e3fdfda68478bb4e9bd24d481ef391c7804e8"],
                    "template_version": "tpl-1",
                    "fields": {"glucose_timing": "postprandial_2h", "elder_condition": "stable"},
                }
            ]
        }
    )

    record_id: uuid.UUID = Field(description="客户端生成的记录 ID（UUID）；同一记录的多次提交用同一 ID")
    client_created_at: AwareDatetime
    client_updated_at: AwareDatetime = Field(description="客户端最后修改时间；旧于已存版本的提交被拒绝")

    @model_validator(mode="after")
    def _times(self) -> VisitRecordWrite:
        if self.client_updated_at < self.client_created_at:
            raise ValueError("client_updated_at 不得早于 client_created_at")
        return self


class ConsumableRead(Consumable):
    line_total_yuan: Decimal


class VisitRecordRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: uuid.UUID
    record_id: uuid.UUID
    practitioner_id: uuid.UUID
    client_created_at: datetime
    client_updated_at: datetime
    items_done: list[str]
    vital_signs: VitalSigns
    consumables: list[ConsumableRead]
    consumables_total_yuan: Decimal
    notes: str | None
    signature_sha256: str | None
    photo_sha256: list[str]
    template_version: str | None = Field(
        description="校验所依据的模板版本；为空表示未按模板校验（模板启用前的记录）"
    )
    fields: dict[str, bool | int | float | str]
    version: int
    created_at: datetime
    updated_at: datetime


class Assignment(BaseModel):
    """One of a nurse's visits, as small as a phone needs (no personal data but a masked name)."""

    order_id: uuid.UUID
    status: OrderStatus
    window_start: datetime
    window_end: datetime
    region_code: str
    recipient_name: str | None = Field(description="脱敏姓名（取自居民主索引；居民服务不可用时为空）")
    item_codes: list[str]
    item_names: list[str]
    flagged: bool
    version: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def district(self) -> str | None:
        division = divisions.get(self.region_code)
        return division.name if division else None
