from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, Query, Response, status

from libs.common.concurrency import set_etag
from libs.common.database import SessionDep
from libs.common.dates import BusinessDate
from libs.common.errors import problem_responses
from libs.common.loading import load_visible
from libs.common.openapi import enum_labels
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from services.contracts.agreements import service as agreements
from services.contracts.agreements.models import Agreement
from services.contracts.clock import Clock, ClockDep
from services.contracts.coverage.schemas import GROUP_BY_LABELS
from services.contracts.deps import SettingsDep
from services.contracts.permissions import ReportsRead, VisitsRead, VisitsWrite
from services.contracts.visits import service
from services.contracts.visits.schemas import Shortfall, ShortfallReport, VisitCreate, VisitRead

router = ServiceRouter(prefix="/api/v1/contracts", tags=["visits"])

# The agreement whose visits are written or read: any in the caller's scope (404 otherwise); the service
# decides what the caller may do with it (only the medical party records a visit).
VisitedAgreement = Annotated[
    Agreement, Depends(load_visible(agreements.get, permission=VisitsWrite, id_name="agreement_id"))
]
ReadAgreement = Annotated[
    Agreement, Depends(load_visible(agreements.get, permission=VisitsRead, id_name="agreement_id"))
]

PeriodStart = Annotated[BusinessDate, Query(description="统计期起日（含）")]
PeriodEnd = Annotated[BusinessDate, Query(description="统计期止日（含；晚于今天按今天计）")]
RegionFilter = Annotated[
    str | None,
    Query(pattern=r"^35\d{4}$", description="行政区划（含下级）：任一方机构所在县区属于该区划的协议"),
]


def _period(start: date, end: date, clock: Clock) -> tuple[date, date]:
    end = min(end, clock.today())
    service.check_period(start, end)
    return start, end


@router.post(
    "/agreements/{agreement_id}/visits",
    summary="登记巡诊（医疗机构一方）",
    operation_id="contracts_create_visit",
    status_code=status.HTTP_201_CREATED,
    response_model=VisitRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def create_visit(
    session: SessionDep,
    principal: VisitsWrite,
    agreement: VisitedAgreement,
    data: VisitCreate,
    response: Response,
    clock: ClockDep,
) -> VisitRead:
    visit = await service.create(session, principal, agreement, data, clock=clock)
    set_etag(response, visit.version)
    response.headers["Location"] = f"{router.prefix}/agreements/{agreement.id}/visits/{visit.id}"
    return VisitRead.model_validate(visit)


@router.get(
    "/agreements/{agreement_id}/visits",
    summary="协议的巡诊记录",
    operation_id="contracts_list_visits",
    response_model=Page[VisitRead],
    responses=problem_responses(401, 403, 404, 422),
)
async def list_visits(
    session: SessionDep,
    principal: VisitsRead,
    agreement: ReadAgreement,
    page: PageDep,
    date_from: Annotated[BusinessDate | None, Query(description="巡诊日期起")] = None,
    date_to: Annotated[BusinessDate | None, Query(description="巡诊日期止")] = None,
) -> Page[VisitRead]:
    rows, next_cursor = await service.list_(
        session, agreement, params=page, date_from=date_from, date_to=date_to
    )
    return Page(items=[VisitRead.model_validate(r) for r in rows], next_cursor=next_cursor, limit=page.limit)


@router.get(
    "/agreements/{agreement_id}/visits/shortfall",
    summary="协议巡诊完成情况（应巡诊与实际巡诊）",
    operation_id="contracts_agreement_visit_shortfall",
    response_model=Shortfall,
    responses=problem_responses(401, 403, 404, 422),
)
async def agreement_shortfall(
    session: SessionDep,
    principal: VisitsRead,
    agreement: ReadAgreement,
    period_start: PeriodStart,
    period_end: PeriodEnd,
    clock: ClockDep,
    settings: SettingsDep,
) -> Shortfall:
    start, end = _period(period_start, period_end, clock)
    return await service.agreement_shortfall(
        session,
        principal,
        agreement,
        start=start,
        end=end,
        min_per_month=settings.agreement_min_rounds_per_month,
    )


@router.get(
    "/visits/shortfall",
    summary="各地区巡诊完成情况汇总",
    operation_id="contracts_region_visit_shortfall",
    response_model=ShortfallReport,
    responses=problem_responses(401, 403, 422),
)
async def region_shortfall(
    session: SessionDep,
    principal: ReportsRead,
    period_start: PeriodStart,
    period_end: PeriodEnd,
    clock: ClockDep,
    settings: SettingsDep,
    group_by: Annotated[
        Literal["city", "county"],
        Query(description="按设区市或县区汇总", json_schema_extra=enum_labels(GROUP_BY_LABELS)),
    ] = "county",
    region_code: RegionFilter = None,
) -> ShortfallReport:
    start, end = _period(period_start, period_end, clock)
    regions = await service.region_shortfalls(
        session,
        principal,
        start=start,
        end=end,
        min_per_month=settings.agreement_min_rounds_per_month,
        group_by=group_by,
        region_code=region_code,
    )
    return ShortfallReport(
        period_start=start,
        period_end=end,
        min_rounds_per_month=settings.agreement_min_rounds_per_month,
        group_by=group_by,
        regions=regions,
    )


@router.get(
    "/visits/shortfall/agreements",
    summary="各协议巡诊完成情况（可只看未达标）",
    operation_id="contracts_list_visit_shortfalls",
    response_model=Page[Shortfall],
    responses=problem_responses(401, 403, 422),
)
async def list_shortfalls(
    session: SessionDep,
    principal: ReportsRead,
    period_start: PeriodStart,
    period_end: PeriodEnd,
    page: PageDep,
    clock: ClockDep,
    settings: SettingsDep,
    only_falling_short: Annotated[bool, Query(description="只列未达标协议")] = False,
    region_code: RegionFilter = None,
) -> Page[Shortfall]:
    start, end = _period(period_start, period_end, clock)
    rows, next_cursor = await service.list_shortfalls(
        session,
        principal,
        start=start,
        end=end,
        min_per_month=settings.agreement_min_rounds_per_month,
        params=page,
        only_falling_short=only_falling_short,
        region_code=region_code,
    )
    return Page(items=rows, next_cursor=next_cursor, limit=page.limit)
