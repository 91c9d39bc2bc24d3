from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from libs.common.bulk import BulkMaxRecords, BulkResponse, open_batch
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.person_index import PersonIndexDep
from libs.common.routing import ServiceRouter
from services.homecare.clients.residents import ResidentsClient, get_residents
from services.homecare.deps import CipherDep, RegistryDep, SettingsDep
from services.homecare.permissions import OrdersBulk, OrdersImport, RecipientsBulk
from services.homecare.sync import history, service
from services.homecare.sync.history_schemas import OrderHistoryBulkRequest
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
    responses=problem_responses(401, 403, 422, 503),
)
async def bulk_upsert_recipients(
    session: SessionDep,
    principal: RecipientsBulk,
    index: PersonIndexDep,
    cipher: CipherDep,
    max_records: BulkMaxRecords,
    data: RecipientBulkRequest,
) -> BulkResponse:
    batch = open_batch(data.source_system, data.records, max_records=max_records)
    await service.upsert_recipients(session, principal, cipher, batch, index=index, max_records=max_records)
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
    request: Request,
    session: SessionDep,
    principal: OrdersBulk,
    cipher: CipherDep,
    settings: SettingsDep,
    max_records: BulkMaxRecords,
    data: OrderBulkRequest,
) -> BulkResponse:
    batch = open_batch(data.source_system, data.records, max_records=max_records)
    await service.upsert_orders(
        session, principal, cipher, settings, batch, index=getattr(request.app.state, "person_index", None)
    )
    return batch.response()


HISTORY_DESCRIPTION = (
    "城市平台接入时导入多年的历史订单，或省级导入：每条为已结束的订单（completed / rated / cancelled），"
    "带原始时间的全过程（下单、评估、受理、派单与护士、出发、签到、签退、完成或取消及原因）、服务记录、"
    "评价，以及可选的一键报警（已处理）和投诉。每批最多 bulk_max_records 条（默认 1000；超过则整批 422 "
    "batch_too_large），以 (source_system, external_id) 为键。每条按单条写入的同一规则校验：下单规则同 "
    "POST /orders（期望时段可在过去；关联的家庭病床须为本机构为该服务对象所建且当日在床，否则 "
    "home_bed_not_open），护士规则同派单（nurse_not_eligible / nurse_not_qualified，一次性向机构注册服务"
    "查询），含高风险或需医嘱项目须本机构医师评估（doctor_assessment_required），服务人群须符合服务对象"
    "（service_group_mismatch；失能按居民服务中该老人评估日当天或之前最近一次能力评估，从未评估才按登记的"
    "失能等级，居民服务不可用时整批 503 residents_unavailable），服务记录的项目须为订单项目"
    "（items_not_in_order），其 record_id 只能使用"
    "一次（visit_record_id_taken）；时间不得晚于当前"
    "（history_in_future），各环节先后有序（history_out_of_order）。被拒绝的记录不写入任何内容；与已导入"
    "内容相同的记录为 unchanged（重放同一批次不产生任何变化），内容不同则拒绝（history_already_imported）。"
    "写入审计记录与变更流（载荷为原始时间）。"
)


@router.post(
    "/orders/history/bulk",
    summary="历史订单批量导入（省级、城市平台；含服务记录、评价、报警与投诉）",
    description=HISTORY_DESCRIPTION,
    operation_id="homecare_bulk_import_order_history",
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422, 502, 503, 504),
)
async def bulk_import_order_history(
    request: Request,
    session: SessionDep,
    principal: OrdersImport,
    cipher: CipherDep,
    settings: SettingsDep,
    registry: RegistryDep,
    residents: Annotated[ResidentsClient, Depends(get_residents)],
    max_records: BulkMaxRecords,
    data: OrderHistoryBulkRequest,
) -> BulkResponse:
    batch = open_batch(data.source_system, data.records, max_records=max_records)
    # asks the registry once, before the session's first statement opens the write transaction; the
    # residents once per person of the batch's 失能 group orders (their assessments)
    await history.import_orders(
        session,
        principal,
        cipher,
        settings,
        registry,
        batch,
        residents=residents,
        index=getattr(request.app.state, "person_index", None),
    )
    return batch.response()
