"""The followers' status as ``GET /api/v1/indicators/status`` shows it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class FeedStatus(BaseModel):
    feed: str = Field(description="来源服务（registry、contracts、homecare）", examples=["registry"])
    entity_types: list[str] = Field(description="订阅的实体类型")
    cursor: str | None = Field(description="已应用到的位置（来源的 next_cursor；空表示尚未读取）")
    last_seq: int | None = Field(description="最后应用的变更序号")
    last_changed_at: datetime | None = Field(description="最后应用的变更在来源服务发生的时间")
    entries_applied: int = Field(description="累计读取并应用的变更条数")
    caught_up: bool = Field(description="最近一次成功读取时是否已读到末尾")
    last_success_at: datetime | None = Field(description="最近一次成功读取的时间")
    last_attempt_at: datetime | None = Field(description="最近一次尝试读取的时间")
    last_error_code: str | None = Field(description="最近一次失败的错误码（如 upstream_unavailable）")
    last_error_detail: str | None = Field(description="最近一次失败的说明")
    last_error_at: datetime | None = Field(description="最近一次失败的时间")
    consecutive_failures: int = Field(description="连续失败次数（成功后归零）")
    next_attempt_at: datetime | None = Field(description="失败后计划的下一次重试时间（退避）")
    lag_seconds: float | None = Field(
        description=(
            "滞后秒数：已读到末尾时为距最近一次成功读取的时间，否则为距最后应用的变更发生的时间；"
            "从未成功读取时为空"
        )
    )
    lag_entries: int | None = Field(
        description="尚未应用的变更条数：已读到末尾时为 0；来源不提供剩余条数，未读到末尾时为空"
    )


class IndicatorsStatus(BaseModel):
    checked_at: datetime
    feeds: list[FeedStatus]
