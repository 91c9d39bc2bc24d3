"""``POST /{persons|checkups|assessments|signings}/bulk``: a city platform's records (see service.py)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request

from libs.common.bulk import BulkMaxRecords, BulkResponse
from libs.common.clock import Clock
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.routing import ServiceRouter
from services.residents.clients.registry import RegistryClient
from services.residents.deps import CipherDep, RegistryDep, SettingsDep
from services.residents.permissions import PersonsBulk, SyncWrite
from services.residents.sync import service
from services.residents.sync.schemas import AssessmentBulk, CheckupBulk, PersonBulk, SigningBulk

router = ServiceRouter(prefix="/api/v1/residents", tags=["residents-sync"])


@router.post(
    "/persons/bulk",
    summary="城市平台批量同步居民（按身份证号查找或登记；按 source_system + external_id 记录来源）",
    operation_id="residents_bulk_persons",
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422),
)
async def bulk_persons(
    session: SessionDep,
    principal: PersonsBulk,
    cipher: CipherDep,
    data: PersonBulk,
    max_records: BulkMaxRecords,
) -> BulkResponse:
    return await service.persons_bulk(session, principal, cipher, data, max_records=max_records)


@router.post(
    "/checkups/bulk",
    summary="城市平台批量同步老年人健康体检（以本市基层医疗卫生机构的名义记录各项目）",
    operation_id="residents_bulk_checkups",
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422),
)
async def bulk_checkups(
    session: SessionDep,
    principal: SyncWrite,
    settings: SettingsDep,
    cipher: CipherDep,
    registry: RegistryDep,
    data: CheckupBulk,
    max_records: BulkMaxRecords,
) -> BulkResponse:
    institutions = await _institutions(registry, data.records)
    return await service.checkups_bulk(
        session, principal, settings, cipher, data, institutions, max_records=max_records
    )


@router.post(
    "/assessments/bulk",
    summary="城市平台批量同步老年人能力评估（以本市基层医疗卫生机构的名义；总分与等级由平台计算）",
    operation_id="residents_bulk_assessments",
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422),
)
async def bulk_assessments(
    session: SessionDep,
    principal: SyncWrite,
    settings: SettingsDep,
    cipher: CipherDep,
    registry: RegistryDep,
    data: AssessmentBulk,
    max_records: BulkMaxRecords,
) -> BulkResponse:
    institutions = await _institutions(registry, data.records)
    return await service.assessments_bulk(
        session, principal, settings, cipher, data, institutions, max_records=max_records
    )


@router.post(
    "/signings/bulk",
    summary="城市平台批量同步家庭医生签约（以签约团队所属机构的名义；每人同时只有一份有效签约）",
    operation_id="residents_bulk_signings",
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422),
)
async def bulk_signings(
    request: Request,
    session: SessionDep,
    principal: SyncWrite,
    settings: SettingsDep,
    cipher: CipherDep,
    data: SigningBulk,
    max_records: BulkMaxRecords,
) -> BulkResponse:
    clock: Clock = getattr(request.app.state, "clock", None) or Clock()
    return await service.signings_bulk(
        session, principal, settings, cipher, data, today=clock.today(), max_records=max_records
    )


async def _institutions(registry: RegistryClient, records: list[dict[str, Any]]) -> dict[uuid.UUID, Any]:
    """The registry's answer for every institution the records name, asked before the first statement."""
    ids = {
        uuid.UUID(str(r["institution_id"]))
        for r in records
        if isinstance(r.get("institution_id"), str) and _is_uuid(r["institution_id"])
    }
    return {i: await registry.get_institution(i) for i in sorted(ids)}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
