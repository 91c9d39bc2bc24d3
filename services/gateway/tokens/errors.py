"""Errors of the token endpoint: problem+json with a stable ``code`` plus the OAuth 2.0 ``error`` field.

OAuthProblem (adds ``error`` / ``error_description`` to the problem, RFC 6749 §5.2)
├── InvalidRequest          400 invalid_request
├── UnsupportedGrantType    400 unsupported_grant_type
├── InvalidGrant            401 invalid_grant (wrong username/password, unknown/expired refresh token)
│   ├── RefreshTokenReused  401 refresh_token_reused (a rotated token came back: family revoked)
│   └── AccountDisabled     401 account_disabled
├── InvalidTarget           400 invalid_target (a service asked for an audience it may not call)
├── InvalidClient           401 invalid_client
├── AttemptThrottled        429 login_throttled (this account failed too often from this address: wait)
├── AccountThrottled        429 account_throttled (a WRONG password for an account under attack)
└── AddressThrottled        429 too_many_requests (too many failures from this address)
"""

from __future__ import annotations

import json
from typing import ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from libs.common.errors import (
    PROBLEM_MEDIA_TYPE,
    DomainError,
    FieldError,
    TooManyRequests,
    Unauthorized,
    problem_response,
)


class OAuthProblem(DomainError):
    oauth_error: ClassVar[str] = "invalid_request"


class InvalidRequest(OAuthProblem):
    status, title, default_code = 400, "Bad Request", "invalid_request"
    oauth_error = "invalid_request"

    def __init__(self, detail: str, *, missing: list[str] | None = None) -> None:
        errors = [
            FieldError(field=f"body.{name}", message="缺少此参数", code="missing") for name in missing or []
        ]
        super().__init__(detail, errors=errors)


class UnsupportedGrantType(OAuthProblem):
    status, title, default_code = 400, "Bad Request", "unsupported_grant_type"
    oauth_error = "unsupported_grant_type"

    def __init__(self, grant_type: str | None) -> None:
        super().__init__(
            f"不支持的授权类型 {grant_type!r}（支持 password、refresh_token、client_credentials）",
            extra={"supported": ["password", "refresh_token", "client_credentials"]},
        )


class InvalidGrant(OAuthProblem, Unauthorized):
    default_code = "invalid_grant"
    oauth_error = "invalid_grant"


class RefreshTokenReused(InvalidGrant):
    default_code = "refresh_token_reused"

    def __init__(self) -> None:
        super().__init__("刷新令牌已被使用过，疑似泄露：该登录会话的全部令牌已撤销，请重新登录")


class AccountDisabled(InvalidGrant):
    default_code = "account_disabled"

    def __init__(self) -> None:
        super().__init__("账号已停用，请联系上级管理员")


class InvalidTarget(OAuthProblem):
    """RFC 8707 §2: the requested audience is not one this client may call."""

    status, title, default_code = 400, "Bad Request", "invalid_target"
    oauth_error = "invalid_target"

    def __init__(self, audience: str | None, allowed: list[str]) -> None:
        detail = (
            f"内部服务令牌须以 audience 参数指明要调用的服务（可选：{'、'.join(allowed) or '无'}）"
            if not audience
            else f"该客户端无权获取调用 {audience!r} 的令牌（可选：{'、'.join(allowed) or '无'}）"
        )
        super().__init__(detail, extra={"allowed_audiences": allowed})


class InvalidClient(OAuthProblem, Unauthorized):
    default_code = "invalid_client"
    oauth_error = "invalid_client"

    def __init__(self, detail: str = "客户端认证失败（client_id 或 client_secret 错误，或已撤销）") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Basic realm="yiyang"'})


class _Throttled(OAuthProblem, TooManyRequests):
    oauth_error = "too_many_requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(
            detail, headers={"Retry-After": str(retry_after)}, extra={"retry_after_seconds": retry_after}
        )


class AttemptThrottled(_Throttled):
    default_code = "login_throttled"

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(
            f"该账号从此地址登录失败次数过多，请 {retry_after} 秒后再试", retry_after=retry_after
        )


class AccountThrottled(_Throttled):
    default_code = "account_throttled"

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(
            f"用户名或密码错误；该账号近期登录失败次数过多，请 {retry_after} 秒后再试",
            retry_after=retry_after,
        )


class AddressThrottled(_Throttled):
    default_code = "too_many_requests"

    def __init__(self, *, retry_after: int) -> None:
        super().__init__(f"来自该地址的登录失败次数过多，请 {retry_after} 秒后再试", retry_after=retry_after)


def install_oauth_error_handler(app: FastAPI) -> None:
    """Render :class:`OAuthProblem` as problem+json that OAuth 2.0 clients also understand."""

    @app.exception_handler(OAuthProblem)
    async def _oauth(request: Request, exc: OAuthProblem) -> JSONResponse:
        headers = {**(exc.headers or {}), "Cache-Control": "no-store"}
        rendered = problem_response(
            status=exc.status,
            title=exc.title,
            code=exc.code,
            detail=exc.detail,
            instance=request.url.path,
            errors=exc.errors,
            extra=exc.extra,
        )
        body = json.loads(bytes(rendered.body))
        body["error"] = exc.oauth_error
        body["error_description"] = exc.detail
        return JSONResponse(body, status_code=exc.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)
