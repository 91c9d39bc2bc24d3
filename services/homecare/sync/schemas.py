from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from libs.common.dates import BusinessMoment
from libs.common.errors import FieldError
from libs.common.openapi import DocumentedAs
from libs.common.text import MultiLine, SingleLine
from services.homecare.recipients.schemas import RECIPIENT_EXAMPLE, RecipientCreate

MAX_RECORDS = 1000
SOURCE_PATTERN = r"^[A-Za-z0-9._-]{1,60}$"


class BulkOutcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    rejected = "rejected"


BULK_OUTCOME_LABELS = {
    BulkOutcome.created: "已新增",
    BulkOutcome.updated: "已更新",
    BulkOutcome.unchanged: "无变化",
    BulkOutcome.rejected: "已拒绝",
}


RECORDS_DESCRIPTION = "每条记录须有 external_id；逐条校验，互不影响"
SOURCE_SYSTEM_EXAMPLE = "xm-ijiankang"


class BulkRequest(BaseModel):
    source_system: str = Field(pattern=SOURCE_PATTERN, description="城市平台的系统标识，如 xm-ijiankang")
    records: list[dict[str, Any]] = Field(
        min_length=1, max_length=MAX_RECORDS, description=RECORDS_DESCRIPTION
    )


RECIPIENT_BULK_RECORD_EXAMPLE = {**RECIPIENT_EXAMPLE, "external_id": "XM-HL-2026-000123"}


class RecipientBulkRecord(RecipientCreate):
    model_config = ConfigDict(json_schema_extra={"examples": [RECIPIENT_BULK_RECORD_EXAMPLE]})

    external_id: SingleLine = Field(min_length=1, max_length=100)


class OrderBulkRecord(BaseModel):
    external_id: SingleLine = Field(min_length=1, max_length=100)
    institution_id: uuid.UUID
    recipient_id: uuid.UUID | None = None
    recipient_external_id: SingleLine | None = Field(
        default=None, max_length=100, description="同一 source_system 的服务对象"
    )
    item_codes: list[SingleLine] = Field(min_length=1, max_length=10)
    window_start: BusinessMoment
    window_end: BusinessMoment
    address: SingleLine | None = Field(default=None, min_length=4, max_length=200)
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    note: MultiLine | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _consistent(self) -> OrderBulkRecord:
        if (self.recipient_id is None) == (self.recipient_external_id is None):
            raise ValueError("须且只能指定 recipient_id 或 recipient_external_id 之一")
        if self.window_end <= self.window_start:
            raise ValueError("时段结束须晚于开始")
        if len(set(self.item_codes)) != len(self.item_codes):
            raise ValueError("项目重复")
        if self.address is not None and self.region_code is None:
            raise ValueError("指定服务地址时须同时指定其县级区划")
        return self


class RecipientBulkRequest(BulkRequest):
    """A batch of recipients; each record is validated on its own as a RecipientBulkRecord."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"source_system": SOURCE_SYSTEM_EXAMPLE, "records": [RECIPIENT_BULK_RECORD_EXAMPLE]}]
        }
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(RecipientBulkRecord)]] = Field(
        min_length=1, max_length=MAX_RECORDS, description=RECORDS_DESCRIPTION
    )


class OrderBulkRequest(BulkRequest):
    """A batch of orders; each record is validated on its own as an OrderBulkRecord."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source_system": SOURCE_SYSTEM_EXAMPLE,
                    "records": [
                        {
                            "external_id": "XM-HL-DD-20261201-0042",
                            # demo_id("institution", "厦门新开元医院")
                            "institution_id": "59ea5c2c-42f5-5c3f-b761-4b01a16af790",
                            "recipient_external_id": "XM-HL-2026-000123",
                            "item_codes": ["HC01", "HC09"],
                            "window_start": "2026-12-02T14:00:00+08:00",
                            "window_end": "2026-12-02T16:00:00+08:00",
                            "note": "老人午睡至 14 点，请准时到达",
                        }
                    ],
                }
            ]
        }
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(OrderBulkRecord)]] = Field(
        min_length=1, max_length=MAX_RECORDS, description=RECORDS_DESCRIPTION
    )


class BulkResult(BaseModel):
    index: int
    external_id: str | None
    outcome: BulkOutcome
    id: uuid.UUID | None = None
    reason: str | None = Field(default=None, description="拒绝原因（稳定代码）")
    detail: str | None = None
    errors: list[FieldError] | None = None


class BulkCounts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


class BulkResponse(BaseModel):
    source_system: str
    counts: BulkCounts
    results: list[BulkResult]
