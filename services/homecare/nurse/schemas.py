"""The nurse's day bundle: what her visits of today and tomorrow need, offline (issue 18)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from libs.common.openapi import enum_labels
from services.homecare.catalog.models import Risk
from services.homecare.catalog.templates import TemplatePart
from services.homecare.orders.models import OrderStatus


class BundleCatalogItem(BaseModel):
    """A catalog item of the bundle's orders as its catalog version describes it (its record template is
    in the bundle's ``record_templates``)."""

    catalog_version_code: str
    code: str
    name: str
    category: str | None
    description: str | None
    risk: Risk
    needs_medical_order: bool
    needs_specialist_training: bool
    required_title: str | None


class BundleOrder(BaseModel):
    id: uuid.UUID
    status: OrderStatus
    version: int = Field(description="订单版本（离线操作的 If-Match）")
    window_start: datetime
    window_end: datetime
    catalog_version_code: str
    item_codes: list[str]
    address: str = Field(description="服务地址（完整）")
    latitude: float
    longitude: float
    flagged: bool


class BundlePerson(BaseModel):
    recipient_id: uuid.UUID
    name: str = Field(description="服务对象姓名（完整，仅派单护士可见，查看留痕）")
    phone: str | None
    home_address: str


#: where the bundle's disability level comes from (issue 19)
DISABILITY_SOURCE_LABELS = {"assessment": "能力评估", "declared": "登记（未评估）"}


class BundleAssessment(BaseModel):
    """The person's latest 老年人能力评估 (residents), whose level is the current disability level."""

    id: uuid.UUID
    assessed_date: date
    level: int = Field(description="能力等级 0–4")
    level_label: str
    scale_version: str = Field(description="评估所用的指标与分级版本")


class BundleNotes(BaseModel):
    """What the nurse should know before she rings the bell."""

    disability_level: int = Field(
        description="当前失能等级（0–4）：居民最近一次能力评估的等级；从未评估时为登记的等级"
    )
    disability_label: str
    disability_source: Literal["assessment", "declared"] = Field(
        description="失能等级的来源：assessment 能力评估，declared 登记（从未评估）",
        json_schema_extra=enum_labels(DISABILITY_SOURCE_LABELS),
    )
    disability_source_label: str = Field(description="来源的中文名：能力评估 / 登记（未评估）")
    assessment: BundleAssessment | None = Field(description="最近一次能力评估（从未评估为空）")
    dementia: bool
    chronic_diseases: list[str]
    order_note: str | None = Field(description="下单时的备注")


class BundleAssignment(BaseModel):
    order: BundleOrder
    person: BundlePerson
    notes: BundleNotes


class NurseBundle(BaseModel):
    nurse_practitioner_id: uuid.UUID
    from_date: date = Field(description="起始日（Asia/Shanghai）")
    to_date: date = Field(description="截止日（含）")
    events_cursor: str = Field(description="订单事件流的起点游标（GET /events 的 Last-Event-ID 或 after）")
    assignments: list[BundleAssignment]
    catalog_items: list[BundleCatalogItem] = Field(description="这些订单用到的服务项目")
    record_templates: BundleTemplates = Field(description="这些项目的服务记录模板（当前版本）")


class BundleTemplates(BaseModel):
    """The current record template version's base and the templates of the bundle's items (the visit form
    of each order; a record names ``version`` as its ``template_version``)."""

    version: str = Field(examples=["tpl-1"])
    base: TemplatePart
    items: dict[str, TemplatePart] = Field(description="按目录项目编码")
