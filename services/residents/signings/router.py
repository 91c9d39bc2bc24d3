"""/api/v1/residents/signings: 家庭医生签约 contracts, their transitions, the signing and renewal figures."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status

from libs.common.clock import Clock
from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from services.residents.deps import SettingsDep
from services.residents.permissions import SigningsRead, SigningsWrite
from services.residents.signings import service
from services.residents.signings.models import Signing
from services.residents.signings.rules import SigningStatus
from services.residents.signings.schemas import (
    SigningCreate,
    SigningRates,
    SigningRead,
    SigningRenew,
    SigningTerminate,
    SigningTransfer,
)

router = ServiceRouter(prefix="/api/v1/residents/signings", tags=["residents-signings"])
VisibleSigning = Annotated[
    Signing, Depends(load_visible(service.get, permission=SigningsRead, id_name="signing_id"))
]
TRANSITION_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428)


async def _today(request: Request) -> date:
    """Today in China, by the app's clock (``app.state.clock``: tests move it) or the wall clock."""
    clock: Clock = getattr(request.app.state, "clock", None) or Clock()
    return clock.today()


TodayDep = Annotated[date, Depends(_today)]


@router.get(
    "",
    summary="家庭医生签约列表",
    operation_id="residents_list_signings",
    response_model=Page[SigningRead],
    responses=problem_responses(401, 403, 422),
)
async def list_signings(
    session: SessionDep,
    principal: SigningsRead,
    settings: SettingsDep,
    page: PageDep,
    today: TodayDep,
    person_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
    institution_id: uuid.UUID | None = None,
    status_: Annotated[SigningStatus | None, Query(alias="status")] = None,
    region_code: Annotated[str | None, Query(pattern=r"^\d{6}$", description="县级区划代码")] = None,
) -> Page[SigningRead]:
    rows, next_cursor = await service.list_(
        session,
        principal,
        params=page,
        person_id=person_id,
        team_id=team_id,
        institution_id=institution_id,
        status=status_,
        region_code=region_code,
    )
    return Page(
        items=[service.to_read(s, today, settings) for s in rows], next_cursor=next_cursor, limit=page.limit
    )


@router.post(
    "",
    summary="签约（本机构在用团队；一人同一时间只与一个团队签约）",
    description=(
        "合同期默认一年（RESIDENTS_SIGNING_TERM_MONTHS）。居民已有履约中的签约时 409 active_signing_exists"
        "（请续签或转签；并发的重复签约由数据库唯一约束拒绝，同一代码）；已到期未续签的旧合同在新签约时"
        "标为 expired。团队须为本机构在用团队（team_not_found、team_inactive），服务包须为该机构在用版本，"
        "一个基础包、可加个性化包（packages_invalid），起始日期不晚于今天（start_date_invalid）。"
    ),
    operation_id="residents_create_signing",
    status_code=status.HTTP_201_CREATED,
    response_model=SigningRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_signing(
    session: SessionDep,
    principal: SigningsWrite,
    settings: SettingsDep,
    today: TodayDep,
    data: SigningCreate,
    response: Response,
) -> SigningRead:
    signing = await service.sign(session, principal, settings, data, today)
    set_etag(response, signing.version)
    response.headers["Location"] = f"{router.prefix}/{signing.id}"
    return service.to_read(signing, today, settings)


@router.post(
    "/transfers",
    summary="转签：居民现有签约今日终止（transferred），与本机构团队的新合同今日起生效（同一事务）",
    operation_id="residents_transfer_signing",
    status_code=status.HTTP_201_CREATED,
    response_model=SigningRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def transfer_signing(
    session: SessionDep,
    principal: SigningsWrite,
    settings: SettingsDep,
    today: TodayDep,
    data: SigningTransfer,
    response: Response,
) -> SigningRead:
    signing = await service.transfer(session, principal, settings, data, today)
    set_etag(response, signing.version)
    response.headers["Location"] = f"{router.prefix}/{signing.id}"
    return service.to_read(signing, today, settings)


@router.get(
    "/rates",
    summary="签约与续签统计（按县区）：统计日签约人数（其中 65 岁及以上），年度应续签与已续签、续签率",
    description=(
        "签约人数为统计日（年度末，今年为今天）履约中的居民（去重）；签约率的分母（常住或 65 岁及以上人口）"
        "由指标服务的人口表提供。应续签：到期日在年度内、履约至到期（未解约、未转签），且已续签或已过到期日。"
    ),
    operation_id="residents_signing_rates",
    response_model=SigningRates,
    responses=problem_responses(401, 403, 422),
)
async def signing_rates(
    session: SessionDep,
    principal: SigningsRead,
    today: TodayDep,
    year: Annotated[int, Query(ge=2000, le=2100, description="统计年度")],
) -> SigningRates:
    return await service.rates(session, principal, year, today)


@router.get(
    "/{signing_id}",
    summary="签约详情",
    operation_id="residents_get_signing",
    response_model=SigningRead,
    responses=problem_responses(401, 403, 404),
)
async def get_signing(
    signing: VisibleSigning, settings: SettingsDep, today: TodayDep, response: Response
) -> SigningRead:
    set_etag(response, signing.version)
    return service.to_read(signing, today, settings)


@router.post(
    "/{signing_id}/renew",
    summary="续签（到期前 RESIDENTS_SIGNING_RENEWAL_WINDOW_DAYS 天内至到期日；新合同自原合同到期次日起）",
    operation_id="residents_renew_signing",
    status_code=status.HTTP_201_CREATED,
    response_model=SigningRead,
    responses=TRANSITION_ERRORS,
)
async def renew_signing(
    session: SessionDep,
    principal: SigningsWrite,
    settings: SettingsDep,
    today: TodayDep,
    signing_id: uuid.UUID,
    response: Response,
    data: SigningRenew | None = None,
    if_match: IfMatch = None,
) -> SigningRead:
    signing = await service.get(session, principal, signing_id)
    successor = await service.renew(session, principal, settings, signing, data, if_match, today)
    set_etag(response, successor.version)
    response.headers["Location"] = f"{router.prefix}/{successor.id}"
    return service.to_read(successor, today, settings)


@router.post(
    "/{signing_id}/terminate",
    summary="解约（原因代码；解约日期默认今天）",
    operation_id="residents_terminate_signing",
    response_model=SigningRead,
    responses=TRANSITION_ERRORS,
)
async def terminate_signing(
    session: SessionDep,
    principal: SigningsWrite,
    settings: SettingsDep,
    today: TodayDep,
    signing_id: uuid.UUID,
    data: SigningTerminate,
    response: Response,
    if_match: IfMatch = None,
) -> SigningRead:
    signing = await service.get(session, principal, signing_id)
    signing = await service.terminate(session, principal, signing, data, if_match, today)
    set_etag(response, signing.version)
    return service.to_read(signing, today, settings)
