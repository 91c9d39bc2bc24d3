from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response, status

from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.idempotency import REPLAY_HEADER
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from services.homecare.deps import RegistryDep, SettingsDep
from services.homecare.home_beds import service
from services.homecare.home_beds.models import HomeBedStatus
from services.homecare.home_beds.schemas import (
    HomeBedApply,
    HomeBedAssess,
    HomeBedClose,
    HomeBedOpen,
    HomeBedRead,
    HomeBedRoundCreate,
    HomeBedRoundRead,
)
from services.homecare.permissions import HomeBedsRead, HomeBedsWrite

router = ServiceRouter(prefix="/api/v1/homecare/home-beds", tags=["homecare-home-beds"])
TRANSITION_ERRORS = problem_responses(401, 403, 404, 409, 412, 422, 428)


@router.get(
    "",
    summary="家庭病床列表（overdue=true：周期已满未再评估或撤床）",
    operation_id="homecare_list_home_beds",
    response_model=Page[HomeBedRead],
    responses=problem_responses(401, 403, 422),
)
async def list_home_beds(
    session: SessionDep,
    principal: HomeBedsRead,
    settings: SettingsDep,
    page: PageDep,
    status_: Annotated[HomeBedStatus | None, Query(alias="status")] = None,
    overdue: bool | None = None,
    institution_id: uuid.UUID | None = None,
) -> Page[HomeBedRead]:
    rows, next_cursor = await service.list_(
        session,
        principal,
        settings,
        params=page,
        status=status_,
        overdue=overdue,
        institution_id=institution_id,
    )
    return Page(
        items=[service.to_read(b, principal) for b in rows], next_cursor=next_cursor, limit=page.limit
    )


