from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from libs.common.text import MultiLine, SingleLine
from services.homecare.catalog.models import RISK_LABELS, Risk


class CatalogItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(examples=["HC01"])
    name: str = Field(examples=["生命体征监测"])
    category: str = Field(examples=["基础护理"])
    description: str | None
    risk: Risk
    needs_medical_order: bool = Field(description="是否需要医嘱")
    needs_specialist_training: bool = Field(description="护士是否需该项目的专科培训")
    required_title: str | None = Field(description="最低护士职称；为空表示通用要求（护师及以上）")
    price_min_yuan: Decimal | None = Field(description="指导价下限（元）；为空表示未定")
    price_max_yuan: Decimal | None = Field(description="指导价上限（元）；为空表示未定")
    source: str | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def risk_label(self) -> str:
        return RISK_LABELS[self.risk]


class CatalogVersionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str = Field(examples=["inferred-1"])
    sequence: int
    source: str
    note: str | None
    published_at: datetime
    item_count: int


class CatalogRead(BaseModel):
    version: CatalogVersionRead
    is_current: bool
    items: list[CatalogItemRead]


class CatalogItemImport(BaseModel):
    """One row of an imported catalog file."""

    code: str = Field(pattern=r"^[A-Za-z0-9_-]{1,20}$")
    name: SingleLine = Field(min_length=1, max_length=100)
    category: SingleLine = Field(min_length=1, max_length=40)
    description: MultiLine | None = Field(default=None, max_length=2000)
    risk: Risk
    needs_medical_order: bool
    needs_specialist_training: bool
    required_title: SingleLine | None = Field(default=None, max_length=20)
    price_min_yuan: Decimal | None = Field(default=None, ge=0, le=100000, decimal_places=2)
    price_max_yuan: Decimal | None = Field(default=None, ge=0, le=100000, decimal_places=2)
    source: SingleLine | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _price_range(self) -> CatalogItemImport:
        if (
            self.price_min_yuan is not None
            and self.price_max_yuan is not None
            and self.price_min_yuan > self.price_max_yuan
        ):
            raise ValueError("指导价下限不能高于上限")
        return self
