"""One error tree for every service, rendered as RFC 9457 ``application/problem+json``.

    DomainError                      (400, code chosen by the raiser)
    ├── Unauthorized                 401
    ├── Forbidden                    403
    ├── NotFound                     404
    ├── Conflict                     409   (IntegrityError is mapped here, in one place)
    │   └── IllegalTransition        409   with the transitions allowed from the current state
    ├── PreconditionFailed           412   (If-Match mismatch, concurrent update)
    ├── PayloadTooLarge              413   (request body over its route class's cap)
    ├── PreconditionRequired         428   (If-Match missing)
    ├── Unprocessable                422   (domain validation; request validation is rendered alike)
    ├── TooManyRequests              429
    ├── UpstreamError                502
    ├── ServiceUnavailable           503
    └── UpstreamTimeout              504

``RequestRefused`` carries a DomainError raised while a request body is being received (FastAPI
re-raises only HTTP exceptions from reading a body; anything else would become a 400). An exception no
handler knows is answered 500 by :mod:`libs.common.unhandled_errors`, which keeps the connection.

Every problem carries a stable machine ``code``, a Chinese-first ``detail``, the ``request_id`` and,
for validation failures, field-level ``errors`` with dotted field paths.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from libs.common.request_context import current_request_id

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("libs.common.errors")


class FieldError(BaseModel):
    field: str = Field(description="点分隔的字段路径，如 body.uscc")
    message: str
    code: str


class Problem(BaseModel):
    """RFC 9457 problem details with the platform's extensions."""

    type: str = Field(examples=["urn:yiyang:problem:not_found"])
    title: str
    status: int
    detail: str
    code: str = Field(description="稳定的机器可读错误码")
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None
    extra: dict[str, Any] | None = Field(default=None, description="与错误码相关的附加信息")


class DomainError(Exception):
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad Request"
    default_code: ClassVar[str] = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        errors: Sequence[FieldError] | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.errors = list(errors) if errors else None
        self.extra = dict(extra) if extra else None
        self.headers = dict(headers) if headers else None


class Unauthorized(DomainError):
    status, title, default_code = 401, "Unauthorized", "unauthorized"


class Forbidden(DomainError):
    status, title, default_code = 403, "Forbidden", "forbidden"


class NotFound(DomainError):
    status, title, default_code = 404, "Not Found", "not_found"


class Conflict(DomainError):
    status, title, default_code = 409, "Conflict", "conflict"


class IllegalTransition(Conflict):
    default_code = "illegal_transition"

    def __init__(self, *, entity: str, state: str, action: str, allowed: Sequence[str]) -> None:
        super().__init__(
            f"{entity}当前状态为 {state}，不能执行 {action}（允许的操作：{', '.join(allowed) or '无'}）",
            extra={"state": state, "action": action, "allowed": list(allowed)},
        )


class PreconditionFailed(DomainError):
    status, title, default_code = 412, "Precondition Failed", "precondition_failed"


class PayloadTooLarge(DomainError):
    status, title, default_code = 413, "Content Too Large", "payload_too_large"


class PreconditionRequired(DomainError):
    status, title, default_code = 428, "Precondition Required", "precondition_required"


class Unprocessable(DomainError):
    status, title, default_code = 422, "Unprocessable Content", "unprocessable"


class TooManyRequests(DomainError):
    status, title, default_code = 429, "Too Many Requests", "too_many_requests"


class UpstreamError(DomainError):
    status, title, default_code = 502, "Bad Gateway", "upstream_error"


class ServiceUnavailable(DomainError):
    status, title, default_code = 503, "Service Unavailable", "service_unavailable"


class UpstreamTimeout(DomainError):
    status, title, default_code = 504, "Gateway Timeout", "upstream_timeout"


