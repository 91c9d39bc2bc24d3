from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import Depends, Query, Response, status

from libs.common.concurrency import set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from services.residents.assessments import service
from services.residents.assessments.models import Assessment
from services.residents.assessments.scale import SCALES
from services.residents.assessments.schemas import (
    AssessmentCreate,
    AssessmentRead,
    AssessmentSummary,
    ScaleRead,
)
from services.residents.deps import SettingsDep
from services.residents.permissions import AssessmentsRead, AssessmentsWrite

router = ServiceRouter(prefix="/api/v1/residents/assessments", tags=["residents-assessments"])
# the latest assessment of a person, under the person's path (what homecare's disability rules read)
persons_router = ServiceRouter(prefix="/api/v1/residents/persons", tags=["residents-assessments"])
VisibleAssessment = Annotated[
    Assessment, Depends(load_visible(service.get, permission=AssessmentsRead, id_name="assessment_id"))
]


@router.get(
    "/scale",
    summary="能力评估量表（GB/T 42195-2022 各版本的评估项目、分值与等级区间）",
    operation_id="residents_list_assessment_scales",
    response_model=list[ScaleRead],
    responses=problem_responses(401, 403),
)
async def list_assessment_scales(principal: AssessmentsRead, settings: SettingsDep) -> list[ScaleRead]:
    return [ScaleRead.of(version, version == settings.assessment_scale_version) for version in SCALES]


@router.post(
    "",
    summary="记录老年人能力评估（平台按各项得分计算总分与等级）",
    description=(
        "评估员提交现行量表全部 26 个评估项目的得分，以及痴呆、其他精神障碍、近 30 天照护风险事件次数；"
        "总分与等级由平台计算（总分 90 为能力完好，66–89 轻度，46–65 中度，30–45 重度，0–29 完全丧失；"
        "意识水平为昏迷直接定为完全丧失；痴呆、精神障碍或 2 次及以上风险事件上调一级）。提交总分或等级"
        "被拒绝（validation_failed，字段错误码 computed_by_service）；量表外的项目 assessment_item_unknown，"
        "缺项 assessment_item_missing，超出分值 assessment_score_out_of_range；评估日期不能晚于今天"
        "（date_in_future）。"
    ),
    operation_id="residents_create_assessment",
    status_code=status.HTTP_201_CREATED,
    response_model=AssessmentRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def create_assessment(
    session: SessionDep,
    principal: AssessmentsWrite,
    settings: SettingsDep,
    data: AssessmentCreate,
    response: Response,
) -> AssessmentRead:
    assessment = await service.create(session, principal, settings, data)
    set_etag(response, assessment.version)
    response.headers["Location"] = f"{router.prefix}/{assessment.id}"
    return service.to_read(assessment, principal, detail=True)


@router.get(
    "",
    summary="能力评估列表",
    operation_id="residents_list_assessments",
    response_model=Page[AssessmentRead],
    responses=problem_responses(401, 403, 422),
)
async def list_assessments(
    session: SessionDep,
    principal: AssessmentsRead,
    page: PageDep,
    person_id: uuid.UUID | None = None,
    level: Annotated[int | None, Query(ge=0, le=4)] = None,
    assessed_from: date | None = None,
    assessed_to: date | None = None,
    region_code: Annotated[str | None, Query(pattern=r"^35\d{4}$", description="县级行政区划代码")] = None,
) -> Page[AssessmentRead]:
    rows, next_cursor = await service.list_(
        session,
        principal,
        params=page,
        person_id=person_id,
        level=level,
        assessed_from=assessed_from,
        assessed_to=assessed_to,
        region_code=region_code,
    )
    return Page(
        items=[service.to_read(a, principal) for a in rows], next_cursor=next_cursor, limit=page.limit
    )


@router.get(
    "/summary",
    summary="按县统计年度能力评估次数、人数与失能人数",
    operation_id="residents_assessment_summary",
    response_model=AssessmentSummary,
    responses=problem_responses(401, 403, 422),
)
async def assessment_summary(
    session: SessionDep, principal: AssessmentsRead, year: Annotated[int, Query(ge=2000, le=2100)]
) -> AssessmentSummary:
    return await service.summary(session, principal, year=year)


@router.get(
    "/{assessment_id}",
    summary="能力评估（含各项得分与一级指标得分）",
    operation_id="residents_get_assessment",
    response_model=AssessmentRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_assessment(
    principal: AssessmentsRead, assessment: VisibleAssessment, response: Response
) -> AssessmentRead:
    set_etag(response, assessment.version)
    return service.to_read(assessment, principal, detail=True)


@persons_router.get(
    "/{person_id}/assessments/latest",
    summary="居民最近一次能力评估（当前能力等级；居家护理的失能规则读取此处）",
    operation_id="residents_get_latest_assessment",
    response_model=AssessmentRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_latest_assessment(
    session: SessionDep, principal: AssessmentsRead, person_id: uuid.UUID, response: Response
) -> AssessmentRead:
    assessment = await service.latest(session, principal, person_id)
    set_etag(response, assessment.version)
    return service.to_read(assessment, principal, detail=True)
