"""City-platform bulk records of homecare. The envelope and the answer are the platform's one bulk protocol
(:mod:`libs.common.bulk`); a record is the single write's body plus its key, so it is checked by the same
rule: a recipient record is a :class:`RecipientCreate`, an order record the :class:`OrderFields` of
``POST /orders`` with the recipient named by id or by the platform's own external id."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import ConfigDict, Field, model_validator
from pydantic.config import JsonDict

from libs.common.bulk import BulkRequest, records_field
from libs.common.openapi import DocumentedAs
from libs.common.text import SingleLine
from services.homecare.orders.schemas import OrderFields
from services.homecare.recipients.schemas import RECIPIENT_EXAMPLE, RecipientCreate

SOURCE_SYSTEM_EXAMPLE = "xm-ijiankang"
RECIPIENT_BULK_RECORD_EXAMPLE: JsonDict = {**RECIPIENT_EXAMPLE, "external_id": "XM-HL-2026-000123"}
ORDER_BULK_RECORD_EXAMPLE: JsonDict = {
    "external_id": "XM-HL-DD-20261201-0042",
    # demo_id("institution", "厦门新开元医院")
    "institution_id": "59ea5c2c-42f5-5c3f-b761-4b01a16af790",
    "recipient_external_id": "XM-HL-2026-000123",
    "item_codes": ["HC01", "HC09"],
    "window_start": "2026-12-02T14:00:00+08:00",
    "window_end": "2026-12-02T16:00:00+08:00",
    "note": "老人午睡至 14 点，请准时到达",
}


class RecipientBulkRecord(RecipientCreate):
    """The body of ``POST /recipients`` plus the platform's key."""

    model_config = ConfigDict(json_schema_extra={"examples": [RECIPIENT_BULK_RECORD_EXAMPLE]})

    external_id: SingleLine = Field(min_length=1, max_length=100)


class OrderBulkRecord(OrderFields):
    """The body of ``POST /orders`` plus the platform's key; the recipient by id or by external id."""

    model_config = ConfigDict(json_schema_extra={"examples": [ORDER_BULK_RECORD_EXAMPLE]})

    external_id: SingleLine = Field(min_length=1, max_length=100)
    recipient_id: uuid.UUID | None = None
    recipient_external_id: SingleLine | None = Field(
        default=None, max_length=100, description="同一 source_system 的服务对象"
    )

    @model_validator(mode="after")
    def _one_recipient(self) -> OrderBulkRecord:
        if (self.recipient_id is None) == (self.recipient_external_id is None):
            raise ValueError("须且只能指定 recipient_id 或 recipient_external_id 之一")
        return self


class RecipientBulkRequest(BulkRequest):
    """A batch of recipients; each record is validated on its own as a RecipientBulkRecord."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"source_system": SOURCE_SYSTEM_EXAMPLE, "records": [RECIPIENT_BULK_RECORD_EXAMPLE]}]
        },
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(RecipientBulkRecord)]] = records_field(
        RecipientBulkRecord
    )


class OrderBulkRequest(BulkRequest):
    """A batch of orders; each record is validated on its own as an OrderBulkRecord."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"source_system": SOURCE_SYSTEM_EXAMPLE, "records": [ORDER_BULK_RECORD_EXAMPLE]}]
        },
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(OrderBulkRecord)]] = records_field(OrderBulkRecord)
