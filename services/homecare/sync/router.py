from __future__ import annotations

from libs.common.bulk import BulkMaxRecords, BulkResponse, open_batch
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.routing import ServiceRouter
from services.homecare.deps import CipherDep, SettingsDep
from services.homecare.permissions import OrdersBulk, RecipientsBulk
from services.homecare.sync import service
from services.homecare.sync.schemas import OrderBulkRequest, RecipientBulkRequest

router = ServiceRouter(prefix="/api/v1/homecare", tags=["homecare-sync"])

DESCRIPTION = (
    "城市平台批量上报（每批最多 bulk_max_records 条，默认 1000；超过则整批 422 batch_too_large），以 "
    "(source_system, external_id) 为键。每条记录按单条写入的同一规则校验（{single}），单独返回 "
    "created / updated / unchanged / rejected；被拒绝的记录带单条写入时的错误代码 code 与字段错误 errors，"
    "不影响其他记录，也不写入任何内容；与已存数据相同的记录为 unchanged，重放同一批次不产生任何变化。"
)


@router.post(
    "/recipients/bulk",
    summary="城市平台批量上报服务对象",
    description=DESCRIPTION.format(single="POST /recipients"),
    operation_id="homecare_bulk_upsert_recipients",
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422),
)
async def bulk_upsert_recipients(
    session: SessionDep,
    principal: RecipientsBulk,
    cipher: CipherDep,
    max_records: BulkMaxRecords,
    data: RecipientBulkRequest,
) -> BulkResponse:
    batch = open_batch(data.source_system, data.records, max_records=max_records)
    await service.upsert_recipients(session, principal, cipher, batch)
    return batch.response()


@router.post(
    "/orders/bulk",
    summary="城市平台批量上报订单（代服务对象下单）",
    description=DESCRIPTION.format(single="POST /orders"),
    operation_id="homecare_bulk_upsert_orders",
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422),
)
async def bulk_upsert_orders(
    session: SessionDep,
    principal: OrdersBulk,
    cipher: CipherDep,
    settings: SettingsDep,
    max_records: BulkMaxRecords,
    data: OrderBulkRequest,
) -> BulkResponse:
    batch = open_batch(data.source_system, data.records, max_records=max_records)
    await service.upsert_orders(session, principal, cipher, settings, batch)
    return batch.response()