class RequestRefused(StarletteHTTPException):
    """A DomainError raised from ``receive`` (body caps, the token checked before the body is read)."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.status, error.detail)
        self.error = error


def problem_response(
    *,
    status: int,
    title: str,
    code: str,
    detail: str,
    instance: str | None = None,
    errors: Sequence[FieldError] | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(
        type=f"urn:yiyang:problem:{code}",
        title=title,
        status=status,
        detail=detail,
        code=code,
        instance=instance,
        request_id=current_request_id(),
        errors=list(errors) if errors else None,
        extra=dict(extra) if extra else None,
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers) if headers else None,
    )


def _field_path(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


def validation_field_errors(raw: Sequence[Any]) -> list[FieldError]:
    errors = []
    for item in raw:
        message = str(item.get("msg", ""))
        # pydantic prefixes messages of custom validators with "Value error, "
        message = message.removeprefix("Value error, ")
        errors.append(FieldError(field=_field_path(item.get("loc", ())), message=message, code=item["type"]))
    return errors


_HTTP_CODES = {
    400: ("bad_request", "请求无效"),
    401: ("unauthorized", "未认证或令牌无效"),
    403: ("forbidden", "无权执行此操作"),
    404: ("not_found", "资源不存在"),
    405: ("method_not_allowed", "不支持的请求方法"),
    406: ("not_acceptable", "不支持的响应格式"),
    413: ("payload_too_large", "请求体过大"),
    415: ("unsupported_media_type", "不支持的请求体类型"),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(
            status=exc.status,
            title=exc.title,
            code=exc.code,
            detail=exc.detail,
            instance=request.url.path,
            errors=exc.errors,
            extra=exc.extra,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        allowed = _methods_of_literal_route(request, exc)
        if allowed:
            return problem_response(
                status=405,
                title="Method Not Allowed",
                code="method_not_allowed",
                detail="不支持的请求方法",
                instance=request.url.path,
                headers={"Allow": ", ".join(sorted(allowed))},
            )
        return problem_response(
            status=422,
            title="Unprocessable Content",
            code="validation_failed",
            detail="请求参数校验失败 (request validation failed)",
            instance=request.url.path,
            errors=validation_field_errors(exc.errors()),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, detail = _HTTP_CODES.get(exc.status_code, ("http_error", str(exc.detail)))
        return problem_response(
            status=exc.status_code,
            title=str(exc.detail) if isinstance(exc.detail, str) else "HTTP error",
            code=code,
            detail=detail,
            instance=request.url.path,
            headers=exc.headers,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity conflict", extra={"error_class": type(exc.orig).__name__})
        return problem_response(
            status=409,
            title="Conflict",
            code="conflict",
            detail="与现有数据冲突（唯一性或引用约束）",
            instance=request.url.path,
        )

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return problem_response(
            status=412,
            title="Precondition Failed",
            code="precondition_failed",
            detail="记录已被他人修改，请刷新后重试",
            instance=request.url.path,
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError):
            return _database_unavailable(request, exc)
        log.error("database error", exc_info=exc)
        return internal_error_response(request.url.path)

    @app.exception_handler(ConnectionError)
    async def _connection(request: Request, exc: ConnectionError) -> JSONResponse:
        # e.g. the database refusing connections (asyncpg raises OSError subclasses on connect)
        return _database_unavailable(request, exc)

    @app.exception_handler(RequestRefused)
    async def _refused(request: Request, exc: RequestRefused) -> JSONResponse:
        return await _domain(request, exc.error)


def _methods_of_literal_route(request: Request, exc: RequestValidationError) -> set[str]:
    """``GET /institutions/import`` reaches ``GET /institutions/{id}`` and fails its path parameter
    (whatever else fails with it), although the path names another route (``POST /institutions/import``):
    that is a 405 with ``Allow``."""
    if not any(error.get("loc", ("",))[0] == "path" for error in exc.errors()):
        return set()
    path = request.scope["path"]
    allowed: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        # only a route without parameters: ``PATCH /institutions/{id}`` matches the path too
        if getattr(route, "path", None) == path:
            allowed |= getattr(route, "methods", None) or set()
    return allowed


def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database cannot be reached (down, restarting, connection reset): 503, the client may retry;
    the pool drops dead connections (libs/common/database.py), so the service recovers by itself."""
    log.warning("database unavailable", extra={"error_class": type(exc).__name__})
    return problem_response(
        status=503,
        title="Service Unavailable",
        code="database_unavailable",
        detail="数据库暂不可用，请稍后重试",
        instance=request.url.path,
        headers={"Retry-After": "1"},
    )


def internal_error_response(instance: str | None) -> JSONResponse:
    """The 500 problem: the request id, no internals (the exception goes to the log only)."""
    return problem_response(
        status=500,
        title="Internal Server Error",
        code="internal_error",
        detail="服务器内部错误，请稍后重试或联系管理员",
        instance=instance,
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries declaring the problem+json errors a route may answer."""
    descriptions = {
        400: "请求无效",
        401: "未认证或令牌无效",
        403: "无权执行此操作",
        404: "资源不存在或不在可见范围内",
        409: "状态冲突或重复",
        412: "版本不匹配（If-Match）",
        422: "校验失败",
        428: "缺少 If-Match",
        429: "请求过于频繁",
        502: "上游服务错误",
        503: "服务暂不可用",
        504: "上游服务超时",
    }
    return {
        status: {
            "model": Problem,
            "description": descriptions.get(status, "错误"),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
