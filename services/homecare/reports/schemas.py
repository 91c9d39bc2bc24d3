from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, Field


class GroupBy(StrEnum):
    provider = "provider"
    region = "region"


GROUP_BY_LABELS = {GroupBy.provider: "按服务机构", GroupBy.region: "按县（市、区）"}


class OrderGroupBy(StrEnum):
    provider = "provider"
    region = "region"
    item = "item"
    status = "status"


ORDER_GROUP_BY_LABELS = {
    OrderGroupBy.provider: "按服务机构",
    OrderGroupBy.region: "按县（市、区）",
    OrderGroupBy.item: "按服务项目",
    OrderGroupBy.status: "按订单状态",
}


class Period(BaseModel):
    from_date: date | None
    to_date: date | None


class SatisfactionRow(BaseModel):
    key: str = Field(description="机构 ID 或县级区划代码")
    label: str | None
    ratings: int
    satisfied: int = Field(description="评分 ≥ 4 的评价数")
    satisfied_pct: Decimal
    meets_bar: bool = Field(description="是否达到满意度标准（默认 95%）")


class SatisfactionReport(BaseModel):
    period: Period
    bar_pct: int
    rows: list[SatisfactionRow]


class ResponseTimeRow(BaseModel):
    key: str
    label: str | None
    orders: int
    avg_minutes: Decimal | None
    median_minutes: Decimal | None


class ResponseTimeReport(BaseModel):
    period: Period
    rows: list[ResponseTimeRow]


class CountRow(BaseModel):
    key: str
    label: str | None
    count: int


class CountReport(BaseModel):
    period: Period
    group_by: str
    rows: list[CountRow]


class ComplaintRow(BaseModel):
    key: str
    label: str | None
    open: int
    resolved: int


class ComplaintReport(BaseModel):
    period: Period
    rows: list[ComplaintRow]


class HomeBedRow(BaseModel):
    key: str
    label: str | None
    open_now: int = Field(description="当前在床数")
    opened: int = Field(description="期间建床数")
    closed: int = Field(description="期间撤床数")
    overdue: int = Field(description="周期已满未再评估或撤床")


class HomeBedReport(BaseModel):
    period: Period
    rows: list[HomeBedRow]
