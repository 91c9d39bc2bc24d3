"""``POST /persons/bulk`` and ``POST /checkups/bulk``: a city platform's records (see service.py)."""

from __future__ import annotations

import uuid

from libs.common.bulk import BulkMaxRecords, BulkResponse
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.routing import ServiceRouter
from services.residents.deps import CipherDep, RegistryDep, SettingsDep
from services.residents.permissions import SyncWrite
from services.residents.sync import service
from services.residents.sync.schemas import CheckupBulk, PersonBulk

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
    principal: SyncWrite,
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
    ids = {
        uuid.UUID(str(r["institution_id"]))
        for r in data.records
        if isinstance(r.get("institution_id"), str) and _is_uuid(r["institution_id"])
    }
    # the registry first (no database statement yet)
    institutions = {i: await registry.get_institution(i) for i in sorted(ids)}
    return await service.checkups_bulk(
        session, principal, settings, cipher, data, institutions, max_records=max_records
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
