"""``/api/v1/registry/filings``: 内设医疗机构备案 with explicit transition endpoints (each with If-Match)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import clock
from libs.common.auth import Principal
from libs.common.bulk import BulkMaxRecords, BulkResponse
from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from libs.common.transitions import (
    TRANSITION_ERRORS,
    Perform,
    Transition,
    TransitionTable,
    add_transition_routes,
)
from services.registry.filings import bulk, service
from services.registry.filings.models import Filing, FilingState
from services.registry.filings.schemas import (
    FilingBulkRequest,
    FilingContent,
    FilingCorrection,
    FilingCreate,
    FilingDecision,
    FilingEventRead,
    FilingRead,
)
from services.registry.permissions import FilingsImport, FilingsRead, FilingsReview, FilingsSubmit

router = ServiceRouter(prefix="/api/v1/registry/filings", tags=["filings"])
VisibleFiling = Annotated[
    Filing, Depends(load_visible(service.get, permission=FilingsRead, id_name="filing_id"))
]


def _read(filing: Filing, response: Response | None = None) -> FilingRead:
    if response is not None:
        set_etag(response, filing.version)
    read = FilingRead.model_validate(filing)
    read.allowed_actions = service.allowed_actions(filing)
    return read


@router.get(
    "",
    summary="备案列表",
    operation_id="registry_list_filings",
    response_model=Page[FilingRead],
    responses=problem_responses(401, 403, 422),
)
async def list_filings(
    session: SessionDep,
    principal: FilingsRead,
    page: PageDep,
    institution_id: Annotated[uuid.UUID | None, Query()] = None,
    state: Annotated[FilingState | None, Query()] = None,
) -> Page[FilingRead]:
    rows, next_cursor = await service.list_(
        session, principal, params=page, institution_id=institution_id, state=state
    )
    return Page(items=[_read(row) for row in rows], next_cursor=next_cursor, limit=page.limit)


@router.post(
    "",
    summary="提交内设医疗机构备案（即办：材料齐全即备案）",
    operation_id="registry_create_filing",
    status_code=status.HTTP_201_CREATED,
    response_model=FilingRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_filing(
    session: SessionDep, principal: FilingsSubmit, data: FilingCreate, response: Response
) -> FilingRead:
    filing = await service.create(session, principal, data)
    response.headers["Location"] = f"{router.prefix}/{filing.id}"
    return _read(filing, response)


@router.post(
    "/bulk",
    summary="批量导入历史备案（按 source_system + external_id；保留原备案时间、状态与备案号）",
    operation_id="registry_bulk_import_filings",
    description=(
        "每条记录为 POST /filings 的内容加原始备案时间 accepted_at、状态（accepted 已备案 / revoked 已撤销，"
        "撤销须附 revoked_at 与 revoke_reason）和原备案号 filing_no；"
        "规则与单条提交相同（机构存在、在管辖范围内、非医疗机构、在用，材料齐全），另校验日期：不晚于现在（date_in_future）、撤销不早于备案"
        "（dates_out_of_order）、备案不早于机构开业（before_institution_opened）；备案号唯一（filing_no_taken），"
        "已导入备案的机构、备案号与备案时间不可更改（filing_history_fixed）。历史记录与审计按原始时间写入，"
        "机构的内设医疗机构标志随之更新。每条记录单独返回 created / updated / unchanged / rejected；"
        "重放同一批次不产生任何变化；每批最多 bulk_max_records 条（默认 1000），"
        "超出则整批 422 batch_too_large。"
    ),
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422),
)
async def bulk_import_filings(
    session: SessionDep, principal: FilingsImport, data: FilingBulkRequest, max_records: BulkMaxRecords
) -> BulkResponse:
    return await bulk.import_history(session, principal, data, now=clock.now(), max_records=max_records)


@router.get(
    "/{filing_id}",
    summary="备案详情",
    operation_id="registry_get_filing",
    response_model=FilingRead,
    responses=problem_responses(401, 403, 404),
)
async def get_filing(principal: FilingsRead, filing: VisibleFiling, response: Response) -> FilingRead:
    return _read(filing, response)


@router.patch(
    "/{filing_id}",
    summary="修改草稿（需 If-Match）",
    operation_id="registry_update_filing",
    response_model=FilingRead,
    responses=TRANSITION_ERRORS,
)
async def update_filing(
    session: SessionDep,
    principal: FilingsSubmit,
    filing_id: uuid.UUID,
    data: FilingContent,
    response: Response,
    if_match: IfMatch,
) -> FilingRead:
    filing = await service.update_draft(session, principal, filing_id, data, if_match=if_match)
    return _read(filing, response)


@router.get(
    "/{filing_id}/history",
    summary="备案历史（提交、更正、不予备案、撤销）",
    operation_id="registry_filing_history",
    response_model=list[FilingEventRead],
    responses=problem_responses(401, 403, 404),
)
async def filing_history(
    session: SessionDep, principal: FilingsRead, filing_id: uuid.UUID
) -> list[FilingEventRead]:
    return [FilingEventRead.model_validate(e) for e in await service.history(session, principal, filing_id)]


@dataclass(frozen=True, slots=True)
class FilingStep:
    session: AsyncSession
    filing_id: uuid.UUID


async def filing_step(session: SessionDep, filing_id: uuid.UUID) -> FilingStep:
    return FilingStep(session, filing_id)


async def _submit(step: FilingStep, principal: Principal, body: None, if_match: str | None) -> Filing:
    return await service.transition(step.session, principal, step.filing_id, "submit", if_match=if_match)


def _with_correction(action: str) -> Perform[FilingStep]:
    async def perform(
        step: FilingStep, principal: Principal, data: FilingCorrection | None, if_match: str | None
    ) -> Filing:
        correction = data or FilingCorrection()
        return await service.transition(
            step.session, principal, step.filing_id, action, if_match=if_match, correction=correction
        )

    return perform


def _with_reason(action: str) -> Perform[FilingStep]:
    async def perform(
        step: FilingStep, principal: Principal, data: FilingDecision, if_match: str | None
    ) -> Filing:
        return await service.transition(
            step.session, principal, step.filing_id, action, if_match=if_match, reason=data.reason
        )

    return perform


TRANSITIONS = TransitionTable(
    prefix="/{filing_id}",
    context=filing_step,
    present=lambda step, principal, filing: _read(filing),
    response_model=FilingRead,
    rows=(
        Transition(
            "submit",
            FilingsSubmit,
            _submit,
            summary="提交草稿（材料齐全即备案）",
            operation_id="registry_submit_filing",
        ),
        Transition(
            "correct",
            FilingsSubmit,
            _with_correction("correct"),
            summary="更正已备案内容（保留历史）",
            operation_id="registry_correct_filing",
            body=FilingCorrection,
            body_name="data",
        ),
        Transition(
            "resubmit",
            FilingsSubmit,
            _with_correction("resubmit"),
            summary="不予备案后更正并重新提交",
            operation_id="registry_resubmit_filing",
            body=FilingCorrection,
            body_required=False,
            body_name="data",
        ),
        Transition(
            "reject",
            FilingsReview,
            _with_reason("reject"),
            summary="不予备案（县级，需说明理由）",
            operation_id="registry_reject_filing",
            body=FilingDecision,
            body_name="data",
        ),
        Transition(
            "revoke",
            FilingsReview,
            _with_reason("revoke"),
            summary="撤销备案（县级，需说明理由）",
            operation_id="registry_revoke_filing",
            body=FilingDecision,
            body_name="data",
        ),
    ),
)
add_transition_routes(router, TRANSITIONS)
