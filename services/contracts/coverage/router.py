from __future__ import annotations

from collections.abc import Hashable
from typing import Annotated, Literal

from fastapi import Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import divisions
from libs.common.database import SessionDep
from libs.common.errors import Forbidden, Unprocessable, problem_responses
from libs.common.openapi import enum_labels
from libs.common.response_cache import NOT_MODIFIED, cached_page, caller_view, key_of
from libs.common.routing import ServiceRouter
from services.contracts.clock import ClockDep
from services.contracts.coverage import service
from services.contracts.coverage.schemas import GROUP_BY_LABELS, Coverage
from services.contracts.coverage.snapshot import SnapshotDep, data_version
from services.contracts.deps import SettingsDep
from services.contracts.permissions import CoverageRead

router = ServiceRouter(prefix="/api/v1/contracts", tags=["coverage"])


@router.get(
    "/coverage",
    summary="签约覆盖率（按设区市或县区；含未签约机构、即将到期协议、签约对数）",
    operation_id="contracts_coverage",
    response_model=Coverage,
    responses={**NOT_MODIFIED, **problem_responses(401, 403, 422, 502, 504)},
)
async def get_coverage(
    request: Request,
    session: SessionDep,
    principal: CoverageRead,
    snapshot: SnapshotDep,
    clock: ClockDep,
    settings: SettingsDep,
    group_by: Annotated[
        Literal["city", "county"],
        Query(description="按设区市或县区分组", json_schema_extra=enum_labels(GROUP_BY_LABELS)),
    ] = "county",
    region_code: Annotated[
        str | None, Query(pattern=r"^35\d{4}$", description="统计范围（默认为调用者的管辖范围）")
    ] = None,
    uncovered_limit: Annotated[int, Query(ge=0, le=5000, description="返回的未签约机构条数上限")] = 200,
) -> Response:
    region = region_code or principal.region_code
    if divisions.get(region) is None:
        raise Unprocessable("未知的行政区划代码", code="unknown_region")
    if region_code is not None and not principal.scope.contains(region_code):
        raise Forbidden("统计范围超出您的管辖范围", code="out_of_scope")
    # the registry's institutions come from this service's snapshot of its feed (no call per request
    # while the snapshot is recent)
    await snapshot.ensure_fresh(request.app.state.database)
    today = clock.today()
    target_pct = settings.target_agreement_coverage_pct

    # made of the agreements (change-tracked: the feed head), the snapshot of the registry's institutions
    # (not in this feed: its position in the registry's feed) and today's date (Asia/Shanghai: what is in
    # force, what expires within 30/60/90 days): the page is kept while all three stay
    async def version(session: AsyncSession) -> Hashable:
        return (*await data_version(session), today.isoformat())

    async def make() -> bytes:
        coverage = await service.coverage(
            session,
            principal,
            region_code=region,
            group_by=group_by,
            today=today,
            target_pct=target_pct,
            uncovered_limit=uncovered_limit,
        )
        return coverage.__pydantic_serializer__.to_json(coverage)

    key = key_of("contracts_coverage", caller_view(principal), region, group_by, uncovered_limit, target_pct)
    return await cached_page(request, session, key, make, version)
