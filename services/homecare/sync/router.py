from __future__ import annotations

from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.routing import ServiceRouter
from services.homecare.deps import CipherDep
from services.homecare.permissions import OrdersBulk, RecipientsBulk
from services.homecare.sync import service
from services.homecare.sync.schemas import BulkResponse, OrderBulkRequest, RecipientBulkRequest

router = ServiceRouter(prefix="/api/v1/homecare", tags=["homecare-sync"])

DESCRIPTION = (
    "城市平台批量上报（最多 1000 条），以 (source_system, external_id) 为键；每条记录单独返回 "
    "created / updated / unchanged / rejected（附原因）；坏记录不影响其他记录；重放同一批次不产生任何变化；"
    "不在本平台所在城市的记录被拒绝。"
)


@router.post(
    "/recipients/bulk",
    summary="城市平台批量上报服务对象",
    description=DESCRIPTION,
    operation_id="homecare_bulk_upsert_recipients",
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422),
)
async def bulk_upsert_recipients(
    session: SessionDep, principal: RecipientsBulk, cipher: CipherDep, data: RecipientBulkRequest
) -> BulkResponse:
    return await service.upsert_recipients(
        session, principal, cipher, source_system=data.source_system, records=data.records
    )


@router.post(
    "/orders/bulk",
    summary="城市平台批量上报订单（代服务对象下单）",
    description=DESCRIPTION,
    operation_id="homecare_bulk_upsert_orders",
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422),
)
async def bulk_upsert_orders(
    session: SessionDep, principal: OrdersBulk, cipher: CipherDep, data: OrderBulkRequest
) -> BulkResponse:
    return await service.upsert_orders(
        session, principal, cipher, source_system=data.source_system, records=data.records
    )
