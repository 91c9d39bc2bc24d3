"""The reports' answers: figures per region with their targets, series, target evaluation, records."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from libs.common.openapi import enum_labels

TargetState = Literal["met", "short", "missing"]
TARGET_STATE_LABELS = {"met": "达标", "short": "未达标", "missing": "无法评价"}
FigureState = Literal["computed", "missing"]
FIGURE_STATE_LABELS = {"computed": "已计算", "missing": "缺失"}
Level = Literal["province", "city", "county"]
LEVEL_LABELS = {"province": "省", "city": "市", "county": "县（区）"}
Part = Literal["numerator", "denominator", "gap"]
PART_LABELS = {"numerator": "分子", "denominator": "分母", "gap": "差距（在分母、不在分子）"}
By = Literal["year", "quarter"]
BY_LABELS = {"year": "按年", "quarter": "按季度"}


class Baseline(BaseModel):
    region_code: str
    year: int
    value: float
    source: str = Field(description="来源文件编号（indicators.md：000/001/002）")
    note: str


class CountyShort(BaseModel):
    region_code: str
    region_name: str
    value: float | None
    short_by: float | None = Field(description="差距；为空表示无法计算（见 reason）")
    reason: str | None = None


class TargetStatus(BaseModel):
    region_code: str = Field(description="目标所属区域")
    each_county: bool = Field(description="是否逐县考核")
    comparison: str = Field(description="gte ≥, gt >, eq =, lte ≤")
    value: float = Field(description="目标值（比率为小数）")
    due_date: date
    source: str
    status: TargetState = Field(json_schema_extra=enum_labels(TARGET_STATE_LABELS))
    short_by: float | None = Field(description="未达标时差多少（整体目标）")
    counties_short: list[CountyShort] = Field(
        default_factory=list, description="逐县目标：未达标或无法评价的县"
    )
    reason: str | None = None


class ReportingCoverage(BaseModel):
    """上报覆盖：由城市平台同步的记录计算的指标（居民健康服务），只统计已上报的县（区）。"""

    records: str = Field(description="上报依据的记录（县（区）在统计期内至少有一条此类记录即为已上报）")
    reporting_counties: int = Field(description="已上报的县（区）数")
    counties: int = Field(description="区域内的县（区）数")
    aged_65_plus_reporting: int | None = Field(
        description="已上报县（区）的65岁及以上常住人口（未导入人口数据为空）"
    )
    aged_65_plus: int | None = Field(description="区域的65岁及以上常住人口（未导入人口数据为空）")
    aged_65_plus_share: float | None = Field(
        description="已上报县（区）的65岁及以上人口占区域的比例（小数；未导入人口数据为空）"
    )


class Figure(BaseModel):
    indicator: str
    name: str
    unit: str = Field(description="rate 比率（小数）, per_10k 每万人口, count 数量")
    numerator_label: str
    denominator_label: str | None
    numerator: int | None
    denominator: int | None
    value: float | None
    status: FigureState = Field(json_schema_extra=enum_labels(FIGURE_STATE_LABELS))
    missing_reason: str | None = None
    median_response_minutes: float | None = Field(
        default=None,
        description="双向转诊：统计期内申请且已接收的转诊，从申请到接收的中位分钟数（无已接收的转诊或其他指标为空）",
    )
    coverage: ReportingCoverage | None = Field(
        default=None,
        description="居民健康服务指标：上报覆盖（分子分母只合计已上报的县（区）；无县（区）上报时数值为空，原因“无上报”）",
    )
    baseline: Baseline | None = None
    targets: list[TargetStatus] = Field(default_factory=list)


class RegionFigures(BaseModel):
    region_code: str
    region_name: str
    level: Level = Field(json_schema_extra=enum_labels(LEVEL_LABELS))
    figures: list[Figure]


class Report(BaseModel):
    period: str
    reference_date: date = Field(description="统计基准日（统计期最后一天，中国标准时间）")
    institution_id: str | None = Field(
        default=None, description="机构用户：只统计本机构的贡献（本机构为一方的记录）"
    )
    region: RegionFigures
    breakdown: list[RegionFigures] = Field(description="下一级区域（省→设区市及平潭，市→县区）")


class SeriesPoint(BaseModel):
    period: str
    reference_date: date
    numerator: int | None
    denominator: int | None
    value: float | None
    status: FigureState = Field(json_schema_extra=enum_labels(FIGURE_STATE_LABELS))
    missing_reason: str | None = None


class Series(BaseModel):
    indicator: str
    name: str
    unit: str
    region_code: str
    region_name: str
    by: By = Field(json_schema_extra=enum_labels(BY_LABELS))
    points: list[SeriesPoint]


class RegionResult(BaseModel):
    region_code: str
    region_name: str
    value: float | None
    status: TargetState = Field(json_schema_extra=enum_labels(TARGET_STATE_LABELS))
    short_by: float | None
    reason: str | None = None


class TargetEvaluation(BaseModel):
    indicator: str
    name: str
    region_code: str
    each_county: bool
    comparison: str
    value: float
    due_date: date
    source: str
    period: str = Field(description="评价所用统计期（截止日期所在年份）")
    met: list[RegionResult]
    short: list[RegionResult]
    missing: list[RegionResult]


class Evaluation(BaseModel):
    due: date | None
    targets: list[TargetEvaluation]


class RecordRow(BaseModel):
    region_code: str
    region_name: str
    kind: str = Field(
        description="institution 机构, pair 签约对, agreement 协议, home_bed 家庭病床, order 订单, county 县"
    )
    source: str = Field(description="记录所在的来源服务（其 id 为该服务中的 id）")
    id: str
    related_id: str | None = Field(description="签约对的养老机构 id")
    name: str
    numerator: int
    denominator: int | None


class RecordPage(BaseModel):
    indicator: str
    part: Part = Field(json_schema_extra=enum_labels(PART_LABELS))
    items: list[RecordRow]
    next_cursor: str | None = Field(description="下一页游标；为空表示没有更多")
    limit: int
