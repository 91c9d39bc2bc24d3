"""``/api/v1/auth/session``: sign-in, silent refresh and sign-out of the web console with cookies.

The grants are the token endpoint's own (tokens/service.py): login throttling, rotation, reuse detection
and revocation hold alike. The refresh token never appears in a body here: it lives in the ``yy_refresh``
cookie (cookies.py), and every use of it carries the ``X-CSRF-Token`` header (deps.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from libs.common.errors import problem_responses
from services.gateway.browser_session.cookies import (
    SESSION_PATH,
    clear_session_cookies,
    new_csrf_token,
    set_session_cookies,
)
from services.gateway.browser_session.deps import (
    OptionalSessionCookiesDep,
    SameSiteRequest,
    SessionCookiesDep,
)
from services.gateway.browser_session.schemas import SessionLogin, SessionToken
from services.gateway.settings import GatewaySettings
from services.gateway.tokens import service
from services.gateway.tokens.deps import GrantContextDep
from services.gateway.tokens.schemas import TokenResponse

# A plain router, not ServiceRouter: a replayed Idempotency-Key must never store or hand back tokens.
router = APIRouter(prefix=SESSION_PATH, tags=["auth"])

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_CSRF_DESCRIPTION = (
    "须带请求头 `X-CSRF-Token`，值为 Cookie `yy_csrf` 的值（双重提交）；"
    "来自其他站点的请求（`Origin` / `Sec-Fetch-Site`）一律拒绝。"
)


def _answer(
    response: Response, settings: GatewaySettings, tokens: TokenResponse, csrf_token: str
) -> SessionToken:
    assert tokens.refresh_token is not None  # the password and refresh grants always rotate one in
    response.headers.update(_NO_STORE)
    set_session_cookies(response, settings, refresh_token=tokens.refresh_token, csrf_token=csrf_token)
    return SessionToken(
        access_token=tokens.access_token, token_type=tokens.token_type, expires_in=tokens.expires_in
    )


@router.post(
    "",
    summary="浏览器登录：返回访问令牌，刷新令牌写入 HttpOnly Cookie",
    description=(
        "JSON `{username, password}` → 访问令牌（仅保存在页面内存中）。同时设置 Cookie："
        "`yy_refresh`（刷新令牌；HttpOnly; Secure; SameSite=Strict; Path=/api/v1/auth/session）与 "
        "`yy_csrf`（随机值，供脚本读取后放入 `X-CSRF-Token`；Secure; SameSite=Strict; Path=/）。"
        "响应体中没有刷新令牌。登录限流与 `POST /api/v1/auth/token` 相同（429，带 Retry-After）；"
        "来自其他站点的请求一律拒绝。"
    ),
    operation_id="gateway_create_session",
    response_model=SessionToken,
    responses=problem_responses(401, 403, 422, 429),
)
async def create_session(
    data: SessionLogin, ctx: GrantContextDep, response: Response, _: SameSiteRequest
) -> SessionToken:
    tokens = await service.password_grant(ctx, username=data.username, password=data.password)
    return _answer(response, ctx.settings, tokens, new_csrf_token())


@router.post(
    "/refresh",
    summary="浏览器静默续期：轮换刷新令牌 Cookie，返回新的访问令牌",
    description=(
        "凭 Cookie `yy_refresh` 换取新的访问令牌，并以新的刷新令牌替换该 Cookie（旧的作废；"
        "重复使用已轮换的刷新令牌会撤销整个会话，401 `refresh_token_reused`）。" + _CSRF_DESCRIPTION
    ),
    operation_id="gateway_refresh_session",
    response_model=SessionToken,
    responses=problem_responses(401, 403),
)
async def refresh_session(
    cookies: SessionCookiesDep, ctx: GrantContextDep, response: Response
) -> SessionToken:
    tokens = await service.refresh_grant(ctx, refresh_token=cookies.refresh_token)
    return _answer(response, ctx.settings, tokens, cookies.csrf_token)


@router.delete(
    "",
    summary="浏览器退出：撤销整个会话并清除 Cookie",
    description=(
        "撤销 Cookie `yy_refresh` 所在会话的全部刷新令牌，清除两个 Cookie，204。"
        "没有会话 Cookie 时同样 204。" + _CSRF_DESCRIPTION
    ),
    operation_id="gateway_delete_session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403),
)
async def delete_session(request: Request, cookies: OptionalSessionCookiesDep) -> Response:
    settings: GatewaySettings = request.app.state.settings
    if cookies is not None:
        await service.logout(request.app.state.database, refresh_token=cookies.refresh_token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT, headers=_NO_STORE)
    clear_session_cookies(response, settings)
    return response
