from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response

from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.idempotency import REPLAY_HEADER
from libs.common.loading import load_visible
from libs.common.routing import ServiceRouter
from services.homecare.deps import CipherDep, SettingsDep, TemplatesDep
from services.homecare.orders import service as orders
from services.homecare.orders.models import Order
from services.homecare.orders.visits import service
from services.homecare.orders.visits.schemas import Assignment, VisitRecordRead, VisitRecordWrite
from services.homecare.permissions import AssignmentsRead, OrdersRead, OrdersVisit

router = ServiceRouter(prefix="/api/v1/homecare", tags=["homecare-visits"])

VisibleOrder = Annotated[Order, Depends(load_visible(orders.get, permission=OrdersRead, id_name="order_id"))]
VisitedOrder = Annotated[Order, Depends(load_visible(orders.get, permission=OrdersVisit, id_name="order_id"))]


@router.post(
    "/orders/{order_id}/visit-record",
    summary="提交或更新服务记录（护士端，可离线重试：同一 record_id 不会重复）",
    description=(
        "新记录返回 201；同一记录重发（client_updated_at 相同）返回 200 且不改变；更新的版本返回 200；"
        "旧于已存版本返回 409 stale_visit_record（extra.current 为当前状态）；If-Match 不符返回 412。"
        "记录按所做项目的服务记录模板（template_version，默认当前版本）校验：不符返回 422 "
        "record_template_violation（errors 逐字段说明），版本不存在或已停用返回 422 record_template_unknown。"
    ),
    operation_id="homecare_submit_visit_record",
    status_code=201,
    response_model=VisitRecordRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
async def submit_visit_record(
    session: SessionDep,
    principal: OrdersVisit,
    order: VisitedOrder,
    data: VisitRecordWrite,
    response: Response,
    settings: SettingsDep,
    templates: TemplatesDep,
    if_match: IfMatch = None,
) -> VisitRecordRead:
    record, outcome = await service.submit(
        session,
        principal,
        order,
        data,
        if_match,
        templates=templates,
        template_enforced=settings.record_template_enforced,
    )
    if outcome != "created":
        response.status_code = 200
    if outcome == "unchanged":
        response.headers[REPLAY_HEADER] = "true"
    set_etag(response, record.version)
    return service.to_read(record)


@router.get(
    "/orders/{order_id}/visit-record",
    summary="订单的服务记录",
    operation_id="homecare_get_visit_record",
    response_model=VisitRecordRead,
    responses=problem_responses(401, 403, 404),
)
async def get_visit_record(
    session: SessionDep, principal: OrdersRead, order: VisibleOrder, response: Response
) -> VisitRecordRead:
    record = await service.get(session, order)
    set_etag(response, record.version)
    return service.to_read(record)


@router.get(
    "/my/assignments",
    summary="我的派单（护士端：今天起 N 天，精简、脱敏）",
    operation_id="homecare_my_assignments",
    response_model=list[Assignment],
    responses=problem_responses(401, 403, 422),
)
async def my_assignments(
    request: Request,
    session: SessionDep,
    principal: AssignmentsRead,
    cipher: CipherDep,
    days: Annotated[int, Query(ge=1, le=14, description="从今天起的天数")] = 2,
) -> list[Assignment]:
    index = getattr(request.app.state, "person_index", None)
    return await service.my_assignments(session, principal, cipher, days=days, index=index)
