from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from libs.common.cached_routes import early_cache_hits
from libs.common.database import SessionDep
from libs.common.dates import BusinessDate
from libs.common.errors import problem_responses
from libs.common.response_cache import NOT_MODIFIED, cached_page, caller_view, key_of
from libs.common.routing import ServiceRouter
from services.homecare.deps import SettingsDep
from services.homecare.orders.models import OrderStatus
from services.homecare.permissions import ReportsRead
from services.homecare.reports import service
from services.homecare.reports.schemas import (
    ComplaintReport,
    CountReport,
    GroupBy,
    HomeBedReport,
    OrderGroupBy,
    Period,
    ResponseTimeReport,
    SatisfactionReport,
)

router = ServiceRouter(prefix="/api/v1/homecare/reports", tags=["homecare-reports"])

FromDate = Annotated[BusinessDate | None, Query(alias="from", description="起始日期（含）")]
ToDate = Annotated[BusinessDate | None, Query(alias="to", description="截止日期（含）")]
ERRORS = problem_responses(401, 403, 422)
CACHED = {**NOT_MODIFIED, **ERRORS}  # the reports answered through the response cache


@router.get(
    "/satisfaction",
    summary="满意度（评分 ≥4 的占比，对照 95% 标准），按机构或区县",
    operation_id="homecare_report_satisfaction",
    response_model=SatisfactionReport,
    responses=CACHED,
)
@early_cache_hits  # hits answered before the dependencies (libs/common/cached_routes.py)
async def satisfaction(
    request: Request,
    session: SessionDep,
    principal: ReportsRead,
    settings: SettingsDep,
    group_by: GroupBy = GroupBy.provider,
    from_date: FromDate = None,
    to_date: ToDate = None,
) -> Response:
    # made of the rating table and (group_by=provider) the provider table's names, both change-tracked,
    # plus constants (division names, the bar): kept while the feed head stays
    bar_pct = settings.satisfaction_min_pct

    async def make() -> bytes:
        rows = await service.satisfaction(
            session, principal, group_by=group_by, from_date=from_date, to_date=to_date, bar_pct=bar_pct
        )
        report = SatisfactionReport(
            period=Period(from_date=from_date, to_date=to_date), bar_pct=bar_pct, rows=rows
        )
        return report.__pydantic_serializer__.to_json(report)

    key = key_of("homecare_satisfaction", caller_view(principal), group_by, from_date, to_date, bar_pct)
    return await cached_page(request, session, key, make)


@router.get(
    "/response-times",
    summary="响应时间（下单至签到，平均与中位数分钟）",
    operation_id="homecare_report_response_times",
    response_model=ResponseTimeReport,
    responses=ERRORS,
)
async def response_times(
    session: SessionDep,
    principal: ReportsRead,
    group_by: GroupBy = GroupBy.provider,
    from_date: FromDate = None,
    to_date: ToDate = None,
) -> ResponseTimeReport:
    rows = await service.response_times(
        session, principal, group_by=group_by, from_date=from_date, to_date=to_date
    )
    return ResponseTimeReport(period=Period(from_date=from_date, to_date=to_date), rows=rows)


@router.get(
    "/orders",
    summary="订单数，按项目、状态、区县或机构",
    operation_id="homecare_report_orders",
    response_model=CountReport,
    responses=CACHED,
)
@early_cache_hits  # hits answered before the dependencies (libs/common/cached_routes.py)
async def orders(
    request: Request,
    session: SessionDep,
    principal: ReportsRead,
    group_by: OrderGroupBy = OrderGroupBy.status,
    status: OrderStatus | None = None,
    from_date: FromDate = None,
    to_date: ToDate = None,
) -> Response:
    # made of the order and order item tables (the provider's name is the order's copy), both
    # change-tracked, plus constants (status labels, division names): kept while the feed head stays
    async def make() -> bytes:
        rows = await service.orders(
            session, principal, group_by=group_by, status=status, from_date=from_date, to_date=to_date
        )
        report = CountReport(
            period=Period(from_date=from_date, to_date=to_date), group_by=group_by.value, rows=rows
        )
        return report.__pydantic_serializer__.to_json(report)

    key = key_of("homecare_orders", caller_view(principal), group_by, status, from_date, to_date)
    return await cached_page(request, session, key, make)


@router.get(
    "/complaints",
    summary="投诉数（待处理、已办结）",
    operation_id="homecare_report_complaints",
    response_model=ComplaintReport,
    responses=ERRORS,
)
async def complaints(
    session: SessionDep,
    principal: ReportsRead,
    group_by: GroupBy = GroupBy.provider,
    from_date: FromDate = None,
    to_date: ToDate = None,
) -> ComplaintReport:
    rows = await service.complaints(
        session, principal, group_by=group_by, from_date=from_date, to_date=to_date
    )
    return ComplaintReport(period=Period(from_date=from_date, to_date=to_date), rows=rows)


@router.get(
    "/home-beds",
    summary="家庭病床：在床、期间建床、期间撤床、逾期，按区县或机构",
    operation_id="homecare_report_home_beds",
    response_model=HomeBedReport,
    responses=ERRORS,
)
async def home_beds(
    session: SessionDep,
    principal: ReportsRead,
    group_by: GroupBy = GroupBy.region,
    from_date: FromDate = None,
    to_date: ToDate = None,
) -> HomeBedReport:
    rows = await service.home_beds(
        session, principal, group_by=group_by, from_date=from_date, to_date=to_date
    )
    return HomeBedReport(period=Period(from_date=from_date, to_date=to_date), rows=rows)
