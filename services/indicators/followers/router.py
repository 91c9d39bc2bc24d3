"""``GET /api/v1/indicators/status``: how fresh the read model is, per followed feed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from libs.common.clock import now
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.routing import ServiceRouter
from services.indicators.facts.apply import FACTS
from services.indicators.followers.models import FeedCursor
from services.indicators.followers.schemas import FeedStatus, IndicatorsStatus
from services.indicators.permissions import StatusRead

router = ServiceRouter(prefix="/api/v1/indicators", tags=["indicators-status"])


def _lag_seconds(row: FeedCursor | None, moment: datetime) -> float | None:
    if row is None or row.last_success_at is None:
        return None
    since = row.last_success_at if row.caught_up or row.last_changed_at is None else row.last_changed_at
    return max(0.0, (moment - since).total_seconds())


def feed_status(feed: str, row: FeedCursor | None, moment: datetime) -> FeedStatus:
    return FeedStatus(
        feed=feed,
        entity_types=[fact.entity_type for fact in FACTS[feed]],
        cursor=row.cursor if row else None,
        last_seq=row.last_seq if row else None,
        last_changed_at=row.last_changed_at if row else None,
        entries_applied=row.entries_applied if row else 0,
        caught_up=row.caught_up if row else False,
        last_success_at=row.last_success_at if row else None,
        last_attempt_at=row.last_attempt_at if row else None,
        last_error_code=row.last_error_code if row else None,
        last_error_detail=row.last_error_detail if row else None,
        last_error_at=row.last_error_at if row else None,
        consecutive_failures=row.consecutive_failures if row else 0,
        next_attempt_at=row.next_attempt_at if row else None,
        lag_seconds=_lag_seconds(row, moment),
        lag_entries=0 if row is not None and row.caught_up else None,
    )


@router.get(
    "/status",
    summary="数据同步状态（各来源的订阅进度与滞后）",
    description="各来源服务（registry、contracts、homecare）变更订阅的位置、最近成功与失败、滞后时间。",
    operation_id="indicators_status",
    response_model=IndicatorsStatus,
    responses=problem_responses(401, 403),
)
async def status(session: SessionDep, _principal: StatusRead) -> IndicatorsStatus:
    rows = {row.feed: row for row in (await session.scalars(select(FeedCursor))).all()}
    moment = now()
    return IndicatorsStatus(
        checked_at=moment, feeds=[feed_status(feed, rows.get(feed), moment) for feed in FACTS]
    )
