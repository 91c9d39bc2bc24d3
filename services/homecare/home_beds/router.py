from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.bulk import BulkMaxRecords, BulkResponse, open_batch
from libs.common.concurrency import set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.idempotency import REPLAY_HEADER
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from libs.common.transitions import Perform, Transition, TransitionTable, add_transition_routes
from services.homecare.clients.registry import FetchedPractitioner, RegistryClient, fetch_practitioner
from services.homecare.deps import RegistryDep, SettingsDep
from services.homecare.home_beds import history, service
from services.homecare.home_beds.models import HomeBed, HomeBedStatus
from services.homecare.home_beds.schemas import (
    HomeBedApply,
    HomeBedAssess,
    HomeBedBulkRequest,
    HomeBedClose,
    HomeBedOpen,
    HomeBedRead,
    HomeBedRoundCreate,
    HomeBedRoundRead,
)
from services.homecare.permissions import HomeBedsImport, HomeBedsRead, HomeBedsWrite
from services.homecare.settings import HomecareSettings

router = ServiceRouter(prefix="/api/v1/homecare/home-beds", tags=["homecare-home-beds"])
VisibleHomeBed = Annotated[
    HomeBed, Depends(load_visible(service.get, permission=HomeBedsRead, id_name="home_bed_id"))
]
WritableHomeBed = Annotated[
    HomeBed, Depends(load_visible(service.get, permission=HomeBedsWrite, id_name="home_bed_id"))
]


async def _caller_as_practitioner(principal: HomeBedsWrite, registry: RegistryDep) -> FetchedPractitioner:
    """The caller asked of the registry (is it a doctor of the provider?) before anything is loaded: the
    request's first statement opens the write transaction, which on SQLite holds the write lock."""
    return await fetch_practitioner(registry, principal.practitioner_id)


CallerAsPractitioner = Annotated[FetchedPractitioner, Depends(_caller_as_practitioner)]


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


@router.post(
    "/bulk",
    summary="历史家庭病床批量导入（省级；按 source_system + external_id 新增或更新，逐条返回结果）",
    description=(
        "过往的家庭病床整段导入：申请时的病情事实、建床评估、建床（诊疗护理计划、知情同意、查床间隔）、"
        "每个周期届满时的再评估、查床记录和撤床（原因与小结），均带原始日期。每批最多 bulk_max_records 条"
        "（默认 1000；超过则整批 422 batch_too_large）。每条记录按单条操作的同一规则校验：机构须登记提供"
        "家庭病床服务（no_home_bed_service），服务对象须存在（recipient_not_found），须符合建床条件"
        "（home_bed_not_qualified），评估、建床、再评估、查床须为本机构在职医师（doctor_required），"
        "查床日期在建床与撤床（或今天）之间（round_date_invalid），撤床不早于建床（closed_date_invalid），"
        "同一服务对象同期只有一张家庭病床（home_bed_exists）；另有日期不得晚于今天（date_in_future）、"
        "先后有序（dates_out_of_order）。被拒绝的记录不写入任何内容；与上次导入相同的记录为 unchanged，"
        "重放同一批次不产生任何变化。更新不能变更机构或服务对象（immutable_field）、不能把已撤床改回在床"
        "（home_bed_closed）、不能删除已导入的查床（round_removed）。"
    ),
    operation_id="homecare_bulk_import_home_beds",
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422, 502, 504),
)
async def bulk_import_home_beds(
    session: SessionDep,
    principal: HomeBedsImport,
    settings: SettingsDep,
    registry: RegistryDep,
    max_records: BulkMaxRecords,
    data: HomeBedBulkRequest,
) -> BulkResponse:
    batch = open_batch(data.source_system, data.records, max_records=max_records)
    history.validate(batch)
    # the registry first: the session's first statement opens the write transaction
    practitioners = await history.fetch_practitioners(registry, history.practitioner_ids(batch))
    await history.upsert(session, principal, settings, batch, practitioners)
    return batch.response()


