from __future__ import annotations

from libs.common.bulk import BulkMaxRecords, BulkResponse
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.routing import ServiceRouter
from services.contracts.clock import ClockDep
from services.contracts.deps import CipherDep
from services.contracts.permissions import ReferralsBulk
from services.contracts.referrals import bulk
from services.contracts.referrals.schemas import ReferralBulk

router = ServiceRouter(prefix="/api/v1/contracts", tags=["referrals-bulk"])


@router.post(
    "/referrals/bulk",
    summary="批量导入历史双向转诊记录（含状态与各环节原始时间；按 source_system + external_id 新增或更新）",
    operation_id="contracts_bulk_import_referrals",
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 409, 422),
)
async def bulk_import_referrals(
    session: SessionDep,
    principal: ReferralsBulk,
    data: ReferralBulk,
    cipher: CipherDep,
    clock: ClockDep,
    max_records: BulkMaxRecords,
) -> BulkResponse:
    return await bulk.import_(
        session,
        principal,
        data,
        cipher=cipher,
        today=clock.today(),
        now=clock.now(),
        max_records=max_records,
    )
