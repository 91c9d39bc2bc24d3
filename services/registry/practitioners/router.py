"""``/api/v1/registry/practitioners``: doctors, nurses and 护理员, with masked personal data."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.audit import record_disclosures
from libs.common.bulk import BulkMaxRecords, BulkResponse
from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from services.registry.deps import CipherDep, SettingsDep
from services.registry.permissions import PractitionersImport, PractitionersRead, PractitionersWrite
from services.registry.practitioners import bulk, service
from services.registry.practitioners.models import Practitioner, PractitionerKind, Title
from services.registry.practitioners.schemas import (
    PractitionerBulkRequest,
    PractitionerCreate,
    PractitionerLookup,
    PractitionerRead,
    PractitionerUpdate,
)

router = ServiceRouter(prefix="/api/v1/registry/practitioners", tags=["practitioners"])


async def eligibility_rule(settings: SettingsDep) -> service.EligibilityRule:
    return service.EligibilityRule.from_settings(settings)


RuleDep = Annotated[service.EligibilityRule, Depends(eligibility_rule)]
VisiblePractitioner = Annotated[
    Practitioner, Depends(load_visible(service.get, permission=PractitionersRead, id_name="practitioner_id"))
]


async def _reads(
    rows: list[Practitioner],
    principal: PractitionersRead,
    cipher: CipherDep,
    rule: service.EligibilityRule,
    request: Request,
    *,
    session: AsyncSession,
) -> list[PractitionerRead]:
    disclosed = [
        row.id
        for row in rows
        if service.discloses_to(principal, row) and (row.id_number_enc or row.phone_enc)
    ]
    await record_disclosures(
        request,
        session,
        principal,
        entity_type=service.ENTITY,
        entity_ids=disclosed,
        fields=service.PERSONAL_FIELDS,
    )
    return [service.to_read(row, cipher, rule, disclose=row.id in disclosed) for row in rows]


@router.get(
    "",
    summary="执业人员列表",
    operation_id="registry_list_practitioners",
    response_model=Page[PractitionerRead],
    responses=problem_responses(401, 403, 422),
)
async def list_practitioners(
    session: SessionDep,
    principal: PractitionersRead,
    page: PageDep,
    cipher: CipherDep,
    rule: RuleDep,
    request: Request,
    institution_id: Annotated[uuid.UUID | None, Query()] = None,
    kind: Annotated[PractitionerKind | None, Query()] = None,
    title: Annotated[Title | None, Query()] = None,
    homecare_eligible: Annotated[bool | None, Query(description="可提供互联网+护理服务")] = None,
    active: Annotated[bool | None, Query()] = None,
    region_code: Annotated[str | None, Query(pattern=r"^35\d{4}$")] = None,
) -> Page[PractitionerRead]:
    rows, next_cursor = await service.list_(
        session,
        principal,
        params=page,
        rule=rule,
        institution_id=institution_id,
        kind=kind,
        title=title,
        homecare_eligible=homecare_eligible,
        active=active,
        region_code=region_code,
    )
    items = await _reads(rows, principal, cipher, rule, request, session=session)
    return Page(items=items, next_cursor=next_cursor, limit=page.limit)


@router.post(
    "/lookup",
    summary="按身份证号精确查找（盲索引）",
    operation_id="registry_lookup_practitioners",
    response_model=list[PractitionerRead],
    responses=problem_responses(401, 403, 422),
)
async def lookup_practitioners(
    session: SessionDep,
    principal: PractitionersRead,
    data: PractitionerLookup,
    cipher: CipherDep,
    rule: RuleDep,
    request: Request,
) -> list[PractitionerRead]:
    rows = await service.lookup_by_id_number(session, principal, data.id_number, cipher=cipher)
    return await _reads(rows, principal, cipher, rule, request, session=session)


@router.post(
    "",
    summary="新增执业人员",
    operation_id="registry_create_practitioner",
    status_code=status.HTTP_201_CREATED,
    response_model=PractitionerRead,
    responses=problem_responses(401, 403, 404, 422),
)
async def create_practitioner(
    session: SessionDep,
    principal: PractitionersWrite,
    data: PractitionerCreate,
    response: Response,
    cipher: CipherDep,
    rule: RuleDep,
) -> PractitionerRead:
    practitioner = await service.create(session, principal, data, cipher=cipher)
    set_etag(response, practitioner.version)
    response.headers["Location"] = f"{router.prefix}/{practitioner.id}"
    return service.to_read(practitioner, cipher, rule, disclose=False)


@router.post(
    "/bulk",
    summary="批量上报执业人员（按 source_system + external_id 新增或更新）",
    operation_id="registry_bulk_upsert_practitioners",
    description=(
        "每条记录为 POST /practitioners 的内容加 external_id 与在岗状态 active；规则与单条新增相同"
        "（身份证号 GB 11643 校验、职称与人员类别相符、机构存在且在管辖范围内、"
        "机构在用 institution_inactive），"
        "已有记录按 PATCH /practitioners/{id} 的规则更新所带字段（所属机构不可更改 "
        "practitioner_institution_fixed）；身份证号、手机号加密保存并建盲索引。每条记录单独返回 "
        "created / updated / unchanged / rejected；重放同一批次不产生任何变化；每批最多 bulk_max_records 条"
        "（默认 1000），超出则整批 422 batch_too_large。"
    ),
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422),
)
async def bulk_upsert_practitioners(
    session: SessionDep,
    principal: PractitionersImport,
    data: PractitionerBulkRequest,
    cipher: CipherDep,
    max_records: BulkMaxRecords,
) -> BulkResponse:
    return await bulk.upsert(session, principal, data, cipher=cipher, max_records=max_records)


@router.get(
    "/{practitioner_id}",
    summary="执业人员详情",
    operation_id="registry_get_practitioner",
    response_model=PractitionerRead,
    responses=problem_responses(401, 403, 404),
)
async def get_practitioner(
    session: SessionDep,
    principal: PractitionersRead,
    practitioner: VisiblePractitioner,
    response: Response,
    cipher: CipherDep,
    rule: RuleDep,
    request: Request,
) -> PractitionerRead:
    set_etag(response, practitioner.version)
    return (await _reads([practitioner], principal, cipher, rule, request, session=session))[0]


@router.patch(
    "/{practitioner_id}",
    summary="修改执业人员信息（需 If-Match）",
    operation_id="registry_update_practitioner",
    response_model=PractitionerRead,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def update_practitioner(
    session: SessionDep,
    principal: PractitionersWrite,
    practitioner_id: uuid.UUID,
    data: PractitionerUpdate,
    response: Response,
    if_match: IfMatch,
    cipher: CipherDep,
    rule: RuleDep,
) -> PractitionerRead:
    practitioner = await service.update(
        session, principal, practitioner_id, data, if_match=if_match, cipher=cipher
    )
    set_etag(response, practitioner.version)
    return service.to_read(practitioner, cipher, rule, disclose=False)


@router.post(
    "/{practitioner_id}/deactivate",
    summary="停用执业人员（离职等；需 If-Match）",
    operation_id="registry_deactivate_practitioner",
    response_model=PractitionerRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
async def deactivate_practitioner(
    session: SessionDep,
    principal: PractitionersWrite,
    practitioner_id: uuid.UUID,
    response: Response,
    if_match: IfMatch,
    cipher: CipherDep,
    rule: RuleDep,
) -> PractitionerRead:
    practitioner = await service.set_active(
        session, principal, practitioner_id, active=False, if_match=if_match
    )
    set_etag(response, practitioner.version)
    return service.to_read(practitioner, cipher, rule, disclose=False)


@router.post(
    "/{practitioner_id}/reactivate",
    summary="重新启用执业人员（需 If-Match）",
    operation_id="registry_reactivate_practitioner",
    response_model=PractitionerRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
async def reactivate_practitioner(
    session: SessionDep,
    principal: PractitionersWrite,
    practitioner_id: uuid.UUID,
    response: Response,
    if_match: IfMatch,
    cipher: CipherDep,
    rule: RuleDep,
) -> PractitionerRead:
    practitioner = await service.set_active(
        session, principal, practitioner_id, active=True, if_match=if_match
    )
    set_etag(response, practitioner.version)
    return service.to_read(practitioner, cipher, rule, disclose=False)