@router.get(
    "/{home_bed_id}",
    summary="家庭病床详情",
    operation_id="homecare_get_home_bed",
    response_model=HomeBedRead,
    responses=problem_responses(401, 403, 404),
)
async def get_home_bed(principal: HomeBedsRead, bed: VisibleHomeBed, response: Response) -> HomeBedRead:
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
    doctor: CallerAsPractitioner,  # before the bed: FastAPI resolves dependencies in this order
    bed: WritableHomeBed,
    data: HomeBedRoundCreate,
    response: Response,
) -> HomeBedRoundRead:
    round_, created = await service.add_round(session, principal, doctor, bed, data)
    if not created:
        response.status_code = 200
        response.headers[REPLAY_HEADER] = "true"
    return HomeBedRoundRead(
        id=round_.id,
        round_date=round_.round_date,
        practitioner_id=round_.practitioner_id,
        photo_sha256=list(round_.photo_sha256 or []),
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
    session: SessionDep, principal: HomeBedsRead, bed: VisibleHomeBed
) -> list[HomeBedRoundRead]:
    return [
        HomeBedRoundRead(
            id=r.id,
            round_date=r.round_date,
            practitioner_id=r.practitioner_id,
            photo_sha256=list(r.photo_sha256 or []),
            created_at=r.created_at,
        )
        for r in await service.rounds(session, bed)
    ]


@dataclass(frozen=True, slots=True)
class HomeBedStep:
    session: AsyncSession
    home_bed_id: uuid.UUID
    registry: RegistryClient
    settings: HomecareSettings


async def home_bed_step(
    session: SessionDep, home_bed_id: uuid.UUID, registry: RegistryDep, settings: SettingsDep
) -> HomeBedStep:
    return HomeBedStep(session, home_bed_id, registry, settings)


Run = Callable[[HomeBedStep, Principal, HomeBed, Any, str | None], Awaitable[HomeBed]]
RunAsDoctor = Callable[
    [HomeBedStep, Principal, HomeBed, Any, str | None, FetchedPractitioner], Awaitable[HomeBed]
]


def _step(run: Run) -> Perform[HomeBedStep]:
    """Load the home bed in scope (404), then the step checks the caller, If-Match and the state."""

    async def perform(step: HomeBedStep, principal: Principal, body: Any, if_match: str | None) -> HomeBed:
        bed = await service.get(step.session, principal, step.home_bed_id)
        return await run(step, principal, bed, body, if_match)

    return perform


def _doctor_step(run: RunAsDoctor) -> Perform[HomeBedStep]:
    """:func:`_step` for a step a doctor of the provider takes: ask the registry for the caller before the
    session's first statement opens the write transaction, so no write lock is held across the HTTP call."""

    async def perform(step: HomeBedStep, principal: Principal, body: Any, if_match: str | None) -> HomeBed:
        doctor = await fetch_practitioner(step.registry, principal.practitioner_id)
        bed = await service.get(step.session, principal, step.home_bed_id)
        return await run(step, principal, bed, body, if_match, doctor)

    return perform


TRANSITIONS = TransitionTable(
    prefix="/{home_bed_id}",
    context=home_bed_step,
    present=lambda step, principal, bed: service.to_read(bed, principal),
    response_model=HomeBedRead,
    rows=(
        Transition(
            "assess",
            HomeBedsWrite,
            _doctor_step(
                lambda s, p, bed, data, m, doctor: service.assess(
                    s.session, p, doctor, s.settings, bed, data, m
                )
            ),
            summary="建床评估（本机构医师；不符合条件则为 not_qualified）",
            operation_id="homecare_assess_home_bed",
            body=HomeBedAssess,
            body_name="data",
        ),
        Transition(
            "open",
            HomeBedsWrite,
            _doctor_step(
                lambda s, p, bed, data, m, doctor: service.open_(
                    s.session, p, doctor, s.settings, bed, data, m
                )
            ),
            summary="建床（本机构医师，附诊疗护理计划与查床频次）",
            operation_id="homecare_open_home_bed",
            body=HomeBedOpen,
            body_name="data",
        ),
        Transition(
            "reassess",
            HomeBedsWrite,
            _doctor_step(
                lambda s, p, bed, data, m, doctor: service.reassess(
                    s.session, p, doctor, s.settings, bed, data, m
                )
            ),
            summary="周期届满再评估（符合则顺延一个周期）",
            operation_id="homecare_reassess_home_bed",
            body=HomeBedAssess,
            body_name="data",
        ),
        Transition(
            "close",
            HomeBedsWrite,
            _step(lambda s, p, bed, data, m: service.close(s.session, p, bed, data, m)),
            summary="撤床（原因与撤床小结）",
            operation_id="homecare_close_home_bed",
            body=HomeBedClose,
            body_name="data",
        ),
        Transition(
            "withdraw",
            HomeBedsWrite,
            _step(lambda s, p, bed, _, m: service.withdraw(s.session, p, bed, m)),
            summary="撤回申请",
            operation_id="homecare_withdraw_home_bed",
        ),
    ),
)
add_transition_routes(router, TRANSITIONS)
