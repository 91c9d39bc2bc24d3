from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Response

from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from services.homecare.deps import RegistryDep, SettingsDep
from services.homecare.permissions import ProvidersRead, ProvidersWrite
from services.homecare.providers import service
from services.homecare.providers.models import Provider
from services.homecare.providers.schemas import (
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
        "首次开通无需 If-Match；之后修改须携带 If-Match。机构须在注册服务中登记为互联网+护理服务机构。"
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