@router.post(
    "",
    summary="家庭病床申请",
    operation_id="homecare_apply_home_bed",
    status_code=status.HTTP_201_CREATED,
    response_model=HomeBedRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def apply_home_bed(
    session: SessionDep,
    principal: HomeBedsWrite,
    settings: SettingsDep,
    data: HomeBedApply,
    response: Response,
) -> HomeBedRead:
    bed = await service.apply(session, principal, data, settings)
    set_etag(response, bed.version)
    response.headers["Location"] = f"{router.prefix}/{bed.id}"
    return service.to_read(bed, principal)


@router.get(
    "/{home_bed_id}",
    summary="家庭病床详情",
    operation_id="homecare_get_home_bed",
    response_model=HomeBedRead,
    responses=problem_responses(401, 403, 404),
)
async def get_home_bed(
    session: SessionDep, principal: HomeBedsRead, home_bed_id: uuid.UUID, response: Response
) -> HomeBedRead:
    bed = await service.get(session, principal, home_bed_id)
    set_etag(response, bed.version)
    return service.to_read(bed, principal)


@router.post(
    "/{home_bed_id}/assess",
    summary="建床评估（本机构医师；不符合条件则为 not_qualified）",
    operation_id="homecare_assess_home_bed",
    response_model=HomeBedRead,
    responses=TRANSITION_ERRORS,
)
async def assess_home_bed(
    session: SessionDep,
    principal: HomeBedsWrite,
    registry: RegistryDep,
    settings: SettingsDep,
    home_bed_id: uuid.UUID,
    data: HomeBedAssess,
    response: Response,
    if_match: IfMatch = None,
) -> HomeBedRead:
    bed = await service.get(session, principal, home_bed_id)
    bed = await service.assess(session, principal, registry, settings, bed, data, if_match)
    set_etag(response, bed.version)
    return service.to_read(bed, principal)


@router.post(
    "/{home_bed_id}/open",
    summary="建床（本机构医师，附诊疗护理计划与查床频次）",
    operation_id="homecare_open_home_bed",
    response_model=HomeBedRead,
    responses=TRANSITION_ERRORS,
)
async def open_home_bed(
    session: SessionDep,
    principal: HomeBedsWrite,
    registry: RegistryDep,
    settings: SettingsDep,
    home_bed_id: uuid.UUID,
    data: HomeBedOpen,
    response: Response,
    if_match: IfMatch = None,
) -> HomeBedRead:
    bed = await service.get(session, principal, home_bed_id)
    bed = await service.open_(session, principal, registry, settings, bed, data, if_match)
    set_etag(response, bed.version)
    return service.to_read(bed, principal)


@router.post(
    "/{home_bed_id}/rounds",
    summary="记录查床（本机构医师；同一 client_record_id 不重复）",
    operation_id="homecare_add_home_bed_round",
    status_code=status.HTTP_201_CREATED,
    response_model=HomeBedRoundRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def add_round(
    session: SessionDep,
    principal: HomeBedsWrite,
    registry: RegistryDep,
    home_bed_id: uuid.UUID,
    data: HomeBedRoundCreate,
    response: Response,
) -> HomeBedRoundRead:
    bed = await service.get(session, principal, home_bed_id)
    round_, created = await service.add_round(session, principal, registry, bed, data)
    if not created:
        response.status_code = 200
        response.headers[REPLAY_HEADER] = "true"
    return HomeBedRoundRead(
        id=round_.id,
        round_date=round_.round_date,
        practitioner_id=round_.practitioner_id,
        created_at=round_.created_at,
    )


@router.get(
    "/{home_bed_id}/rounds",
    summary="查床记录",
    operation_id="homecare_list_home_bed_rounds",
    response_model=list[HomeBedRoundRead],
    responses=problem_responses(401, 403, 404),
)
async def list_rounds(
    session: SessionDep, principal: HomeBedsRead, home_bed_id: uuid.UUID
) -> list[HomeBedRoundRead]:
    bed = await service.get(session, principal, home_bed_id)
    return [
        HomeBedRoundRead(
            id=r.id, round_date=r.round_date, practitioner_id=r.practitioner_id, created_at=r.created_at
        )
        for r in await service.rounds(session, bed)
    ]


@router.post(
    "/{home_bed_id}/reassess",
    summary="周期届满再评估（符合则顺延一个周期）",
    operation_id="homecare_reassess_home_bed",
    response_model=HomeBedRead,
    responses=TRANSITION_ERRORS,
)
async def reassess_home_bed(
    session: SessionDep,
    principal: HomeBedsWrite,
    registry: RegistryDep,
    settings: SettingsDep,
    home_bed_id: uuid.UUID,
    data: HomeBedAssess,
    response: Response,
    if_match: IfMatch = None,
) -> HomeBedRead:
    bed = await service.get(session, principal, home_bed_id)
    bed = await service.reassess(session, principal, registry, settings, bed, data, if_match)
    set_etag(response, bed.version)
    return service.to_read(bed, principal)


@router.post(
    "/{home_bed_id}/close",
    summary="撤床（原因与撤床小结）",
    operation_id="homecare_close_home_bed",
    response_model=HomeBedRead,
    responses=TRANSITION_ERRORS,
)
async def close_home_bed(
    session: SessionDep,
    principal: HomeBedsWrite,
    home_bed_id: uuid.UUID,
    data: HomeBedClose,
    response: Response,
    if_match: IfMatch = None,
) -> HomeBedRead:
    bed = await service.get(session, principal, home_bed_id)
    bed = await service.close(session, principal, bed, data, if_match)
    set_etag(response, bed.version)
    return service.to_read(bed, principal)


@router.post(
    "/{home_bed_id}/withdraw",
    summary="撤回申请",
    operation_id="homecare_withdraw_home_bed",
    response_model=HomeBedRead,
    responses=TRANSITION_ERRORS,
)
async def withdraw_home_bed(
    session: SessionDep,
    principal: HomeBedsWrite,
    home_bed_id: uuid.UUID,
    response: Response,
    if_match: IfMatch = None,
) -> HomeBedRead:
    bed = await service.get(session, principal, home_bed_id)
    bed = await service.withdraw(session, principal, bed, if_match)
    set_etag(response, bed.version)
    return service.to_read(bed, principal)
