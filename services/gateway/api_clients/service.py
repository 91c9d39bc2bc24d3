"""City-platform API clients: created by the province admin, bound to one city; the secret is shown
once (at creation and at each rotation) and stored only as an argon2 hash."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit, divisions
from libs.common.auth import Principal, Role
from libs.common.concurrency import check_if_match
from libs.common.errors import IllegalTransition
from libs.common.models import utcnow
from libs.common.pagination import PageParams, paginate
from services.gateway import passwords
from services.gateway.api_clients.errors import ApiClientNotFound, ClientIdTaken, InvalidClientRegion
from services.gateway.api_clients.models import ApiClient
from services.gateway.api_clients.schemas import ApiClientCreate


async def create(
    session: AsyncSession, principal: Principal, data: ApiClientCreate, *, reserved_ids: Collection[str]
) -> tuple[ApiClient, str]:
    division = divisions.get(data.region_code)
    if division is None or not division.is_city_unit:
        raise InvalidClientRegion()
    if data.client_id in reserved_ids or (
        await session.scalar(select(ApiClient.id).where(ApiClient.client_id == data.client_id))
    ):
        raise ClientIdTaken(data.client_id)
    secret = passwords.new_client_secret()
    client = ApiClient(
        client_id=data.client_id,
        name=data.name,
        role=Role.city_platform.value,
        region_code=data.region_code,
        secret_hash=await passwords.hash_(secret),
        active=True,
        created_by=principal.sub,
    )
    session.add(client)
    await session.flush()
    audit.record(
        session,
        principal,
        action="api_client.create",
        entity_type="api_client",
        entity_id=client.id,
        changes=data.model_dump(),
    )
    return client, secret


async def get(session: AsyncSession, client_id: uuid.UUID) -> ApiClient:
    client = await session.get(ApiClient, client_id)
    if client is None:
        raise ApiClientNotFound()
    return client


async def list_(
    session: AsyncSession, *, params: PageParams, region_code: str | None = None, active: bool | None = None
) -> tuple[list[ApiClient], str | None]:
    stmt = select(ApiClient)
    if region_code is not None:
        stmt = stmt.where(ApiClient.region_code == region_code)
    if active is not None:
        stmt = stmt.where(ApiClient.active.is_(active))
    return await paginate(session, stmt, order_by=[ApiClient.client_id], params=params)


def _ensure_active(client: ApiClient, action: str) -> None:
    if not client.active:
        raise IllegalTransition(entity="接口客户端", state="revoked", action=action, allowed=[])


async def rotate_secret(
    session: AsyncSession, principal: Principal, client_id: uuid.UUID, *, if_match: str | None
) -> tuple[ApiClient, str]:
    client = await get(session, client_id)
    check_if_match(if_match, client.version)
    _ensure_active(client, "rotate_secret")
    secret = passwords.new_client_secret()
    client.secret_hash = await passwords.hash_(secret)
    client.secret_rotated_at = utcnow()
    await session.flush()
    audit.record(
        session,
        principal,
        action="api_client.rotate_secret",
        entity_type="api_client",
        entity_id=client.id,
        changes={"client_secret": ["***", "***"]},
    )
    return client, secret


async def revoke(
    session: AsyncSession, principal: Principal, client_id: uuid.UUID, *, if_match: str | None
) -> ApiClient:
    client = await get(session, client_id)
    check_if_match(if_match, client.version)
    _ensure_active(client, "revoke")
    client.active = False
    client.revoked_at = utcnow()
    await session.flush()
    audit.record(
        session,
        principal,
        action="api_client.revoke",
        entity_type="api_client",
        entity_id=client.id,
        changes={"active": [True, False]},
    )
    return client
