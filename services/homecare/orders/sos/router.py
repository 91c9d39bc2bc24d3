from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Response

from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.idempotency import REPLAY_HEADER
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from services.homecare.orders import service as orders
from services.homecare.orders.models import Order
from services.homecare.orders.sos import service
from services.homecare.orders.sos.models import SosAlert
from services.homecare.orders.sos.schemas import SosRaise, SosRead, SosResolve
from services.homecare.permissions import SosRaise as SosRaiser
from services.homecare.permissions import SosRead as SosReader
from services.homecare.permissions import SosResolve as SosResolver

router = ServiceRouter(prefix="/api/v1/homecare", tags=["homecare-sos"])

AlertedOrder = Annotated[Order, Depends(load_visible(orders.get, permission=SosRaiser, id_name="order_id"))]
ResolvableAlert = Annotated[
    SosAlert, Depends(load_visible(service.get, permission=SosResolver, id_name="alert_id"))
]


@router.post(
    "/orders/{order_id}/sos",
    summary="一键报警（护士端；立即记录，机构管理员可见）",
    operation_id="homecare_raise_sos",
    status_code=201,
    response_model=SosRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def raise_sos(
    session: SessionDep, principal: SosRaiser, order: AlertedOrder, data: SosRaise, response: Response
) -> SosRead:
    alert, created = await service.raise_(session, principal, order, data)
    if not created:
        response.status_code = 200
        response.headers[REPLAY_HEADER] = "true"
    set_etag(response, alert.version)
    return SosRead.model_validate(alert)


@router.get(
    "/sos",
    summary="报警列表（open=true 为未处理）",
    operation_id="homecare_list_sos",
    response_model=Page[SosRead],
    responses=problem_responses(401, 403, 422),
)
async def list_sos(
    session: SessionDep,
    principal: SosReader,
    page: PageDep,
    open_: Annotated[bool | None, Query(alias="open")] = None,
) -> Page[SosRead]:
    rows, next_cursor = await service.list_(session, principal, params=page, open_only=open_)
    return Page(items=[SosRead.model_validate(r) for r in rows], next_cursor=next_cursor, limit=page.limit)


@router.post(
    "/sos/{alert_id}/resolve",
    summary="处理报警",
    operation_id="homecare_resolve_sos",
    response_model=SosRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
async def resolve_sos(
    session: SessionDep,
    principal: SosResolver,
    alert: ResolvableAlert,
    data: SosResolve,
    response: Response,
    if_match: IfMatch = None,
) -> SosRead:
    alert = await service.resolve(session, principal, alert, data, if_match)
    set_etag(response, alert.version)
    return SosRead.model_validate(alert)
