from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from libs.common.money import Amount


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
