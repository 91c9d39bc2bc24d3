from __future__ import annotations

from typing import Annotated

from fastapi import Query

from libs.common.database import SessionDep
from libs.common.dates import BusinessDate
from libs.common.errors import problem_responses
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


@router.get(
    "/satisfaction",
    summary="满意度（评分 ≥4 的占比，对照 95% 标准），按机构或区县",
    operation_id="homecare_report_satisfaction",
    response_model=SatisfactionReport,
    responses=ERRORS,
)
async def satisfaction(
    session: SessionDep,
    principal: ReportsRead,
    settings: SettingsDep,
    group_by: GroupBy = GroupBy.provider,
    from_date: FromDate = None,
    to_date: ToDate = None,
) -> SatisfactionReport:
    rows = await service.satisfaction(
        session,
        principal,
        group_by=group_by,
        from_date=from_date,
        to_date=to_date,
        bar_pct=settings.satisfaction_min_pct,
    )
    return SatisfactionReport(
        period=Period(from_date=from_date, to_date=to_date), bar_pct=settings.satisfaction_min_pct, rows=rows
    )


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
    responses=ERRORS,
)
async def orders(
    session: SessionDep,
    principal: ReportsRead,
    group_by: OrderGroupBy = OrderGroupBy.status,
    status: OrderStatus | None = None,
    from_date: FromDate = None,
    to_date: ToDate = None,
) -> CountReport:
    rows = await service.orders(
        session, principal, group_by=group_by, status=status, from_date=from_date, to_date=to_date
    )
    return CountReport(
        period=Period(from_date=from_date, to_date=to_date), group_by=group_by.value, rows=rows
    )


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
