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
        "老人按身份证号在居民主索引中整批查找或登记（一次调用，在协议所在区县登记）：转诊只保存居民编号，"
        "不保存个人信息副本；居民主索引拒绝的记录单独拒绝（person_name_mismatch：该身份证号已登记为其他姓名，"
        "或同一批次中同一身份证号姓名不一致；person_refused：其他原因），不影响其他记录。"
        "居民服务不可用时 503 residents_unavailable（整批不写入）。"
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
