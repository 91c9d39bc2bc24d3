from __future__ import annotations

from libs.common.bulk import BulkMaxRecords, BulkResponse
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.routing import ServiceRouter
from services.contracts.clock import ClockDep
from services.contracts.permissions import VisitsBulk
from services.contracts.visits import bulk
from services.contracts.visits.schemas import VisitBulk

router = ServiceRouter(prefix="/api/v1/contracts", tags=["visits-bulk"])


@router.post(
    "/visits/bulk",
    summary="批量导入历史巡诊记录（按 source_system + external_id 新增或更新，逐条返回结果）",
    operation_id="contracts_bulk_import_visits",
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422),
)
async def bulk_import_visits(
    session: SessionDep,
    principal: VisitsBulk,
    data: VisitBulk,
    clock: ClockDep,
    max_records: BulkMaxRecords,
) -> BulkResponse:
    return await bulk.import_(
        session, principal, data, today=clock.today(), now=clock.now(), max_records=max_records
    )
