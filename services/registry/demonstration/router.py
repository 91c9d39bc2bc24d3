"""全国医养结合示范创建: ``/api/v1/registry/demonstration-batches`` and ``…/demonstration-applications``."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Depends, File, Form, Query, Response, UploadFile, status
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.loading import load_by_id, load_visible
from libs.common.openapi import enum_labels
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from libs.common.text import SingleLine
from libs.common.transitions import Perform, Transition, TransitionTable, add_transition_routes
from services.registry.demonstration import batches, service, summaries, transitions, workbook
from services.registry.demonstration.deps import (
    DemonstrationApply,
    DemonstrationBatches,
    DemonstrationCityReview,
    DemonstrationCountyReview,
    DemonstrationProvinceReview,
    DemonstrationRead,
    DemonstrationReview,
    DemonstrationSummaries,
    Today,
)
from services.registry.demonstration.models import (
    ApplicationKind,
    ApplicationState,
    AssessmentItem,
    DemonstrationApplication,
    DemonstrationBatch,
)
from services.registry.demonstration.schemas import (
    SUMMARY_LEVEL_LABELS,
    ApplicationCreate,
    ApplicationListItem,
    ApplicationRead,
    ApplicationUpdate,
    AttachmentRead,
    BatchCreate,
    BatchRead,
    BatchUpdate,
    CriteriaReport,
    NameBody,
    NamedDemonstration,
    NationalResultBody,
    OpinionBody,
    ProvinceApproveBody,
    ProvinceReviewWrite,
    ReasonBody,
    ReassessBody,
    ReviewEventRead,
    SendToNationBody,
    SummaryTable,
)
from services.registry.demonstration.workflow import Action
from services.registry.deps import SettingsDep

BATCHES = "/api/v1/registry/demonstration-batches"
APPLICATIONS = "/api/v1/registry/demonstration-applications"

batches_router = ServiceRouter(prefix=BATCHES, tags=["demonstration"])
applications_router = ServiceRouter(prefix=APPLICATIONS, tags=["demonstration"])

# Batches are the province's and every reader sees them all.
KnownBatch = Annotated[
    DemonstrationBatch, Depends(load_by_id(batches.get, permission=DemonstrationRead, id_name="batch_id"))
]
VisibleApplication = Annotated[
    DemonstrationApplication,
    Depends(load_visible(service.get, permission=DemonstrationRead, id_name="application_id")),
]


# ---------------------------------------------------------------------------------------------- batches


@batches_router.get(
    "",
    summary="示范创建批次列表",
    operation_id="registry_list_demonstration_batches",
    response_model=Page[BatchRead],
    responses=problem_responses(401, 403, 422),
)
async def list_batches(
    session: SessionDep, principal: DemonstrationRead, page: PageDep, today: Today
) -> Page[BatchRead]:
    rows, next_cursor = await batches.list_(session, params=page)
    return Page(items=[batches.to_read(b, today) for b in rows], next_cursor=next_cursor, limit=page.limit)


@batches_router.post(
    "",
    summary="开启示范创建批次（省级）",
    operation_id="registry_create_demonstration_batch",
    status_code=status.HTTP_201_CREATED,
    response_model=BatchRead,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_batch(
    session: SessionDep,
    principal: DemonstrationBatches,
    data: BatchCreate,
    response: Response,
    settings: SettingsDep,
    today: Today,
) -> BatchRead:
    batch = await batches.create(session, principal, data, settings=settings)
    set_etag(response, batch.version)
    response.headers["Location"] = f"{BATCHES}/{batch.id}"
    return batches.to_read(batch, today)


@batches_router.get(
    "/{batch_id}",
    summary="示范创建批次详情",
    operation_id="registry_get_demonstration_batch",
    response_model=BatchRead,
    responses=problem_responses(401, 403, 404),
)
async def get_batch(
    principal: DemonstrationRead, batch: KnownBatch, response: Response, today: Today
) -> BatchRead:
    set_etag(response, batch.version)
    return batches.to_read(batch, today)


@batches_router.patch(
    "/{batch_id}",
    summary="修改示范创建批次（省级）",
    operation_id="registry_update_demonstration_batch",
    response_model=BatchRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_batch(
    session: SessionDep,
    principal: DemonstrationBatches,
    batch_id: uuid.UUID,
    data: BatchUpdate,
    if_match: IfMatch,
    response: Response,
    today: Today,
) -> BatchRead:
    batch = await batches.update(session, principal, batch_id, data, if_match=if_match)
    set_etag(response, batch.version)
    return batches.to_read(batch, today)


SummaryQuery = Annotated[
    Literal["city", "province"],
    Query(
        description="city：市级推荐汇总表；province：省级",
        json_schema_extra=enum_labels(SUMMARY_LEVEL_LABELS),
    ),
]
KindQuery = Annotated[ApplicationKind, Query(description="county：示范县；institution：示范机构")]
CityQuery = Annotated[
    str | None, Query(pattern=r"^\d{6}$", description="设区市代码（省级查看市级表时必填；市级缺省为本市）")
]


@batches_router.get(
    "/{batch_id}/recommendation-summary",
    summary="推荐汇总表（JSON）",
    operation_id="registry_demonstration_recommendation_summary",
    response_model=SummaryTable,
    responses=problem_responses(401, 403, 404, 422),
)
async def recommendation_summary(
    session: SessionDep,
    principal: DemonstrationSummaries,
    batch_id: uuid.UUID,
    level: SummaryQuery,
    kind: KindQuery,
    city_code: CityQuery = None,
) -> SummaryTable:
    return await summaries.build(session, principal, batch_id, level=level, kind=kind, city_code=city_code)


@batches_router.get(
    "/{batch_id}/recommendation-summary.xlsx",
    summary="推荐汇总表（XLSX）",
    operation_id="registry_demonstration_recommendation_summary_xlsx",
    response_class=Response,
    responses={
        200: {
            "content": {workbook.XLSX_MEDIA_TYPE: {}},
            "description": (
                "推荐汇总表：第 1 张表为通知附件 4／5 的正式格式，第 2 张表“审核情况”为冻结数据与各级意见"
            ),
        },
        **problem_responses(401, 403, 404, 422),
    },
)
async def recommendation_summary_xlsx(
    session: SessionDep,
    principal: DemonstrationSummaries,
    batch_id: uuid.UUID,
    level: SummaryQuery,
    kind: KindQuery,
    city_code: CityQuery = None,
) -> Response:
    table = await summaries.build(session, principal, batch_id, level=level, kind=kind, city_code=city_code)
    filename = f"{table.title}.xlsx"
    return Response(
        content=workbook.render(table, recommending_unit=summaries.recommending_unit(table)),
        media_type=workbook.XLSX_MEDIA_TYPE,
        headers={
            "Content-Disposition": _disposition(
                filename, fallback=f"recommendation-summary-{level}-{kind}.xlsx"
            )
        },
    )


# ----------------------------------------------------------------------------------------- applications


@applications_router.get(
    "",
    summary="示范申报列表（按管辖范围）",
    operation_id="registry_list_demonstration_applications",
    response_model=Page[ApplicationListItem],
    responses=problem_responses(401, 403, 422),
)
async def list_applications(
    session: SessionDep,
    principal: DemonstrationRead,
    page: PageDep,
    batch_id: Annotated[uuid.UUID | None, Query()] = None,
    kind: Annotated[ApplicationKind | None, Query()] = None,
    state: Annotated[ApplicationState | None, Query()] = None,
    region_code: Annotated[str | None, Query(pattern=r"^\d{6}$", description="县级行政区划代码")] = None,
) -> Page[ApplicationListItem]:
    rows, next_cursor = await service.list_(
        session, principal, params=page, batch_id=batch_id, kind=kind, state=state, region_code=region_code
    )
    return Page(items=[service.to_list_item(a) for a in rows], next_cursor=next_cursor, limit=page.limit)


@applications_router.post(
    "",
    summary="创建示范申报（县为本地、机构为本机构）",
    operation_id="registry_create_demonstration_application",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationRead,
    responses=problem_responses(401, 403, 404, 409, 422),
)
async def create_application(
    session: SessionDep,
    principal: DemonstrationApply,
    data: ApplicationCreate,
    response: Response,
    today: Today,
    settings: SettingsDep,
) -> ApplicationRead:
    application = await service.create(
        session, principal, data, today=today, revoked_bar_years=settings.demo_revoked_bar_years
    )
    set_etag(response, application.version)
    response.headers["Location"] = f"{APPLICATIONS}/{application.id}"
    return service.to_read(application, principal)


@applications_router.get(
    "/named",
    summary="已命名的全国医养结合示范县和示范机构",
    operation_id="registry_list_named_demonstrations",
    response_model=Page[NamedDemonstration],
    responses=problem_responses(401, 403, 422),
)
async def list_named(
    session: SessionDep,
    principal: DemonstrationRead,
    page: PageDep,
    kind: Annotated[ApplicationKind | None, Query()] = None,
    batch_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[NamedDemonstration]:
    rows, next_cursor = await service.named(session, params=page, kind=kind, batch_id=batch_id)
    items = [
        NamedDemonstration(
            application_id=a.id,
            batch_id=a.batch_id,
            batch_name=a.batch.name,
            kind=a.kind,
            applicant_name=a.applicant_name,
            region_code=a.region_code,
            city_code=a.city_code,
            institution_id=a.institution_id,
            named_date=a.named_date,
            named_document_no=a.named_document_no,
            next_reassessment_due_date=a.next_reassessment_due_date,
        )
        for a in rows
        if a.named_date is not None
    ]
    return Page(items=items, next_cursor=next_cursor, limit=page.limit)


@applications_router.get(
    "/{application_id}",
    summary="示范申报详情（含提交时冻结的数据）",
    operation_id="registry_get_demonstration_application",
    response_model=ApplicationRead,
    responses=problem_responses(401, 403, 404),
)
async def get_application(
    principal: DemonstrationRead, application: VisibleApplication, response: Response
) -> ApplicationRead:
    set_etag(response, application.version)
    return service.to_read(application, principal)


@applications_router.patch(
    "/{application_id}",
    summary="修改申报材料（申报单位，提交前）",
    operation_id="registry_update_demonstration_application",
    response_model=ApplicationRead,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_application(
    session: SessionDep,
    principal: DemonstrationApply,
    application_id: uuid.UUID,
    data: ApplicationUpdate,
    if_match: IfMatch,
    response: Response,
) -> ApplicationRead:
    application = await service.update(session, principal, application_id, data, if_match=if_match)
    set_etag(response, application.version)
    return service.to_read(application, principal)


@applications_router.get(
    "/{application_id}/criteria",
    summary="申报条件核验（硬性条件由登记数据计算）",
    operation_id="registry_demonstration_application_criteria",
    response_model=CriteriaReport,
    responses=problem_responses(401, 403, 404),
)
async def application_criteria(
    session: SessionDep, principal: DemonstrationRead, application_id: uuid.UUID, today: Today
) -> CriteriaReport:
    return await service.criteria_report(session, principal, application_id, today=today)


@applications_router.get(
    "/{application_id}/trail",
    summary="审核轨迹（谁、何时、做了什么、理由）",
    operation_id="registry_demonstration_application_trail",
    response_model=list[ReviewEventRead],
    responses=problem_responses(401, 403, 404),
)
async def application_trail(
    session: SessionDep, principal: DemonstrationRead, application_id: uuid.UUID
) -> list[ReviewEventRead]:
    return [
        ReviewEventRead.model_validate(e) for e in await service.trail(session, principal, application_id)
    ]


# ------------------------------------------------------------------------------------------ attachments


@applications_router.post(
    "/{application_id}/attachments",
    summary="上传附件（PDF/JPEG/PNG）",
    operation_id="registry_add_demonstration_attachment",
    status_code=status.HTTP_201_CREATED,
    response_model=AttachmentRead,
    responses=problem_responses(401, 403, 404, 409, 413, 422),
)
async def add_attachment(
    session: SessionDep,
    principal: DemonstrationApply,
    application_id: uuid.UUID,
    file: Annotated[UploadFile, File(description="PDF、JPEG 或 PNG 文件")],
    title: Annotated[SingleLine, Form(min_length=1, max_length=200, description="附件名称，如 自评报告")],
    settings: SettingsDep,
    response: Response,
    item: Annotated[AssessmentItem | None, Form(description="对应的自评项（可空：申报表等）")] = None,
) -> AttachmentRead:
    attachment = await service.add_attachment(
        session,
        principal,
        application_id,
        upload=file,
        title=title,
        item=item,
        max_bytes=settings.demo_attachment_max_bytes,
    )
    set_etag(response, attachment.version)
    response.headers["Location"] = f"{APPLICATIONS}/{application_id}/attachments/{attachment.id}/content"
    return AttachmentRead.model_validate(attachment)


@applications_router.get(
    "/{application_id}/attachments/{attachment_id}/content",
    summary="下载附件",
    operation_id="registry_download_demonstration_attachment",
    response_class=Response,
    responses={
        200: {
            "content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}},
            "description": "附件内容",
        },
        **problem_responses(401, 403, 404),
    },
)
async def download_attachment(
    session: SessionDep, principal: DemonstrationRead, application_id: uuid.UUID, attachment_id: uuid.UUID
) -> Response:
    _, attachment = await service.get_attachment(
        session, principal, application_id, attachment_id, with_content=True
    )
    digest = base64.b64encode(bytes.fromhex(attachment.sha256)).decode("ascii")
    return Response(
        content=attachment.content,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": _disposition(attachment.filename, fallback=f"attachment-{attachment.id}"),
            "Repr-Digest": f"sha-256=:{digest}:",
            "X-Content-SHA256": attachment.sha256,
            "X-Content-Type-Options": "nosniff",
        },
    )


@applications_router.delete(
    "/{application_id}/attachments/{attachment_id}",
    summary="删除附件（申报单位，提交前）",
    operation_id="registry_delete_demonstration_attachment",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
async def delete_attachment(
    session: SessionDep,
    principal: DemonstrationApply,
    application_id: uuid.UUID,
    attachment_id: uuid.UUID,
    if_match: IfMatch,
) -> Response:
    await service.delete_attachment(session, principal, application_id, attachment_id, if_match=if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------------------------------------ transitions


@dataclass(frozen=True, slots=True)
class ApplicationStep:
    """What every review step needs besides the caller and the body."""

    session: AsyncSession
    application_id: uuid.UUID
    today: date


async def application_step(session: SessionDep, application_id: uuid.UUID, today: Today) -> ApplicationStep:
    return ApplicationStep(session, application_id, today)


def _move(action: Action, *, default_body: type[BaseModel] | None = None) -> Perform[ApplicationStep]:
    async def perform(
        step: ApplicationStep, principal: Principal, body: BaseModel | None, if_match: str | None
    ) -> DemonstrationApplication:
        if body is None and default_body is not None:
            body = default_body()
        return await transitions.perform(
            step.session, principal, step.application_id, action, body, if_match=if_match, today=step.today
        )

    return perform


async def _write_province_review(
    step: ApplicationStep, principal: Principal, data: ProvinceReviewWrite, if_match: str | None
) -> DemonstrationApplication:
    return await transitions.write_province_review(
        step.session, principal, step.application_id, data, if_match=if_match, today=step.today
    )


def _present(
    step: ApplicationStep, principal: Principal, application: DemonstrationApplication
) -> ApplicationRead:
    return service.to_read(application, principal)


def _step(
    action: Action,
    permission: Any,
    summary: str,
    operation: str,
    body: type[BaseModel] | None = None,
    **options: Any,
) -> Transition[ApplicationStep]:
    return Transition(
        action.value,
        permission,
        _move(action, default_body=None if options.get("body_required", True) else body),
        summary=summary,
        operation_id=f"registry_demonstration_{operation}",
        body=body,
        **options,
    )


A = Action
TRANSITIONS = TransitionTable(
    prefix="/{application_id}",
    context=application_step,
    present=_present,
    response_model=ApplicationRead,
    rows=(
        Transition(
            "province-review",
            DemonstrationProvinceReview,
            _write_province_review,
            summary="记录省级评审（书面审核、现场核查、专家评分）",
            operation_id="registry_demonstration_province_review",
            body=ProvinceReviewWrite,
            body_name="data",
            method="PUT",
        ),
        _step(A.submit, DemonstrationApply, "提交申报（核验硬性条件并冻结数据）", "submit"),
        _step(
            A.county_recommend,
            DemonstrationCountyReview,
            "县级推荐（示范机构）",
            "county_recommend",
            OpinionBody,
        ),
        _step(
            A.city_recommend,
            DemonstrationCityReview,
            "市级推荐（每市每批一个县或一个机构）",
            "city_recommend",
            OpinionBody,
        ),
        _step(
            A.province_approve,
            DemonstrationProvinceReview,
            "省级评审通过（须已记录书面审核、现场核查、专家评分）",
            "province_approve",
            ProvinceApproveBody,
        ),
        _step(
            A.send_to_nation,
            DemonstrationProvinceReview,
            "报送国家（不超过批次名额）",
            "send_to_nation",
            SendToNationBody,
            body_required=False,
        ),
        _step(
            A.national_result,
            DemonstrationProvinceReview,
            "登记国家评估结果（拟命名、命名、未命名）",
            "national_result",
            NationalResultBody,
        ),
        _step(A.name, DemonstrationProvinceReview, "命名（标记登记机构的全国示范年份）", "name", NameBody),
        _step(A.reassess, DemonstrationProvinceReview, "动态管理复核（每两年）", "reassess", ReassessBody),
        _step(A.revoke, DemonstrationProvinceReview, "撤销命名（须说明理由）", "revoke", ReasonBody),
        _step(A.return_, DemonstrationReview, "退回下一级（须说明理由）", "return", ReasonBody),
        _step(A.decline, DemonstrationReview, "不予推荐（须说明理由）", "decline", ReasonBody),
    ),
)
add_transition_routes(applications_router, TRANSITIONS)


def _disposition(filename: str, *, fallback: str) -> str:
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


router = ServiceRouter(tags=["demonstration"])
router.include_router(batches_router)
router.include_router(applications_router)
