from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Response, status

from libs.common.concurrency import set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from services.residents.checkups import service
from services.residents.checkups.models import Checkup
from services.residents.checkups.rules import RULES
from services.residents.checkups.schemas import CheckupRead, CheckupRecord, CheckupRuleRead, CheckupSummary
from services.residents.deps import SettingsDep
from services.residents.permissions import CheckupsRead, CheckupsWrite

router = ServiceRouter(prefix="/api/v1/residents/checkups", tags=["residents-checkups"])
VisibleCheckup = Annotated[
    Checkup, Depends(load_visible(service.get, permission=CheckupsRead, id_name="checkup_id"))
]
Year = Annotated[int, Query(ge=2000, le=2100, description="体检年度")]
RegionCode = Annotated[
    str | None, Query(pattern=r"^35\d{4}$", description="县级行政区划代码（在本人管辖范围内进一步筛选）")
]


@router.get(
    "/rules",
    summary="体检规则（各版本的体检项目与“规范”所需项目）",
    operation_id="residents_list_checkup_rules",
    response_model=list[CheckupRuleRead],
    responses=problem_responses(401, 403),
)
async def list_checkup_rules(principal: CheckupsRead, settings: SettingsDep) -> list[CheckupRuleRead]:
    return [CheckupRuleRead.of(version, version == settings.checkup_rule_version) for version in RULES]


@router.post(
    "",
    summary="记录老年人健康体检（一个或多个项目；同一居民同一年度合并为一份记录）",
    description=(
        "按体检项目逐项或一次提交：同一居民同一年度只有一份记录，后续提交合并进去（201 新建，200 合并），"
        "每人每年只计一次。必需项目齐全即为规范记录（standard）。体检日须年满 65 周岁"
        "（person_below_checkup_age）；项目须为现行规则中的项目（checkup_part_unknown）；一次提交的项目须属同一"
        "年度（checkup_parts_span_years）；完成日期不能晚于今天（date_in_future）；本年度记录由另一机构建立时"
        "须由该机构补录（checkup_held_by_other_institution）。"
    ),
    operation_id="residents_record_checkup",
    status_code=status.HTTP_201_CREATED,
    response_model=CheckupRead,
    responses=problem_responses(401, 403, 404, 409, 422)
    | {200: {"description": "合并进本年度已有记录", "model": CheckupRead}},
)
async def record_checkup(
    session: SessionDep,
    principal: CheckupsWrite,
    settings: SettingsDep,
    data: CheckupRecord,
    response: Response,
) -> CheckupRead:
    checkup, created = await service.record(session, principal, settings, data)
    if not created:
        response.status_code = status.HTTP_200_OK
    set_etag(response, checkup.version)
    response.headers["Location"] = f"{router.prefix}/{checkup.id}"
    return await service.to_read(session, checkup, principal, with_parts=True)


@router.get(
    "",
    summary="体检记录列表",
    operation_id="residents_list_checkups",
    response_model=Page[CheckupRead],
    responses=problem_responses(401, 403, 422),
)
async def list_checkups(
    session: SessionDep,
    principal: CheckupsRead,
    page: PageDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    person_id: uuid.UUID | None = None,
    standard: bool | None = None,
    region_code: RegionCode = None,
) -> Page[CheckupRead]:
    rows, next_cursor = await service.list_(
        session,
        principal,
        params=page,
        year=year,
        person_id=person_id,
        standard=standard,
        region_code=region_code,
    )
    return Page(
        items=[await service.to_read(session, c, principal) for c in rows],
        next_cursor=next_cursor,
        limit=page.limit,
    )


@router.get(
    "/summary",
    summary="按县统计年度体检人数与规范记录数（健康管理率的分子）",
    operation_id="residents_checkup_summary",
    response_model=CheckupSummary,
    responses=problem_responses(401, 403, 422),
)
async def checkup_summary(session: SessionDep, principal: CheckupsRead, year: Year) -> CheckupSummary:
    return await service.summary(session, principal, year=year)


@router.get(
    "/{checkup_id}",
    summary="体检记录（含各项目；结果仅记录机构可见）",
    operation_id="residents_get_checkup",
    response_model=CheckupRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_checkup(
    session: SessionDep, principal: CheckupsRead, checkup: VisibleCheckup, response: Response
) -> CheckupRead:
    set_etag(response, checkup.version)
    return await service.to_read(session, checkup, principal, with_parts=True)
