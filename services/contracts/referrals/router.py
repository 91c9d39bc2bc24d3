from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.audit import record_disclosures
from libs.common.auth import Principal
from libs.common.concurrency import set_etag
from libs.common.database import SessionDep
from libs.common.dates import BusinessDate
from libs.common.errors import problem_responses
from libs.common.identifiers import IdCardNumber
from libs.common.loading import load_visible
from libs.common.openapi import enum_labels
from libs.common.pagination import Page, PageDep
from libs.common.person_index import PersonIndex, PersonIndexDep, PersonIndexUnavailable
from libs.common.personal_data import PersonalDataCipher
from libs.common.routing import ServiceRouter
from libs.common.transitions import (
    Perform,
    Transition,
    TransitionTable,
    add_transition_routes,
    load_then_move,
)
from services.contracts.clock import Clock, ClockDep
from services.contracts.coverage.schemas import GROUP_BY_LABELS
from services.contracts.deps import CipherDep
from services.contracts.permissions import ReferralsRead, ReferralsWrite, ReportsRead
from services.contracts.referrals import service
from services.contracts.referrals.identity import resident, residents, shown
from services.contracts.referrals.models import Referral, ReferralState
from services.contracts.referrals.schemas import (
    ReferralClose,
    ReferralCreate,
    ReferralRead,
    ReferralStats,
    ResidentRead,
)
from services.contracts.visits.service import check_period

BOX_LABELS = {"received": "收到的转诊", "sent": "发出的转诊"}
router = ServiceRouter(prefix="/api/v1/contracts/referrals", tags=["referrals"])
VisibleReferral = Annotated[
    Referral, Depends(load_visible(service.get, permission=ReferralsRead, id_name="referral_id"))
]


def _index(request: Request) -> PersonIndex | None:
    index: PersonIndex | None = getattr(request.app.state, "person_index", None)
    return index


async def _presented(
    request: Request, principal: Principal, cipher: PersonalDataCipher, referral: Referral
) -> ReferralRead:
    """A referral after a transition: its resident masked (as every answer but a party's detail), empty
    when the index cannot be reached (the transition is done)."""
    found = await residents(
        _index(request),
        cipher,
        [referral],
        principal=principal,
        purpose=f"{request.method} referral",
        required=False,
    )
    return service.present(referral, shown(found.get(referral.id), whole=False))


