from __future__ import annotations

from libs.common.bulk import BulkMaxRecords, BulkResponse
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.person_index import PersonIndexDep
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
    description=(
        "老人按身份证号在居民主索引中整批查找（一次调用）：已登记的居民只保存其居民编号，不保存个人信息副本；"
        "尚未登记的暂存加密副本，待关联命令登记。居民服务不可用时 503 residents_unavailable（整批不写入）。"
    ),
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def bulk_import_referrals(
    session: SessionDep,
    principal: ReferralsBulk,
    data: ReferralBulk,
    cipher: CipherDep,
    index: PersonIndexDep,
    clock: ClockDep,
    max_records: BulkMaxRecords,
) -> BulkResponse:
    return await bulk.import_(
        session,
        principal,
        data,
        cipher=cipher,
        index=index,
        today=clock.today(),
        now=clock.now(),
        max_records=max_records,
    )
