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
from services.residents.care_services import service
from services.residents.care_services.models import CareService
from services.residents.care_services.schemas import (
    CareServiceCreate,
    CareServiceRead,
    CareSummary,
    OwedRead,
    OwedStatus,
)
from services.residents.deps import SettingsDep
from services.residents.permissions import CareServicesRead, CareServicesWrite

router = ServiceRouter(prefix="/api/v1/residents/care-services", tags=["residents-care-services"])
VisibleCareService = Annotated[
    CareService, Depends(load_visible(service.get, permission=CareServicesRead, id_name="care_service_id"))
]
Year = Annotated[int, Query(ge=2000, le=2100, description="年度")]
RegionCode = Annotated[
    str | None, Query(pattern=r"^35\d{4}$", description="县级行政区划代码（在本人管辖范围内进一步筛选）")
]


@router.post(
    "",
    summary="记录为失能老年人提供的医养结合服务",
    description=(
        "服务对象须在服务日有能力评估且最近一次评估等级不低于配置的最低等级（care_service_not_owed）；"
        "服务日期不能晚于今天（date_in_future）。client_record_id 重发返回原记录（200），用于另一居民则 409"
        "（client_record_id_reused）。服务计入服务日期所在的服务周期（默认上、下半年各一次）。"
    ),
    operation_id="residents_record_care_service",
    status_code=status.HTTP_201_CREATED,
    response_model=CareServiceRead,
    responses=problem_responses(401, 403, 404, 409, 422)
    | {200: {"description": "同一 client_record_id 的已有记录", "model": CareServiceRead}},
)
async def record_care_service(
    session: SessionDep,
    principal: CareServicesWrite,
    settings: SettingsDep,
    data: CareServiceCreate,
    response: Response,
) -> CareServiceRead:
    care, created = await service.record(session, principal, settings, data)
    if not created:
        response.status_code = status.HTTP_200_OK
    set_etag(response, care.version)
    response.headers["Location"] = f"{router.prefix}/{care.id}"
    return service.to_read(care, principal)


@router.get(
    "",
    summary="医养结合服务记录列表",
    operation_id="residents_list_care_services",
    response_model=Page[CareServiceRead],
    responses=problem_responses(401, 403, 422),
)
async def list_care_services(
    session: SessionDep,
    principal: CareServicesRead,
    page: PageDep,
    person_id: uuid.UUID | None = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    window: Annotated[int | None, Query(ge=1, le=12)] = None,
    region_code: RegionCode = None,
) -> Page[CareServiceRead]:
    rows, next_cursor = await service.list_(
        session,
        principal,
        params=page,
        person_id=person_id,
        year=year,
        window_number=window,
        region_code=region_code,
    )
    return Page(
        items=[service.to_read(c, principal) for c in rows], next_cursor=next_cursor, limit=page.limit
    )


@router.get(
    "/owed",
    summary="某服务周期应服务的失能老年人及其状态（status=overdue：周期已结束仍未服务）",
    operation_id="residents_list_care_services_owed",
    response_model=Page[OwedRead],
    responses=problem_responses(401, 403, 422),
)
async def list_owed(
    session: SessionDep,
    principal: CareServicesRead,
    settings: SettingsDep,
    page: PageDep,
    year: Year,
    window: Annotated[int, Query(ge=1, le=12, description="年度内的服务周期（默认 1 上半年、2 下半年）")],
    status_: Annotated[OwedStatus | None, Query(alias="status")] = None,
    region_code: RegionCode = None,
) -> Page[OwedRead]:
    items, next_cursor = await service.owed(
        session,
        principal,
        settings,
        params=page,
        year=year,
        window_number=window,
        status=status_,
        region_code=region_code,
    )
    return Page(items=items, next_cursor=next_cursor, limit=page.limit)


@router.get(
    "/summary",
    summary="按县、按服务周期统计应服务、已服务、待服务与逾期人数",
    operation_id="residents_care_service_summary",
    response_model=CareSummary,
    responses=problem_responses(401, 403, 422),
)
async def care_service_summary(
    session: SessionDep, principal: CareServicesRead, settings: SettingsDep, year: Year
) -> CareSummary:
    return await service.summary(session, principal, settings, year=year)


@router.get(
    "/{care_service_id}",
    summary="医养结合服务记录",
    operation_id="residents_get_care_service",
    response_model=CareServiceRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def get_care_service(
    principal: CareServicesRead, care: VisibleCareService, response: Response
) -> CareServiceRead:
    set_etag(response, care.version)
    return service.to_read(care, principal)
