from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from libs.common.bulk import BulkRequest, records_field
from libs.common.money import Amount
from libs.common.openapi import DocumentedAs


class ProviderUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"visit_fee_yuan": 50}]})

    visit_fee_yuan: Amount = Field(ge=0, le=10000, decimal_places=2, description="上门服务费（元/次）")


class ProviderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    institution_id: uuid.UUID
    institution_name: str
    region_code: str
    visit_fee_yuan: Decimal
    home_bed_service: bool
    version: int
    updated_at: datetime


class ProviderItemUpdate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"price_yuan": 60, "enabled": True}]})

    price_yuan: Amount = Field(ge=0, le=100000, decimal_places=2, description="本机构价格（元）")
    enabled: bool = True


class ProviderItemRead(BaseModel):
    item_code: str
    item_name: str | None = Field(description="当前目录中的名称；为空表示当前目录已无此项目")
    price_yuan: Decimal
    enabled: bool
    orderable: bool = Field(description="已开通且在当前目录中")
    version: int


class ProviderDetail(ProviderRead):
    items: list[ProviderItemRead]


# ------------------------------------------------------------------------------------------- bulk

#: 厦门新开元医院 of the demo data (``demo_id("institution", "厦门新开元医院")``)
_PROVIDER_ID = "59ea5c2c-42f5-5c3f-b761-4b01a16af790"
PROVIDER_BULK_RECORD_EXAMPLE: JsonDict = {
    "external_id": "XM-HL-JG-0001",
    "institution_id": _PROVIDER_ID,
    "visit_fee_yuan": 50,
    "items": [
        {"item_code": "HC01", "price_yuan": 60},
        {"item_code": "HC05", "price_yuan": 50, "enabled": True},
    ],
}


class ProviderBulkItem(ProviderItemUpdate):
    """``PUT /providers/{institution_id}/items/{item_code}`` as one item of a record."""

    item_code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,20}$", description="当前目录中的项目编码")


class ProviderBulkRecord(ProviderUpdate):
    """``PUT /providers/{institution_id}`` and its items' PUTs as one record; items not named are left as
    they are."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [PROVIDER_BULK_RECORD_EXAMPLE]})

    external_id: str = Field(min_length=1, max_length=100)
    institution_id: uuid.UUID
    items: list[ProviderBulkItem] = Field(default_factory=list, max_length=100)


class ProviderBulkRequest(BulkRequest):
    """A batch of provider settings; each record is validated on its own as a ProviderBulkRecord."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"source_system": "xm-ijiankang", "records": [PROVIDER_BULK_RECORD_EXAMPLE]}]
        },
    )

    records: list[Annotated[dict[str, Any], DocumentedAs(ProviderBulkRecord)]] = records_field(
        ProviderBulkRecord
    )
