"""The reports: ``/report``, ``/series``, ``/targets/evaluation``, the drill-down and the XLSX exports.

Scope (permissions.py ``reports:read``): an official reads the regions within their own (another region
answers 404, as any read outside scope); an institution user reads its institution's contribution: the
figures of its own county counted over the records its institution is a party to, without breakdown.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.responses import Response

from libs.common.auth import Principal
from libs.common.clock import ClockDep
from libs.common.database import SessionDep
from libs.common.dates import BusinessDate
from libs.common.downloads import attachment
from libs.common.errors import Unprocessable, problem_responses
from libs.common.openapi import enum_labels
from libs.common.pagination import MAX_LIMIT
from libs.common.response_cache import NOT_MODIFIED, cached_page, caller_view, key_of
from libs.common.routing import ServiceRouter
from services.indicators.permissions import POLICY
from services.indicators.reports import export, schemas, service
from services.indicators.reports.periods import Period, parse_period, periods_between
from services.indicators.reports.regions import requested_region
from services.indicators.reports.version import report_version
from services.indicators.settings import IndicatorsSettings

router = ServiceRouter(prefix="/api/v1/indicators", tags=["indicators-reports"])
ReportsRead = Annotated[Principal, Depends(POLICY.require("reports:read"))]
MAX_SERIES_POINTS = 40

RegionQuery = Annotated[
    str | None,
    Query(max_length=6, description="区划代码（省 350000、设区市、平潭 350128、县区）；默认为本人辖区"),
]
PeriodQuery = Annotated[str, Query(max_length=10, description="统计期：年份 2025 或季度 2025Q3")]
PartQuery = Annotated[
    schemas.Part,
    Query(
        description="numerator 分子, denominator 分母, gap 在分母不在分子（待签约等）",
        json_schema_extra=enum_labels(schemas.PART_LABELS),
    ),
]
ERRORS = problem_responses(401, 403, 404, 422)
#: the pages on the response cache (version: reports/version.py): ETag, 304 on If-None-Match
CACHED = {**NOT_MODIFIED, **ERRORS}


async def _min_coverage(request: Request) -> float:
    """INDICATORS_TARGET_MIN_COVERAGE: the reporting coverage a region's target needs to be judged."""
    settings: IndicatorsSettings = request.app.state.settings
    return settings.target_min_coverage


MinCoverage = Annotated[float, Depends(_min_coverage)]


def _xlsx(content: bytes, filename: str) -> Response:
    return attachment(content, filename, export.XLSX_MEDIA_TYPE)


XLSX_RESPONSE = {200: {"description": "XLSX 文件", "content": {export.XLSX_MEDIA_TYPE: {}}}, **ERRORS}


@router.get(
    "/report",
    summary="区域指标报告（各指标的分子、分母、数值、基线、目标及下一级分解）",
    operation_id="indicators_report",
    response_model=schemas.Report,
    responses=CACHED,
)
async def get_report(
    request: Request,
    session: SessionDep,
    principal: ReportsRead,
    min_coverage: MinCoverage,
    clock: ClockDep,
    period: PeriodQuery,
    region: RegionQuery = None,
) -> Response:
    chosen = requested_region(principal, region)
    today = clock.today()
    parsed = parse_period(period, today=today)

    async def make() -> bytes:
        data = await service.report_data(session, principal, chosen, parsed, min_coverage=min_coverage)
        report = service.report(data, principal)
        return report.__pydantic_serializer__.to_json(report)

    key = key_of("indicators_report", caller_view(principal), chosen.code, parsed.label, min_coverage)
    return await cached_page(request, session, key, make, report_version(today))


@router.get(
    "/report/export",
    summary="导出汇总报告（XLSX，每一层级一个工作表）",
    operation_id="indicators_report_export",
    response_class=Response,
    responses=XLSX_RESPONSE,
)
async def export_report(
    session: SessionDep,
    principal: ReportsRead,
    min_coverage: MinCoverage,
    clock: ClockDep,
    period: PeriodQuery,
    region: RegionQuery = None,
) -> Response:
    chosen = requested_region(principal, region)
    parsed = parse_period(period, today=clock.today())
    data = await service.report_data(session, principal, chosen, parsed, min_coverage=min_coverage)
    return _xlsx(export.summary_xlsx(data), f"医养结合指标_{chosen.name}_{parsed.label}.xlsx")


