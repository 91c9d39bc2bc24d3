"""``/api/v1/auth/clients``: city-platform API clients (province admin only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.loading import load_by_id
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from services.gateway.api_clients import service
from services.gateway.api_clients.models import ApiClient
from services.gateway.api_clients.schemas import ApiClientCreate, ApiClientRead, ApiClientWithSecret
from services.gateway.permissions import ClientsRead, ClientsWrite
from services.gateway.settings import GatewaySettings

router = ServiceRouter(prefix="/api/v1/auth/clients", tags=["api-clients"])
# The routes that answer a secret use a plain router: Idempotency-Key replay would store the secret.
secret_router = APIRouter(prefix="/api/v1/auth/clients", tags=["api-clients"])
_NO_STORE = {"Cache-Control": "no-store"}

# Clients have no scope: the province admin, the only holder of the permission, manages all of them.
KnownClient = Annotated[
    ApiClient, Depends(load_by_id(service.get, permission=ClientsRead, id_name="client_id"))
]


def _with_secret(response: Response, client: ApiClient, secret: str) -> ApiClientWithSecret:
    response.headers.update(_NO_STORE)
    set_etag(response, client.version)
    return ApiClientWithSecret.model_validate(
        {**ApiClientRead.model_validate(client).model_dump(), "client_secret": secret}
    )


@secret_router.post(
    "",
    summary="创建城市平台接口客户端（密钥只显示一次）",
    operation_id="gateway_create_api_client",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiClientWithSecret,
    responses=problem_responses(401, 403, 409, 422),
)
async def create_api_client(
    request: Request, session: SessionDep, principal: ClientsWrite, data: ApiClientCreate, response: Response
) -> ApiClientWithSecret:
    settings: GatewaySettings = request.app.state.settings
    client, secret = await service.create(
        session, principal, data, reserved_ids=settings.service_clients.keys()
    )
    response.headers["Location"] = f"{router.prefix}/{client.id}"
    return _with_secret(response, client, secret)


@router.get(
    "",
    summary="接口客户端列表",
    operation_id="gateway_list_api_clients",
    response_model=Page[ApiClientRead],
    responses=problem_responses(401, 403, 422),
)
async def list_api_clients(
    session: SessionDep,
    principal: ClientsRead,
    page: PageDep,
    region_code: Annotated[str | None, Query(pattern=r"^\d{6}$", description="所属设区市")] = None,
    active: Annotated[bool | None, Query(description="是否有效")] = None,
) -> Page[ApiClientRead]:
    rows, next_cursor = await service.list_(session, params=page, region_code=region_code, active=active)
    return Page(
        items=[ApiClientRead.model_validate(r) for r in rows], next_cursor=next_cursor, limit=page.limit
    )


@router.get(
    "/{client_id}",
    summary="接口客户端详情",
    operation_id="gateway_get_api_client",
    response_model=ApiClientRead,
    responses=problem_responses(401, 403, 404),
)
async def get_api_client(principal: ClientsRead, client: KnownClient, response: Response) -> ApiClientRead:
    set_etag(response, client.version)
    return ApiClientRead.model_validate(client)


@secret_router.post(
    "/{client_id}/rotate-secret",
    summary="轮换客户端密钥（新密钥只显示一次，旧密钥立即失效）",
    operation_id="gateway_rotate_api_client_secret",
    response_model=ApiClientWithSecret,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
async def rotate_api_client_secret(
    session: SessionDep, principal: ClientsWrite, client_id: uuid.UUID, if_match: IfMatch, response: Response
) -> ApiClientWithSecret:
    client, secret = await service.rotate_secret(session, principal, client_id, if_match=if_match)
    return _with_secret(response, client, secret)


@router.post(
    "/{client_id}/revoke",
    summary="撤销接口客户端",
    operation_id="gateway_revoke_api_client",
    response_model=ApiClientRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
async def revoke_api_client(
    session: SessionDep, principal: ClientsWrite, client_id: uuid.UUID, if_match: IfMatch, response: Response
) -> ApiClientRead:
    client = await service.revoke(session, principal, client_id, if_match=if_match)
    set_etag(response, client.version)
    return ApiClientRead.model_validate(client)
