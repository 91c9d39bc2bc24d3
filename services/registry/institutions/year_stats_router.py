"""``POST /institutions/year-stats/bulk``: year figures in bulk (mounted before the institutions router,
whose ``/{institution_id}`` routes would otherwise see ``year-stats`` as an id)."""

from __future__ import annotations

from libs.common import clock
from libs.common.bulk import BulkMaxRecords, BulkResponse
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.routing import ServiceRouter
from services.registry.institutions import year_stats_bulk
from services.registry.institutions.year_stats_bulk import YearStatBulkRequest
from services.registry.permissions import YearStatsImport

router = ServiceRouter(prefix="/api/v1/registry/institutions", tags=["institutions-bulk"])


@router.post(
    "/year-stats/bulk",
    summary="批量填报机构年度床位使用与入住统计（按机构 + 年度新增或替换）",
    operation_id="registry_bulk_upsert_year_stats",
    description=(
        "每条记录为 PUT /institutions/{institution_id}/year-stats/{year} 的内容加 institution_id、year 与 "
        "external_id；规则与单条填报相同（机构存在且在管辖范围内，各项人数、床日数自洽），年度须已结束"
        "（year_not_past）且不早于机构开业年度（before_institution_opened）。已有该年度数据时替换之。"
        "每条记录单独返回 created / updated / unchanged / rejected；重放同一批次不产生任何变化；"
        "每批最多 bulk_max_records 条（默认 1000），超出则整批 422 batch_too_large。"
    ),
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422),
)
async def bulk_upsert_year_stats(
    session: SessionDep, principal: YearStatsImport, data: YearStatBulkRequest, max_records: BulkMaxRecords
) -> BulkResponse:
    return await year_stats_bulk.upsert(
        session, principal, data, today=clock.today_in_china(), max_records=max_records
    )
