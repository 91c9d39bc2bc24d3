"""``/api/v1/auth/token``, ``/logout``, ``/me`` and ``/.well-known/jwks.json``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status

from libs.common import divisions
from libs.common.access import CurrentPrincipal
from libs.common.auth import TokenIssuer
from libs.common.database import SessionDep
from libs.common.errors import problem_responses
from services.gateway.accounts.models import User
from services.gateway.settings import GatewaySettings
from services.gateway.tokens import grants, service
from services.gateway.tokens.deps import BasicCredentials, GrantContextDep
from services.gateway.tokens.errors import (
    AccountDisabled,
    InvalidClient,
    InvalidRequest,
    UnsupportedGrantType,
)
from services.gateway.tokens.schemas import Jwks, LogoutRequest, Me, TokenResponse

# A plain router, not ServiceRouter: a replayed Idempotency-Key must never store or hand back tokens.
router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
jwks_router = APIRouter(tags=["auth"])

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FormField = Annotated[str | None, Form(max_length=4096)]


@router.post(
    "/token",
    summary="获取访问令牌（OAuth 2.0：password / refresh_token / client_credentials）",
    description=(
        "表单 `application/x-www-form-urlencoded`。\n\n"
        "- `grant_type=password`：`username`、`password` → 访问令牌与刷新令牌\n"
        "- `grant_type=refresh_token`：`refresh_token` → 新的访问令牌与新的刷新令牌（旧的作废；"
        "重复使用已轮换的刷新令牌会撤销整个会话）\n"
        "- `grant_type=client_credentials`：`client_id`、`client_secret`（或 HTTP Basic）→ 访问令牌"
        "（城市平台接口客户端与内部服务；内部服务须以 `audience`（或 `resource`）指明要调用的服务，"
        "令牌只对该服务有效）\n\n"
        "失败次数过多时限制的是尝试而非账号：同一账号从同一地址失败过多须等待（递增），"
        "来源地址失败过多须等待；正确的密码从其他地址始终可以登录（429，带 Retry-After）。"
    ),
    operation_id="gateway_issue_token",
    response_model=TokenResponse,
    responses=problem_responses(400, 401, 422, 429),
)
async def issue_token(
    ctx: GrantContextDep,
    basic: BasicCredentials,
    response: Response,
    grant_type: FormField = None,
    username: FormField = None,
    password: FormField = None,
    refresh_token: FormField = None,
    client_id: FormField = None,
    client_secret: FormField = None,
    scope: FormField = None,
    audience: FormField = None,
    resource: FormField = None,
) -> TokenResponse:
    response.headers.update(_NO_STORE)
    if grant_type == "password":
        missing = [name for name, value in (("username", username), ("password", password)) if not value]
        if missing or username is None or password is None:
            raise InvalidRequest("password 授权需要 username 与 password", missing=missing)
        return await service.password_grant(ctx, username=username, password=password)
    if grant_type == "refresh_token":
        if not refresh_token:
            raise InvalidRequest("refresh_token 授权需要 refresh_token", missing=["refresh_token"])
        return await service.refresh_grant(ctx, refresh_token=refresh_token)
    if grant_type == "client_credentials":
        if basic is not None:
            if client_id is not None and client_id != basic.username:
                raise InvalidClient("HTTP Basic 与表单中的 client_id 不一致")
            client_id, client_secret = basic.username, basic.password
        missing = [n for n, v in (("client_id", client_id), ("client_secret", client_secret)) if not v]
        if missing or client_id is None or client_secret is None:
            raise InvalidRequest("client_credentials 授权需要 client_id 与 client_secret", missing=missing)
        return await service.client_credentials_grant(
            ctx, client_id=client_id, client_secret=client_secret, audience=audience or resource
        )
    if not grant_type:
        raise InvalidRequest("缺少 grant_type", missing=["grant_type"])
    raise UnsupportedGrantType(grant_type)


@router.post(
    "/logout",
    summary="注销：撤销刷新令牌所在的整个会话",
    operation_id="gateway_logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(422),
)
async def logout(request: Request, data: LogoutRequest) -> Response:
    await service.logout(request.app.state.database, refresh_token=data.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/me",
    summary="当前令牌的身份与权限",
    description=(
        "令牌所代表的用户或接口客户端，以及其在网关与各服务的权限代码 `permissions`"
        "（`<服务>:<权限>`，如 `registry:institutions:update`），供控制台决定显示哪些菜单与按钮。"
        "权限由各服务按其权限表作答（`GET /api/v1/{服务}/access/me`）；暂时无法应答的服务，"
        "其权限不在列表中。辖区与本机构等对象级范围仍在每次调用时检查。"
    ),
    operation_id="gateway_get_me",
    response_model=Me,
    responses=problem_responses(401),
)
async def me(session: SessionDep, principal: CurrentPrincipal, request: Request) -> Me:
    division = divisions.get(principal.region_code)
    result = Me(
        sub=principal.sub,
        role=principal.role.value,
        role_label=principal.role.label,
        region_code=principal.region_code,
        region_name=division.name if division else None,
        institution_id=principal.institution_id,
        practitioner_id=principal.practitioner_id,
        expires_at=principal.expires_at,
    )
    kind, _, ident = principal.sub.partition(":")
    if kind == "user":
        try:
            user = await session.get(User, uuid.UUID(ident))
        except ValueError:
            user = None
        if user is None or not user.active:
            raise AccountDisabled()
        result.username = user.username
        result.display_name = user.display_name
        await session.rollback()  # the read is over: no connection is held while the services answer
    elif kind in {"client", "service"}:
        result.client_id = ident
    settings: GatewaySettings = request.app.state.settings
    token = request.headers["authorization"].partition(" ")[2].strip()  # verified by CurrentPrincipal
    result.permissions = await grants.permissions(
        principal, token, http=request.app.state.upstream_http, upstreams=settings.upstream_urls()
    )
    return result


@jwks_router.get(
    "/.well-known/jwks.json",
    summary="令牌签名公钥（JWKS）",
    operation_id="gateway_get_jwks",
    response_model=Jwks,
)
async def jwks(request: Request, response: Response) -> Jwks:
    issuer: TokenIssuer = request.app.state.issuer
    response.headers["Cache-Control"] = "public, max-age=300"
    return Jwks.model_validate(issuer.jwks())