@router.post(
    "",
    summary="发起转诊（上转/下转，须有含双向转诊或绿色通道的生效协议）",
    description=(
        "先在居民主索引中按身份证号查找或登记该老人（一人一档），再发起转诊。居民服务不可用时 503 "
        "residents_unavailable（不发起）；身份证号已登记为其他姓名的居民时 409 person_name_mismatch。"
    ),
    operation_id="contracts_create_referral",
    status_code=status.HTTP_201_CREATED,
    response_model=ReferralRead,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def create_referral(
    session: SessionDep,
    principal: ReferralsWrite,
    index: PersonIndexDep,
    data: ReferralCreate,
    response: Response,
    cipher: CipherDep,
    clock: ClockDep,
) -> ReferralRead:
    # the resident's person of the residents' index first (no database statement yet)
    person_id = await index.resolve(
        name=data.resident.name,
        id_number=data.resident.id_number,
        region_code=principal.region_code,
        phone=data.resident.phone,
        address=None,
    )
    referral = await service.create(session, principal, data, cipher=cipher, clock=clock, person_id=person_id)
    set_etag(response, referral.version)
    response.headers["Location"] = f"{router.prefix}/{referral.id}"
    sent = ResidentRead(
        name=data.resident.name, id_number=data.resident.id_number, phone=data.resident.phone, masked=False
    )
    return service.present(referral, shown(sent, whole=False))


@router.get(
    "",
    summary="转诊列表（老人信息脱敏）",
    description=(
        "老人信息由居民主索引保存，整页一次读取；居民服务不可用时列表照常返回，老人信息字段为空"
        "（按身份证号查找时只查到尚未关联居民的转诊）。"
    ),
    operation_id="contracts_list_referrals",
    response_model=Page[ReferralRead],
    responses=problem_responses(401, 403, 422),
)
async def list_referrals(
    session: SessionDep,
    principal: ReferralsRead,
    page: PageDep,
    cipher: CipherDep,
    request: Request,
    state: Annotated[ReferralState | None, Query(description="状态")] = None,
    agreement_id: Annotated[uuid.UUID | None, Query(description="协议")] = None,
    resident_id_number: Annotated[IdCardNumber | None, Query(description="按老人身份证号精确查找")] = None,
    box: Annotated[
        Literal["received", "sent"] | None,
        Query(
            description="机构用户：received 收到的转诊（本机构为接收方），sent 发出的转诊（本机构为转出方）",
            json_schema_extra=enum_labels(BOX_LABELS),
        ),
    ] = None,
) -> Page[ReferralRead]:
    index = _index(request)
    person_id: uuid.UUID | None = None
    if resident_id_number is not None and index is not None:
        try:  # the linked referrals are found by the index's person of that number
            found = await index.find_by_id_numbers(
                [resident_id_number], on_behalf_of=principal.sub, purpose="GET referrals by id_number"
            )
        except PersonIndexUnavailable:
            found = {}
        person = found.get(resident_id_number.upper())
        person_id = person.id if person is not None else None
    rows, next_cursor = await service.list_(
        session,
        principal,
        params=page,
        cipher=cipher,
        state=state,
        resident_id_number=resident_id_number,
        resident_person_id=person_id,
        agreement_id=agreement_id,
        box=box,
    )
    people = await residents(
        index, cipher, rows, principal=principal, purpose="GET referrals", required=False
    )
    return Page(
        items=[service.present(r, shown(people.get(r.id), whole=False)) for r in rows],
        next_cursor=next_cursor,
        limit=page.limit,
    )


@router.get(
    "/stats",
    summary="绿色通道响应时间（申请→接收、接收→入院，平均数与中位数）",
    operation_id="contracts_referral_stats",
    response_model=ReferralStats,
    responses=problem_responses(401, 403, 422),
)
async def referral_stats(
    session: SessionDep,
    principal: ReportsRead,
    period_start: Annotated[BusinessDate, Query(description="申请日期起（含，Asia/Shanghai）")],
    period_end: Annotated[BusinessDate, Query(description="申请日期止（含）")],
    group_by: Annotated[
        Literal["city", "county"],
        Query(description="按设区市或县区汇总", json_schema_extra=enum_labels(GROUP_BY_LABELS)),
    ] = "county",
) -> ReferralStats:
    check_period(period_start, period_end)
    regions = await service.stats(session, principal, start=period_start, end=period_end, group_by=group_by)
    return ReferralStats(group_by=group_by, regions=regions)


@router.get(
    "/{referral_id}",
    summary="转诊详情（转诊双方机构可见完整个人信息，留痕）",
    description=(
        "老人信息由居民主索引保存：转诊双方机构查看完整信息时居民服务不可用则 503 residents_unavailable；"
        "其他可见者看到脱敏信息（居民服务不可用时字段为空）。"
    ),
    operation_id="contracts_get_referral",
    response_model=ReferralRead,
    responses=problem_responses(401, 403, 404, 503),
)
async def get_referral(
    session: SessionDep,
    principal: ReferralsRead,
    referral: VisibleReferral,
    response: Response,
    request: Request,
    cipher: CipherDep,
) -> ReferralRead:
    disclose = service.is_party(principal, referral)
    purpose = "GET referral"
    whole: ResidentRead | None
    if disclose:
        whole = await resident(_index(request), cipher, referral, principal=principal, purpose=purpose)
    else:
        found = await residents(
            _index(request), cipher, [referral], principal=principal, purpose=purpose, required=False
        )
        whole = found.get(referral.id)
    if disclose:
        await record_disclosures(
            request,
            session,
            principal,
            entity_type="referral",
            entity_ids=[referral.id],
            fields=service.PERSONAL_FIELDS,
        )
    set_etag(response, referral.version)
    return service.present(referral, shown(whole, whole=disclose))


@dataclass(frozen=True, slots=True)
class ReferralStep:
    request: Request
    session: AsyncSession
    referral_id: uuid.UUID
    cipher: PersonalDataCipher
    clock: Clock


async def referral_step(
    request: Request, session: SessionDep, referral_id: uuid.UUID, cipher: CipherDep, clock: ClockDep
) -> ReferralStep:
    return ReferralStep(request, session, referral_id, cipher, clock)


async def _load(step: ReferralStep, principal: Principal) -> Referral:
    return await service.get(step.session, principal, step.referral_id)


def _move(action: str) -> Perform[ReferralStep]:
    async def move(
        step: ReferralStep, principal: Principal, referral: Referral, close: ReferralClose | None
    ) -> None:
        await service.move(step.session, principal, referral, action, clock=step.clock, close=close)

    return load_then_move(_load, move)


def _row(action: str, summary: str, *, with_reason: bool = False) -> Transition[ReferralStep]:
    return Transition(
        action,
        ReferralsWrite,
        _move(action),
        summary=summary,
        operation_id=f"contracts_{action}_referral",
        body=ReferralClose if with_reason else None,
        body_name="data",
    )


TRANSITIONS = TransitionTable(
    prefix="/{referral_id}",
    context=referral_step,
    present=lambda step, principal, referral: _presented(step.request, principal, step.cipher, referral),
    response_model=ReferralRead,
    rows=(
        _row("accept", "接收转诊（接收机构）"),
        _row("admit", "入院/入住（接收机构）"),
        _row("return", "转回（接收机构）"),
        _row("decline", "拒绝转诊（接收机构，须说明原因）", with_reason=True),
        _row("cancel", "取消转诊（转出机构，须说明原因）", with_reason=True),
    ),
)
add_transition_routes(router, TRANSITIONS)
