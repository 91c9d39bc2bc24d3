from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Body, Query, Request, Response, status

from libs.common.audit import record_disclosures
from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.idempotency import REPLAY_HEADER
from libs.common.pagination import Page, PageDep
from libs.common.personal_data import PersonalDataCipher
from libs.common.routing import ServiceRouter
from services.homecare.deps import CipherDep, RegistryDep, SettingsDep
from services.homecare.orders import lifecycle, service
from services.homecare.orders.models import OrderStatus
from services.homecare.orders.schemas import (
    AssessBody,
    AssignBody,
    ClientEvent,
    DepartBody,
    FlagReviewBody,
    Located,
    OrderCreate,
    OrderRead,
    OrderSummary,
    RateBody,
    ReasonBody,
)
from services.homecare.permissions import (
    OrdersAssess,
    OrdersCancel,
    OrdersComplete,
    OrdersDecide,
    OrdersIncident,
    OrdersPlace,
    OrdersRate,
    OrdersRead,
    OrdersVisit,
)
from services.homecare.recipients.disclosure import DISCLOSED_FIELDS

router = ServiceRouter(prefix="/api/v1/homecare/orders", tags=["homecare-orders"])

TRANSITION_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428)


async def _answer(
    session: SessionDep, response: Response, cipher: PersonalDataCipher, order_id: uuid.UUID, replayed: bool
) -> OrderRead:
    order = await service.reload(session, order_id)
    set_etag(response, order.version)
    if replayed:
        response.headers[REPLAY_HEADER] = "true"
    return service.to_read(order, cipher, whole=False)


@router.get(
    "",
    summary="订单列表（flagged=true 为待复核的定位异常订单）",
    operation_id="homecare_list_orders",
    response_model=Page[OrderSummary],
    responses=problem_responses(401, 403, 422),
)
async def list_orders(
    session: SessionDep,
    principal: OrdersRead,
    cipher: CipherDep,
    page: PageDep,
    status_: Annotated[OrderStatus | None, Query(alias="status")] = None,
    flagged: Annotated[bool | None, Query(description="true：有未复核的定位标记")] = None,
    institution_id: uuid.UUID | None = None,
    region_code: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    recipient_id: uuid.UUID | None = None,
    home_bed_id: uuid.UUID | None = None,
) -> Page[OrderSummary]:
    rows, next_cursor = await service.list_(
        session,
        principal,
        params=page,
        status=status_,
        flagged=flagged,
        institution_id=institution_id,
        region_code=region_code,
        recipient_id=recipient_id,
        home_bed_id=home_bed_id,
    )
    return Page(
        items=[service.to_summary(o, cipher) for o in rows], next_cursor=next_cursor, limit=page.limit
    )