@router.get(
    "/report/{indicator}/records",
    summary="指标明细（分子、分母或差距背后的记录，分页）",
    operation_id="indicators_report_records",
    response_model=schemas.RecordPage,
    responses=ERRORS,
)
async def get_records(
    session: SessionDep,
    principal: ReportsRead,
    clock: ClockDep,
    indicator: str,
    period: PeriodQuery,
    region: RegionQuery = None,
    part: PartQuery = "numerator",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="每页条数 (≤200)")] = 50,
    cursor: Annotated[str | None, Query(max_length=500, description="上一页返回的 next_cursor")] = None,
) -> schemas.RecordPage:
    definition = service.definition_of(indicator)
    chosen = requested_region(principal, region)
    rows, next_cursor = await service.records(
        session,
        principal,
        definition,
        chosen,
        parse_period(period, today=clock.today()),
        part,
        limit=limit,
        cursor=cursor,
    )
    return schemas.RecordPage(
        indicator=indicator, part=part, items=rows, next_cursor=next_cursor, limit=limit
    )


@router.get(
    "/report/{indicator}/records/export",
    summary="导出指标明细（XLSX）",
    operation_id="indicators_report_records_export",
    response_class=Response,
    responses=XLSX_RESPONSE,
)
async def export_records(
    session: SessionDep,
    principal: ReportsRead,
    clock: ClockDep,
    indicator: str,
    period: PeriodQuery,
    region: RegionQuery = None,
    part: PartQuery = "numerator",
) -> Response:
    definition = service.definition_of(indicator)
    chosen = requested_region(principal, region)
    parsed = parse_period(period, today=clock.today())
    rows, _ = await service.records(
        session, principal, definition, chosen, parsed, part, limit=service.MAX_EXPORT_ROWS, cursor=None
    )
    filename = f"{definition.name}_{schemas.PART_LABELS[part][:2]}_{chosen.name}_{parsed.label}.xlsx"
    return _xlsx(export.records_xlsx(rows), filename)


@router.get(
    "/series",
    summary="单一指标的时间序列（按年或按季度）",
    operation_id="indicators_series",
    response_model=schemas.Series,
    responses=CACHED,
)
async def get_series(
    request: Request,
    session: SessionDep,
    principal: ReportsRead,
    clock: ClockDep,
    indicator: str,
    from_: Annotated[str, Query(alias="from", max_length=10, description="起始统计期（2023 或 2023Q1）")],
    to: Annotated[str, Query(max_length=10, description="截止统计期（含）")],
    region: RegionQuery = None,
    by: Annotated[
        schemas.By,
        Query(description="year 按年, quarter 按季度", json_schema_extra=enum_labels(schemas.BY_LABELS)),
    ] = "year",
) -> Response:
    definition = service.definition_of(indicator)
    chosen = requested_region(principal, region)
    today = clock.today()
    first = parse_period(from_, field="from", today=today)
    last = parse_period(to, field="to", today=today)
    if (first.quarter is None) != (by == "year") or (last.quarter is None) != (by == "year"):
        raise Unprocessable("统计期与 by 不一致：按年用 2025，按季度用 2025Q3", code="invalid_period")
    periods: list[Period] = periods_between(first, last)
    if not periods:
        raise Unprocessable("起始统计期晚于截止统计期", code="invalid_period")
    if len(periods) > MAX_SERIES_POINTS:
        raise Unprocessable(f"时间序列最多 {MAX_SERIES_POINTS} 期", code="period_range_too_long")

    async def make() -> bytes:
        points = await service.series(session, principal, definition, chosen, periods)
        series = schemas.Series(
            indicator=definition.code,
            name=definition.name,
            unit=definition.unit.value,
            region_code=chosen.code,
            region_name=chosen.name,
            by=by,
            points=points,
        )
        return series.__pydantic_serializer__.to_json(series)

    key = key_of(
        "indicators_series", caller_view(principal), definition.code, chosen.code, first.label, last.label, by
    )
    return await cached_page(request, session, key, make, report_version(today))


@router.get(
    "/targets/evaluation",
    summary="目标评价（每个到期目标：达标与未达标的区域及差距；逐县目标列出各县）",
    operation_id="indicators_targets_evaluation",
    response_model=schemas.Evaluation,
    responses=CACHED,
)
async def get_evaluation(
    request: Request,
    session: SessionDep,
    principal: ReportsRead,
    min_coverage: MinCoverage,
    clock: ClockDep,
    due: Annotated[BusinessDate | None, Query(description="只评价截止日期不晚于此日的目标")] = None,
) -> Response:
    today = clock.today()

    async def make() -> bytes:
        found = await service.evaluation(session, principal, due, min_coverage=min_coverage, today=today)
        return found.__pydantic_serializer__.to_json(found)

    key = key_of("indicators_targets_evaluation", caller_view(principal), due, min_coverage)
    return await cached_page(request, session, key, make, report_version(today))
