"""``/api/v1/auth/users``: each level manages the users of the level below, within its scope."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response, status

from libs.common.auth import ROLE_LABELS, Role
from libs.common.concurrency import IfMatch, set_etag
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from libs.common.loading import load_visible
from libs.common.pagination import Page, PageDep
from libs.common.routing import ServiceRouter
from services.gateway.accounts import service
from services.gateway.accounts.deps import RegistryDep
from services.gateway.accounts.grants import USER_ROLES
from services.gateway.accounts.models import User
from services.gateway.accounts.schemas import AuthEnums, RoleOption, UserCreate, UserRead, UserUpdate
from services.gateway.permissions import UsersRead, UsersWrite
from services.gateway.settings import GatewaySettings

router = ServiceRouter(prefix="/api/v1/auth/users", tags=["users"])
enums_router = ServiceRouter(prefix="/api/v1/auth", tags=["auth"])

VisibleUser = Annotated[User, Depends(load_visible(service.get, permission=UsersRead, id_name="user_id"))]


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


def _read(response: Response, user: object) -> UserRead:
    read = UserRead.model_validate(user)
    set_etag(response, read.version)
    return read


@router.post(
    "",
    summary="创建下一级用户",
    description=(
        "省级管理员创建设区市管理员；设区市管理员创建本市的县级管理员；县级管理员为本县区的机构创建机构管理员"
        "（机构由注册服务核实）；机构管理员创建本机构的医护人员。"
    ),
    operation_id="gateway_create_user",
    status_code=status.HTTP_201_CREATED,
    response_model=UserRead,
    responses=problem_responses(401, 403, 409, 422, 502, 504),
)
async def create_user(
    request: Request,
    session: SessionDep,
    principal: UsersWrite,
    registry: RegistryDep,
    data: UserCreate,
    response: Response,
) -> UserRead:
    user = await service.create(
        session,
        principal,
        data,
        registry=registry,
        password_min_length=_settings(request).password_min_length,
    )
    response.headers["Location"] = f"{router.prefix}/{user.id}"
    return _read(response, user)


@router.get(
    "",
    summary="用户列表（本辖区）",
    operation_id="gateway_list_users",
    response_model=Page[UserRead],
    responses=problem_responses(401, 403, 422),
)
async def list_users(
    session: SessionDep,
    principal: UsersRead,
    page: PageDep,
    role: Annotated[Role | None, Query(description="角色")] = None,
    region_code: Annotated[str | None, Query(pattern=r"^\d{6}$", description="行政区划代码")] = None,
    institution_id: Annotated[uuid.UUID | None, Query(description="所属机构")] = None,
    active: Annotated[bool | None, Query(description="是否启用")] = None,
) -> Page[UserRead]:
    rows, next_cursor = await service.list_(
        session,
        principal,
        params=page,
        role=role,
        region_code=region_code,
        institution_id=institution_id,
        active=active,
    )
    return Page(items=[UserRead.model_validate(r) for r in rows], next_cursor=next_cursor, limit=page.limit)


@router.get(
    "/{user_id}",
    summary="用户详情",
    operation_id="gateway_get_user",
    response_model=UserRead,
    responses=problem_responses(401, 403, 404),
)
async def get_user(principal: UsersRead, user: VisibleUser, response: Response) -> UserRead:
    return _read(response, user)


@router.patch(
    "/{user_id}",
    summary="修改用户（姓名、重置密码、关联执业人员）",
    operation_id="gateway_update_user",
    response_model=UserRead,
    responses=problem_responses(401, 403, 404, 412, 422, 428, 502, 504),
)
async def update_user(
    request: Request,
    session: SessionDep,
    principal: UsersWrite,
    registry: RegistryDep,
    user_id: uuid.UUID,
    data: UserUpdate,
    if_match: IfMatch,
    response: Response,
) -> UserRead:
    user = await service.update(
        session,
        principal,
        user_id,
        data,
        registry=registry,
        if_match=if_match,
        password_min_length=_settings(request).password_min_length,
    )
    return _read(response, user)


@router.post(
    "/{user_id}/deactivate",
    summary="停用用户（撤销其全部会话）",
    operation_id="gateway_deactivate_user",
    response_model=UserRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
async def deactivate_user(
    session: SessionDep, principal: UsersWrite, user_id: uuid.UUID, if_match: IfMatch, response: Response
) -> UserRead:
    user = await service.set_active(session, principal, user_id, active=False, if_match=if_match)
    return _read(response, user)


@router.post(
    "/{user_id}/reactivate",
    summary="重新启用用户",
    operation_id="gateway_reactivate_user",
    response_model=UserRead,
    responses=problem_responses(401, 403, 404, 409, 412, 428),
)
async def reactivate_user(
    session: SessionDep, principal: UsersWrite, user_id: uuid.UUID, if_match: IfMatch, response: Response
) -> UserRead:
    user = await service.set_active(session, principal, user_id, active=True, if_match=if_match)
    return _read(response, user)


@enums_router.get(
    "/enums", summary="角色等枚举及中文名称", operation_id="gateway_get_auth_enums", response_model=AuthEnums
)
async def auth_enums() -> AuthEnums:
    return AuthEnums(
        roles=[
            RoleOption(value=role, label=ROLE_LABELS[role])
            for role in (*USER_ROLES, Role.city_platform, Role.service)
        ]
    )