@router.post(
    "",
    summary="下单（机构为服务对象下单，或城市平台代为下单）",
    operation_id="homecare_place_order",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def place_order(
    session: SessionDep,
    principal: OrdersPlace,
    cipher: CipherDep,
    settings: SettingsDep,
    data: OrderCreate,
    response: Response,
) -> OrderRead:
    order = await service.place(session, principal, cipher, settings, data)
    response.headers["Location"] = f"{router.prefix}/{order.id}"
    return await _answer(session, response, cipher, order.id, False)


@router.get(
    "/{order_id}",
    summary="订单详情（承接机构可见完整地址并留痕）",
    operation_id="homecare_get_order",
    response_model=OrderRead,
    responses=problem_responses(401, 403, 404),
)
async def get_order(
    request: Request,
    session: SessionDep,
    principal: OrdersRead,
    cipher: CipherDep,
    order_id: uuid.UUID,
    response: Response,
) -> OrderRead:
    order = await service.get(session, principal, order_id)
    whole = service.is_provider_user(principal, order)
    if whole:
        await record_disclosures(
            request,
            session,
            principal,
            fields=DISCLOSED_FIELDS,
            entity_type="order",
            entity_ids=[order.id],
            purpose="GET order",
        )
    set_etag(response, order.version)
    return service.to_read(order, cipher, whole=whole)


@router.post(
    "/{order_id}/assess",
    summary="首诊评估（高风险或需医嘱项目须本机构医师评估）",
    operation_id="homecare_assess_order",
    response_model=OrderRead,
    responses=TRANSITION_ERRORS,
)
async def assess_order(
    session: SessionDep,
    principal: OrdersAssess,
    registry: RegistryDep,
    settings: SettingsDep,
    cipher: CipherDep,
    order_id: uuid.UUID,
    body: AssessBody,
    response: Response,
    if_match: IfMatch = None,
) -> OrderRead:
    # ask the registry before the first statement opens the write transaction (no lock across HTTP)
    doctor = await lifecycle.fetch_practitioner(registry, principal.practitioner_id)
    order = await service.get(session, principal, order_id)
    replayed = await lifecycle.assess(session, principal, doctor, settings, order, body, if_match)
    return await _answer(session, response, cipher, order_id, replayed)


@router.post(
    "/{order_id}/accept",
    summary="受理",
    operation_id="homecare_accept_order",
    response_model=OrderRead,
    responses=TRANSITION_ERRORS,
)
async def accept_order(
    session: SessionDep,
    principal: OrdersDecide,
    settings: SettingsDep,
    cipher: CipherDep,
    order_id: uuid.UUID,
    response: Response,
    if_match: IfMatch = None,
) -> OrderRead:
    order = await service.get(session, principal, order_id)
    replayed = await lifecycle.accept(session, principal, settings, order, if_match)
    return await _answer(session, response, cipher, order_id, replayed)


@router.post(
    "/{order_id}/reject",
    summary="拒绝（须说明原因）",
    operation_id="homecare_reject_order",
    response_model=OrderRead,
    responses=TRANSITION_ERRORS,
)
async def reject_order(
    session: SessionDep,
    principal: OrdersDecide,
    cipher: CipherDep,
    order_id: uuid.UUID,
    body: ReasonBody,
    response: Response,
    if_match: IfMatch = None,
) -> OrderRead:
    order = await service.get(session, principal, order_id)
    replayed = await lifecycle.reject(session, principal, order, body, if_match)
    return await _answer(session, response, cipher, order_id, replayed)


@router.post(
    "/{order_id}/assign",
    summary="派单给护士（须具备上门资格且胜任每个项目，时段不得冲突）",
    operation_id="homecare_assign_order",
    response_model=OrderRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428, 502, 504),
)
async def assign_order(
    session: SessionDep,
    principal: OrdersDecide,
    registry: RegistryDep,
    settings: SettingsDep,
    cipher: CipherDep,
    order_id: uuid.UUID,
    body: AssignBody,
    response: Response,
    if_match: IfMatch = None,
) -> OrderRead:
    # ask the registry before the first statement opens the write transaction (no lock across HTTP)
    nurse = await lifecycle.fetch_practitioner(registry, body.nurse_practitioner_id)
    order = await service.get(session, principal, order_id)
    replayed = await lifecycle.assign(session, principal, nurse, settings, order, body, if_match)
    return await _answer(session, response, cipher, order_id, replayed)


def _nurse_step(action: str, summary: str, body_type: type[ClientEvent]) -> None:
    async def endpoint(
        session: SessionDep,
        principal: OrdersVisit,
        settings: SettingsDep,
        cipher: CipherDep,
        order_id: uuid.UUID,
        body: body_type,  # type: ignore[valid-type]
        response: Response,
        if_match: IfMatch = None,
    ) -> OrderRead:
        order = await service.get(session, principal, order_id)
        replayed = await lifecycle.nurse_step(session, principal, settings, order, action, body, if_match)
        return await _answer(session, response, cipher, order_id, replayed)

    endpoint.__annotations__["body"] = body_type  # a real class: the string cannot be resolved later
    endpoint.__name__ = f"{action.replace('-', '_')}_order"
    router.add_api_route(
        f"/{{order_id}}/{action}",
        endpoint,
        methods=["POST"],
        summary=summary,
        operation_id=f"homecare_{action.replace('-', '_')}_order",
        response_model=OrderRead,
        responses=TRANSITION_ERRORS,
    )


_nurse_step("depart", "护士出发（可附定位）", DepartBody)
_nurse_step("check-in", "到达签到（定位、精度、是否模拟定位；异常标记待复核）", Located)
_nurse_step("start", "开始服务", ClientEvent)
_nurse_step("check-out", "服务结束签退（定位）", Located)


