from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.audit import record_disclosures
from libs.common.auth import Principal
from libs.common.concurrency import set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.idempotency import REPLAY_HEADER
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.person_index import PersonIndex
from libs.common.personal_data import PersonalDataCipher
from libs.common.routing import ServiceRouter
from libs.common.row_pages import page_response
from libs.common.transitions import Perform, Transition, TransitionTable, Versioned, add_transition_routes
from services.homecare.clients.registry import FetchedPractitioner, RegistryClient, fetch_practitioner
from services.homecare.clients.residents import ResidentsClient, get_residents
from services.homecare.deps import CipherDep, RegistryDep, SettingsDep
from services.homecare.orders import lifecycle, listing, service
from services.homecare.orders.models import Order, OrderStatus
from services.homecare.orders.schemas import (
    AssessBody,
    AssignBody,
    CheckInBody,
    ClientEvent,
    DepartBody,
    FlagReviewBody,
    Located,
    OrderCreate,
    OrderRead,
    OrderSummary,
    RateBody,
    ReasonBody,
    RescheduleBody,
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
from services.homecare.recipients.identity import identity
from services.homecare.recipients.models import Recipient
from services.homecare.settings import HomecareSettings

router = ServiceRouter(prefix="/api/v1/homecare/orders", tags=["homecare-orders"])

VisibleOrder = Annotated[Order, Depends(load_visible(service.get, permission=OrdersRead, id_name="order_id"))]
VisitedOrder = Annotated[
    Order, Depends(load_visible(service.get, permission=OrdersVisit, id_name="order_id"))
]


def _index(request: Request) -> PersonIndex | None:
    index: PersonIndex | None = getattr(request.app.state, "person_index", None)
    return index


async def _birth_date(step: OrderStep, principal: Principal, recipient: Recipient) -> date | None:
    """The recipient's birth date for the 高龄 rule: the person index's (503 when it cannot be reached)."""
    if recipient.person_id is None:
        return recipient.birth_date
    person = await identity(step.index, step.cipher, recipient, principal=principal, purpose="assess order")
    return person.birth_date


async def _masked(
    index: PersonIndex | None, cipher: PersonalDataCipher, principal: Principal, order: Order, purpose: str
) -> OrderRead:
    names = await service.recipient_names(index, cipher, [order], principal=principal, purpose=purpose)
    return service.to_read(order, cipher, whole=False, name=names.get(order.recipient_id))


async def _answer(
    request: Request,
    session: SessionDep,
    response: Response,
    cipher: PersonalDataCipher,
    principal: Principal,
    order_id: uuid.UUID,
    replayed: bool,
) -> OrderRead:
    order = await service.reload(session, order_id)
    set_etag(response, order.version)
    if replayed:
        response.headers[REPLAY_HEADER] = "true"
    return await _masked(_index(request), cipher, principal, order, f"{request.method} order")


@router.get(
    "",
    summary="订单列表（flagged=true 为待复核的定位异常订单）",
    operation_id="homecare_list_orders",
    response_model=Page[OrderSummary],
    responses=problem_responses(401, 403, 422),
)
async def list_orders(
    request: Request,
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
) -> Response:
    # Straight from the rows to the page's bytes (libs/common/row_pages.py): the JSON of
    # Page[OrderSummary], documented by response_model. No personal data beyond the masked name.
    rows, next_cursor = await listing.list_rows(
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
    context = await listing.context(_index(request), cipher, rows, principal=principal, purpose="GET orders")
    return page_response(listing.LIST_SHAPE.items(rows, context), next_cursor=next_cursor, limit=page.limit)


@router.post(
    "",
    summary="下单（机构为服务对象下单，或城市平台代为下单）",
    operation_id="homecare_place_order",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderRead,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def place_order(
    request: Request,
    session: SessionDep,
    principal: OrdersPlace,
    cipher: CipherDep,
    settings: SettingsDep,
    data: OrderCreate,
    response: Response,
) -> OrderRead:
    order = await service.place(session, principal, cipher, settings, data, index=_index(request))
    response.headers["Location"] = f"{router.prefix}/{order.id}"
    return await _answer(request, session, response, cipher, principal, order.id, False)


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
    order: VisibleOrder,
    response: Response,
) -> OrderRead:
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
    names = await service.recipient_names(
        _index(request), cipher, [order], principal=principal, purpose="GET order"
    )
    return service.to_read(order, cipher, whole=whole, name=names.get(order.recipient_id))


@router.post(
    "/{order_id}/locations",
    summary="护士途中或服务中的定位上报（检查模拟定位与移动速度）",
    operation_id="homecare_report_order_location",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=OrderRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def report_location(
    request: Request,
    session: SessionDep,
    principal: OrdersVisit,
    settings: SettingsDep,
    cipher: CipherDep,
    order: VisitedOrder,
    body: Located,
    response: Response,
) -> OrderRead:
    replayed = await lifecycle.report_location(session, principal, settings, order, body)
    return await _answer(request, session, response, cipher, principal, order.id, replayed)


@dataclass(frozen=True, slots=True)
class OrderStep:
    session: AsyncSession
    order_id: uuid.UUID
    registry: RegistryClient
    settings: HomecareSettings
    cipher: PersonalDataCipher
    response: Response
    residents: ResidentsClient
    index: PersonIndex | None


async def order_step(
    request: Request,
    session: SessionDep,
    order_id: uuid.UUID,
    registry: RegistryDep,
    settings: SettingsDep,
    cipher: CipherDep,
    response: Response,
    residents: Annotated[ResidentsClient, Depends(get_residents)],
) -> OrderStep:
    return OrderStep(session, order_id, registry, settings, cipher, response, residents, _index(request))


Run = Callable[[OrderStep, Principal, Order, Any, str | None], Awaitable[bool]]


def _step(run: Run) -> Perform[OrderStep]:
    """Load the order in scope (404), run the lifecycle step (If-Match, state, rules); a replayed client
    event answers the current order with the replay header."""

    async def perform(step: OrderStep, principal: Principal, body: Any, if_match: str | None) -> Order:
        order = await service.get(step.session, principal, step.order_id)
        if await run(step, principal, order, body, if_match):
            step.response.headers[REPLAY_HEADER] = "true"
        return await service.reload(step.session, step.order_id)

    return perform


Fetch = Callable[[RegistryClient, Principal, Any], Awaitable[FetchedPractitioner]]
RunWith = Callable[[OrderStep, Principal, Order, Any, str | None, FetchedPractitioner], Awaitable[bool]]


def _registry_first(fetch: Fetch, run: RunWith) -> Perform[OrderStep]:
    """:func:`_step` for a step that needs a practitioner from the registry: ask it before the session's
    first statement opens the write transaction, so no write lock is held across the HTTP call."""

    async def perform(step: OrderStep, principal: Principal, body: Any, if_match: str | None) -> Versioned:
        fetched = await fetch(step.registry, principal, body)
        return await _step(lambda s, p, order, b, m: run(s, p, order, b, m, fetched))(
            step, principal, body, if_match
        )

    return perform


def _nurse_step(action: str, summary: str, body: type[ClientEvent]) -> Transition[OrderStep]:
    return Transition(
        action,
        OrdersVisit,
        _step(lambda s, p, order, b, m: lifecycle.nurse_step(s.session, p, s.settings, order, action, b, m)),
        summary=summary,
        operation_id=f"homecare_{action.replace('-', '_')}_order",
        body=body,
    )


TRANSITIONS = TransitionTable(
    prefix="/{order_id}",
    context=order_step,
    present=lambda step, principal, order: _masked(
        step.index, step.cipher, principal, order, f"POST order {step.order_id}"
    ),
    response_model=OrderRead,
    rows=(
        Transition(
            "assess",
            OrdersAssess,
            _registry_first(
                lambda registry, p, _: fetch_practitioner(registry, p.practitioner_id),
                lambda s, p, order, b, m, doctor: lifecycle.assess(
                    s.session,
                    p,
                    doctor,
                    s.settings,
                    order,
                    b,
                    m,
                    disability_of=lambda r: lifecycle.recipient_disability(s.residents, s.cipher, r),
                    birth_date_of=lambda r: _birth_date(s, p, r),
                ),
            ),
            summary="首诊评估（高风险或需医嘱项目须本机构医师评估）",
            description=(
                "服务人群为“失能、失智、行动不便者”时，失能按居民服务中该老人最近一次能力评估"
                "（等级 ≥ 1 为失能）判断；从未评估的老人才按登记的 disability_level"
                "（已被评估取代，仅作兜底）。"
                "所用依据（评估编号与日期，或 declared）记入订单事件。居民服务不可用时返回 503 "
                "residents_unavailable。"
            ),
            operation_id="homecare_assess_order",
            body=AssessBody,
            responses=problem_responses(401, 403, 404, 409, 412, 422, 428, 502, 503, 504),
        ),
        Transition(
            "accept",
            OrdersDecide,
            _step(lambda s, p, order, _, m: lifecycle.accept(s.session, p, s.settings, order, m)),
            summary="受理",
            operation_id="homecare_accept_order",
        ),
        Transition(
            "reject",
            OrdersDecide,
            _step(lambda s, p, order, b, m: lifecycle.reject(s.session, p, order, b, m)),
            summary="拒绝（须说明原因）",
            operation_id="homecare_reject_order",
            body=ReasonBody,
        ),
        Transition(
            "assign",
            OrdersDecide,
            _registry_first(
                lambda registry, _, b: fetch_practitioner(registry, b.nurse_practitioner_id),
                lambda s, p, order, b, m, nurse: lifecycle.assign(
                    s.session, p, nurse, s.settings, order, b, m
                ),
            ),
            summary="派单给护士（须具备上门资格且胜任每个项目，时段不得冲突）",
            operation_id="homecare_assign_order",
            body=AssignBody,
            responses=problem_responses(401, 403, 404, 409, 412, 422, 428, 502, 504),
        ),
        Transition(
            "unassign",
            OrdersDecide,
            _step(lambda s, p, order, b, m: lifecycle.unassign(s.session, p, order, b or ReasonBody(), m)),
            summary="撤回派单（护士出发前；订单回到已受理，护士收到通知）",
            operation_id="homecare_unassign_order",
            body=ReasonBody,
            body_required=False,
        ),
        Transition(
            "reschedule",
            OrdersDecide,
            _step(lambda s, p, order, b, m: lifecycle.reschedule(s.session, p, s.settings, order, b, m)),
            summary="改期（护士出发前调整期望上门时段；已派单时护士时段不得冲突）",
            operation_id="homecare_reschedule_order",
            body=RescheduleBody,
        ),
        _nurse_step("depart", "护士出发（可附定位）", DepartBody),
        Transition(
            "check-in",
            OrdersVisit,
            _step(
                lambda s, p, order, b, m: lifecycle.check_in(
                    s.session, p, s.settings, s.residents, s.cipher, order, b, m
                )
            ),
            summary="到达签到（定位、精度、是否模拟定位；服务对象身份核验；异常标记待复核）",
            description=(
                "identity 可为身份证号末几位（id_suffix，由居民服务比对，整号不传输）"
                "或老人核验码（elder_code）。"
                "不符标记 identity_mismatch，居民服务无应答标记 identity_unverified，均不阻止签到；"
                "未核验时仅在 HOMECARE_IDENTITY_PROOF_REQUIRED 为真时标记 identity_unchecked。"
                "末几位位数不符 422 identity_suffix_invalid。"
            ),
            operation_id="homecare_check_in_order",
            body=CheckInBody,
        ),
        _nurse_step("start", "开始服务", ClientEvent),
        _nurse_step("check-out", "服务结束签退（定位）", Located),
        Transition(
            "complete",
            OrdersComplete,
            _step(
                lambda s, p, order, b, m: lifecycle.complete(
                    s.session, p, s.settings, order, b or ClientEvent(), m
                )
            ),
            summary="完成（须已有服务记录；费用此时锁定）",
            operation_id="homecare_complete_order",
            body=ClientEvent,
            body_required=False,
        ),
        Transition(
            "cancel",
            OrdersCancel,
            _step(lambda s, p, order, b, m: lifecycle.cancel(s.session, p, order, b or ReasonBody(), m)),
            summary="取消（派单前：服务对象一方或机构；护士出发后：仅机构管理员并说明原因）",
            operation_id="homecare_cancel_order",
            body=ReasonBody,
            body_required=False,
        ),
        Transition(
            "incident",
            OrdersIncident,
            _step(lambda s, p, order, b, m: lifecycle.incident(s.session, p, s.settings, order, b, m)),
            summary="因意外终止（须描述情况）",
            operation_id="homecare_end_order_by_incident",
            body=ReasonBody,
        ),
        Transition(
            "rate",
            OrdersRate,
            _step(lambda s, p, order, b, m: lifecycle.rate(s.session, p, order, b, m)),
            summary="评价（1–5 分；机构代服务对象或家属，或城市平台）",
            operation_id="homecare_rate_order",
            body=RateBody,
        ),
        Transition(
            "review-flags",
            OrdersDecide,
            _step(lambda s, p, order, b, m: lifecycle.review_flags(s.session, p, order, b, m)),
            summary="复核定位异常标记",
            operation_id="homecare_review_order_flags",
            body=FlagReviewBody,
        ),
    ),
)
add_transition_routes(router, TRANSITIONS)
