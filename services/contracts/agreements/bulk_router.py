from __future__ import annotations

from libs.common.bulk import BulkMaxRecords, BulkResponse
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.routing import ServiceRouter
from services.contracts.agreements import bulk
from services.contracts.agreements.schemas import AgreementBulk
from services.contracts.clients.registry import RegistryDep
from services.contracts.clock import ClockDep
from services.contracts.deps import CipherDep, SettingsDep
from services.contracts.permissions import AgreementsBulk

router = ServiceRouter(prefix="/api/v1/contracts", tags=["agreements-bulk"])


@router.post(
    "/agreements/bulk",
    summary="城市平台批量上报签约协议（按 source_system + external_id 新增或更新，逐条返回结果）",
    operation_id="contracts_bulk_upsert_agreements",
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 409, 422, 502, 504),
)
async def bulk_upsert_agreements(
    session: SessionDep,
    principal: AgreementsBulk,
    data: AgreementBulk,
    registry: RegistryDep,
    cipher: CipherDep,
    clock: ClockDep,
    settings: SettingsDep,
    max_records: BulkMaxRecords,
) -> BulkResponse:
    return await bulk.upsert(
        session,
        principal,
        data,
        registry=registry,
        cipher=cipher,
        today=clock.today(),
        now=clock.now(),
        page_size=settings.registry_page_size,
        max_records=max_records,
    )