@router.post(
    "/{order_id}/locations",
    summary="护士途中或服务中的定位上报（检查模拟定位与移动速度）",
    operation_id="homecare_report_order_location",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OrderRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def report_location(
    session: SessionDep,
    principal: OrdersVisit,
    settings: SettingsDep,
    cipher: CipherDep,
    order_id: uuid.UUID,
    body: Located,
    response: Response,
) -> OrderRead:
    order = await service.get(session, principal, order_id)
    replayed = await lifecycle.report_location(session, principal, settings, order, body)
    return await _answer(session, response, cipher, order_id, replayed)


@router.post(
    "/{order_id}/complete",
    summary="完成（须已有服务记录；费用此时锁定）",
    operation_id="homecare_complete_order",
    response_model=OrderRead,
    responses=TRANSITION_ERRORS,
)
async def complete_order(
    session: SessionDep,
    principal: OrdersComplete,
    settings: SettingsDep,
    cipher: CipherDep,
    order_id: uuid.UUID,
    response: Response,
    body: Annotated[ClientEvent | None, Body()] = None,
    if_match: IfMatch = None,
) -> OrderRead:
    order = await service.get(session, principal, order_id)
    replayed = await lifecycle.complete(session, principal, settings, order, body or ClientEvent(), if_match)
    return await _answer(session, response, cipher, order_id, replayed)


@router.post(
    "/{order_id}/cancel",
    summary="取消（派单前：服务对象一方或机构；护士出发后：仅机构管理员并说明原因）",
    operation_id="homecare_cancel_order",
    response_model=OrderRead,
    responses=TRANSITION_ERRORS,
)
async def cancel_order(
    session: SessionDep,
    principal: OrdersCancel,
    cipher: CipherDep,
    order_id: uuid.UUID,
    response: Response,
    body: Annotated[ReasonBody | None, Body()] = None,
    if_match: IfMatch = None,
) -> OrderRead:
    order = await service.get(session, principal, order_id)
    replayed = await lifecycle.cancel(session, principal, order, body or ReasonBody(), if_match)
    return await _answer(session, response, cipher, order_id, replayed)


@router.post(
    "/{order_id}/incident",
    summary="因意外终止（须描述情况）",
    operation_id="homecare_end_order_by_incident",
    response_model=OrderRead,
    responses=TRANSITION_ERRORS,
)
async def end_by_incident(
    session: SessionDep,
    principal: OrdersIncident,
    settings: SettingsDep,
    cipher: CipherDep,
    order_id: uuid.UUID,
    body: ReasonBody,
    response: Response,
    if_match: IfMatch = None,
) -> OrderRead:
    order = await service.get(session, principal, order_id)
    replayed = await lifecycle.incident(session, principal, settings, order, body, if_match)
    return await _answer(session, response, cipher, order_id, replayed)


@router.post(
    "/{order_id}/rate",
    summary="评价（1–5 分；机构代服务对象或家属，或城市平台）",
    operation_id="homecare_rate_order",
    response_model=OrderRead,
    responses=TRANSITION_ERRORS,
)
async def rate_order(
    session: SessionDep,
    principal: OrdersRate,
    cipher: CipherDep,
    order_id: uuid.UUID,
    body: RateBody,
    response: Response,
    if_match: IfMatch = None,
) -> OrderRead:
    order = await service.get(session, principal, order_id)
    replayed = await lifecycle.rate(session, principal, order, body, if_match)
    return await _answer(session, response, cipher, order_id, replayed)


@router.post(
    "/{order_id}/review-flags",
    summary="复核定位异常标记",
    operation_id="homecare_review_order_flags",
    response_model=OrderRead,
    responses=TRANSITION_ERRORS,
)
async def review_flags(
    session: SessionDep,
    principal: OrdersDecide,
    cipher: CipherDep,
    order_id: uuid.UUID,
    body: FlagReviewBody,
    response: Response,
    if_match: IfMatch = None,
) -> OrderRead:
    order = await service.get(session, principal, order_id)
    replayed = await lifecycle.review_flags(session, principal, order, body, if_match)
    return await _answer(session, response, cipher, order_id, replayed)
