"""The reference tables as the JSON API shows them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from libs.common.openapi import enum_labels
from libs.common.pagination import Page
from services.indicators.reference.catalogue import (
    COMPARISON_SIGNS,
    DATASET_LABELS,
    UNIT_LABELS,
    Comparison,
    Dataset,
    Unit,
)


class SourceCount(BaseModel):
    source: str = Field(description="数据来源（如「福建省统计年鉴2024」或 demo）")
    rows: int = Field(description="该来源的行数")


class VersionRead(BaseModel):
    dataset: Dataset = Field(json_schema_extra=enum_labels(DATASET_LABELS))
    number: int = Field(description="版本号（每次导入加 1）")
    current: bool = Field(description="是否为当前版本（最新一次导入）")
    loaded_at: datetime = Field(description="导入时间")
    loaded_by: str = Field(description="导入人（账号标识）")
    loaded_by_role: str = Field(description="导入人角色")
    filename: str | None = Field(description="导入的文件名")
    row_count: int = Field(description="行数")
    sources: list[SourceCount] = Field(description="来源汇总（按行数从多到少）")


class PopulationRead(BaseModel):
    region_code: str = Field(description="县级行政区划代码（平潭 350128 为市级单位）", examples=["350206"])
    region_name: str = Field(examples=["湖里区"])
    year: int = Field(examples=[2024])
    residents: int = Field(description="常住人口（人）")
    aged_65_plus: int = Field(description="65 岁及以上常住人口（人）")
    source: str = Field(description="数据来源")


class TargetRead(BaseModel):
    indicator: str = Field(description="指标代码（indicators.md）", examples=["agreement_coverage"])
    indicator_name: str = Field(examples=["养老机构签约覆盖率"])
    unit: Unit = Field(
        description=(
            "目标值的单位：rate 为小数表示的比率（0.85 即 85%），per_10k 为每万常住人口，number 为数量"
        ),
        json_schema_extra=enum_labels(UNIT_LABELS),
    )
    region_code: str = Field(description="区域：全省 350000、设区市、平潭 350128 或县", examples=["350000"])
    region_name: str = Field(examples=["福建省"])
    each_county: bool = Field(description="逐县评价：区域内每个县分别达到目标")
    comparison: Comparison = Field(json_schema_extra=enum_labels(COMPARISON_SIGNS))
    value: Decimal = Field(description="目标值（单位见 unit）", examples=["0.85"])
    due_date: date = Field(description="截止日期")
    source: str = Field(description="来源文件（如 indicators.md 的种子文件编号 002）")


class PopulationPage(Page[PopulationRead]):
    version: VersionRead | None = Field(description="所显示的版本；从未导入时为空")


class TargetPage(Page[TargetRead]):
    version: VersionRead | None = Field(description="所显示的版本；从未导入时为空")


class PopulationFilter(BaseModel):
    version: int | None = None
    year: int | None = None
    region: str | None = None


class TargetFilter(BaseModel):
    version: int | None = None
    indicator: str | None = None
    region: str | None = None
    due_on_or_before: date | None = None
