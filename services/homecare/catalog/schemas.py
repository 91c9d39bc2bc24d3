from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from libs.common.openapi import enum_labels
from libs.common.text import MultiLine, SingleLine
from services.homecare.catalog.models import RISK_LABELS, Risk
from services.homecare.catalog.templates import STATUS_LABELS, TemplatePart, VersionStatus


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


class ItemTemplateRead(BaseModel):
    """What a visit record of one catalog item requires: the base every item has and the item's own."""

    item_code: str = Field(examples=["HC20"])
    version: str = Field(examples=["tpl-1"], description="模板版本；提交服务记录时以 template_version 回传")
    status: VersionStatus = Field(
        description="current 当前版本；active 仍可使用的旧版本；retired 已停用（不再接受）",
        json_schema_extra=enum_labels(STATUS_LABELS),
    )
    base: TemplatePart = Field(description="所有项目共有的字段")
    item: TemplatePart = Field(description="该项目的字段、照片数与签名要求")


class TemplatesRead(BaseModel):
    """One template version whole (the nurse app's offline cache)."""

    version: str
    status: VersionStatus = Field(json_schema_extra=enum_labels(STATUS_LABELS))
    published_date: str
    source: str
    base: TemplatePart
    items: dict[str, TemplatePart] = Field(description="按目录项目编码")
    versions: list[str] = Field(description="全部模板版本（含已停用）")
