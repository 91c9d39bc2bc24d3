from __future__ import annotations

from libs.common.database import SessionDep
from libs.common.errors import Unprocessable, problem_responses
from libs.common.routing import ServiceRouter
from services.contracts.agreements import bulk
from services.contracts.agreements.schemas import AgreementBulk, AgreementBulkResult
from services.contracts.clients.registry import RegistryDep
from services.contracts.clock import ClockDep
from services.contracts.deps import CipherDep, SettingsDep
from services.contracts.permissions import AgreementsBulk

router = ServiceRouter(prefix="/api/v1/contracts", tags=["agreements-bulk"])


@router.post(
    "/agreements/bulk",
    summary="城市平台批量上报签约协议（按 source_system + external_id 新增或更新，逐条返回结果）",
    operation_id="contracts_bulk_upsert_agreements",
    response_model=AgreementBulkResult,
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
) -> AgreementBulkResult:
    if len(data.records) > settings.bulk_max_records:
        raise Unprocessable(f"每批最多 {settings.bulk_max_records} 条", code="batch_too_large")
    return await bulk.upsert(
        session,
        principal,
        data.records,
        registry=registry,
        cipher=cipher,
        today=clock.today(),
        now=clock.now(),
        page_size=settings.registry_page_size,
    )
