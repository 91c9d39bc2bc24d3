from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Response

from libs.common.bulk import BulkMaxRecords, BulkResponse, open_batch
from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from services.homecare.deps import RegistryDep, SettingsDep
from services.homecare.permissions import ProvidersImport, ProvidersRead, ProvidersWrite
from services.homecare.providers import bulk, service
from services.homecare.providers.models import Provider
from services.homecare.providers.schemas import (
    ProviderBulkRequest,
    ProviderDetail,
    ProviderItemRead,
    ProviderItemUpdate,
    ProviderRead,
    ProviderUpdate,
)

router = ServiceRouter(prefix="/api/v1/homecare/providers", tags=["homecare-providers"])

VisibleProvider = Annotated[
    Provider, Depends(load_visible(service.get, permission=ProvidersRead, id_name="institution_id"))
]


@router.get(
    "",
    summary="互联网+护理服务机构列表",
    operation_id="homecare_list_providers",
    response_model=Page[ProviderRead],
    responses=problem_responses(401, 403, 422),
)
async def list_providers(session: SessionDep, principal: ProvidersRead, page: PageDep) -> Page[ProviderRead]:
    rows, next_cursor = await service.list_(session, principal, params=page)
    return Page(
        items=[ProviderRead.model_validate(r) for r in rows], next_cursor=next_cursor, limit=page.limit
    )


@router.post(
    "/bulk",
    summary="批量设置服务机构的上门服务费与项目价格（省级或城市平台；按机构新增或更新，逐条返回结果）",
    description=(
        "每条记录等同于 PUT /providers/{institution_id} 加其项目的 PUT …/items/{item_code}，按同一规则校验："
        "上门服务费上限（visit_fee_above_ceiling）、机构须在注册服务中登记为互联网+护理服务或家庭病床服务机构"
        "（not_an_internet_nursing_provider）、项目须在当前目录中（catalog_item_unknown）且价格在指导价范围内"
        "（price_outside_guidance）；机构须在调用方辖区内（out_of_scope）。未列出的项目保持不变；与已存数据相同"
        "的记录为 unchanged。每批最多 bulk_max_records 条（默认 1000；超过则整批 422 batch_too_large）。"
    ),
    operation_id="homecare_bulk_upsert_providers",
    response_model=BulkResponse,
    responses=problem_responses(401, 403, 422, 502, 504),
)
async def bulk_upsert_providers(
    session: SessionDep,
    principal: ProvidersImport,
    registry: RegistryDep,
    settings: SettingsDep,
    max_records: BulkMaxRecords,
    data: ProviderBulkRequest,
) -> BulkResponse:
    batch = open_batch(data.source_system, data.records, max_records=max_records)
    bulk.validate(batch)
    # the registry first: the session's first statement opens the write transaction
    institutions = await bulk.fetch_institutions(registry, batch)
    await bulk.upsert(session, principal, settings, batch, institutions)
    return batch.response()


@router.get(
    "/{institution_id}",
    summary="机构的上门服务费、开通项目与价格",
    operation_id="homecare_get_provider",
    response_model=ProviderDetail,
    responses=problem_responses(401, 403, 404),
)
async def get_provider(
    session: SessionDep, principal: ProvidersRead, provider: VisibleProvider, response: Response
) -> ProviderDetail:
    set_etag(response, provider.version)
    items = await service.items_read(session, provider.institution_id)
    return ProviderDetail(**ProviderRead.model_validate(provider).model_dump(), items=items)


@router.put(
    "/{institution_id}",
    summary="开通或修改本机构的互联网+护理服务设置（上门服务费）",
    description=(
        "首次开通无需 If-Match；之后修改须携带 If-Match。"
        "机构须在注册服务中登记为互联网+护理服务或家庭病床服务机构。"
    ),
    operation_id="homecare_put_provider",
    response_model=ProviderRead,
    responses=problem_responses(401, 403, 412, 422, 428, 502, 504),
)
async def put_provider(
    session: SessionDep,
    principal: ProvidersWrite,
    registry: RegistryDep,
    settings: SettingsDep,
    institution_id: uuid.UUID,
    data: ProviderUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> ProviderRead:
    provider, created = await service.upsert(
        session, principal, registry, settings, institution_id=institution_id, data=data, if_match=if_match
    )
    if created:
        response.status_code = 201
    set_etag(response, provider.version)
    return ProviderRead.model_validate(provider)


@router.put(
    "/{institution_id}/items/{item_code}",
    summary="开通项目并设置价格（须在指导价范围内）",
    operation_id="homecare_put_provider_item",
    response_model=ProviderItemRead,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
async def put_provider_item(
    session: SessionDep,
    principal: ProvidersWrite,
    institution_id: uuid.UUID,
    item_code: Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,20}$")],
    data: ProviderItemUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> ProviderItemRead:
    row = await service.set_item(
        session, principal, institution_id=institution_id, item_code=item_code, data=data, if_match=if_match
    )
    set_etag(response, row.version)
    items = {i.item_code: i for i in await service.items_read(session, institution_id)}
    return items[item_code]
