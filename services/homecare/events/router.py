"""``GET /events/feed`` (a page of order events after a cursor) and ``GET /events`` (the same events as
server-sent events). Scope: :mod:`.service`; the stream: :mod:`.stream`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Query, Request
from fastapi.responses import StreamingResponse

from libs.common.change_feed import decode_seq_cursor
from libs.common.database import Database, SessionDep
from libs.common.errors import problem_responses
from libs.common.routing import ServiceRouter
from services.homecare.deps import SettingsDep
from services.homecare.events import service, stream
from services.homecare.events.schemas import EventFeedPage
from services.homecare.permissions import EventsRead

router = ServiceRouter(prefix="/api/v1/homecare/events", tags=["homecare-events"])

SCOPE_DOC = (
    "护士（机构人员，带执业人员编号）只收到与本人相关的事件：派给本人、撤回本人派单、改期、取消、完成，"
    "以及本人报警的发出与处理；机构管理员（派单员）收到本机构全部订单事件与报警。"
)
AfterQuery = Annotated[
    str | None, Query(max_length=200, description="上次收到的游标（next_cursor 或事件的 cursor）")
]


@router.get(
    "/feed",
    summary="订单事件（按游标轮询）",
    description=f"{SCOPE_DOC}不带 after 从最早的事件开始；next_cursor 总会返回，没有新事件时不变。",
    operation_id="homecare_order_events_feed",
    response_model=EventFeedPage,
    responses=problem_responses(401, 403, 422),
)
async def feed(
    session: SessionDep,
    principal: EventsRead,
    after: AfterQuery = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> EventFeedPage:
    return await service.page(session, principal, after=decode_seq_cursor(after), limit=limit)


@router.get(
    "",
    summary="订单事件流（server-sent events）",
    description=(
        f"{SCOPE_DOC}以 Last-Event-ID（或 after）续传，不漏不重；都不带时只推送此后的新事件。"
        "先发 event: ready（id 为起点游标），此后每个事件 id 为其游标、event 为类型、data 与 /events/feed "
        "的条目相同；空闲时定时发送注释行心跳；连接在设定时长或令牌到期后结束，客户端应重连。"
    ),
    operation_id="homecare_order_events_stream",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": "事件流"},
        **problem_responses(401, 403, 422),
    },
)
async def events(
    request: Request,
    session: SessionDep,
    principal: EventsRead,
    settings: SettingsDep,
    after: AfterQuery = None,
    last_event_id: Annotated[
        str | None, Header(max_length=200, description="EventSource 重连时自动带上的最后事件 id")
    ] = None,
) -> StreamingResponse:
    cursor = last_event_id or after
    position = decode_seq_cursor(cursor) if cursor else await service.head(session)
    database: Database = request.app.state.database
    return StreamingResponse(
        stream.events(database, principal, settings, after=position),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
