"""Base for a service's typed clients of another service (through the gateway).

One long-lived ``httpx.AsyncClient`` per upstream with explicit timeouts; ``X-Request-ID`` forwarded;
a short-lived service token fetched from the gateway with client credentials and cached until shortly
before it expires; timeouts and failures mapped to 504/502 problems.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from libs.common import tracing
from libs.common.errors import UpstreamError, UpstreamTimeout
from libs.common.request_context import REQUEST_ID_HEADER, current_request_id

TOKEN_PATH = "/api/v1/auth/token"

Wire = TypeVar("Wire", bound=BaseModel)


class ServiceTokenSource:
    """Client-credentials tokens for internal calls, refreshed a minute before they expire. ``audience``
    names the one service the token is for (the gateway refuses audiences the client may not call)."""

    def __init__(self, http: httpx.AsyncClient, *, client_id: str, client_secret: str, audience: str) -> None:
        self._http = http
        self._audience = audience
        self._client_id = client_id
        self._client_secret = client_secret
        self._token: str | None = None
        self._valid_until = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        if self._token and time.monotonic() < self._valid_until:
            return self._token
        async with self._lock:
            if self._token and time.monotonic() < self._valid_until:
                return self._token
            try:
                response = await self._http.post(
                    TOKEN_PATH,
                    data={
                        "grant_type": "client_credentials",
                        "client_id": self._client_id,
                        "client_secret": self._client_secret,
                        "audience": self._audience,
                    },
                )
            except httpx.TimeoutException as exc:
                raise UpstreamTimeout("获取内部服务令牌超时", code="service_token_timeout") from exc
            except httpx.HTTPError as exc:
                raise UpstreamError("无法获取内部服务令牌", code="service_token_unavailable") from exc
            if response.status_code != 200:
                raise UpstreamError("网关拒绝签发内部服务令牌", code="service_token_refused")
            body = response.json()
            self._token = str(body["access_token"])
            self._valid_until = time.monotonic() + float(body.get("expires_in", 300)) - 60
            return self._token


class StaticTokenSource:
    """A fixed token (tests, or a caller that already holds one)."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self) -> str:
        return self._token


class ServiceClient:
    """Calls another service through the gateway as this service.

    Reads are typed: :meth:`get_or_none` answers the caller's own wire model (a tolerant reader), or
    ``None`` for a 404; any other non-200 answer is :attr:`refused_code`, a body the model cannot read is
    :attr:`bad_payload_code` (both 502 problems).
    """

    upstream_name = "上游服务"
    refused_code = "upstream_refused"
    bad_payload_code = "upstream_bad_payload"

    def __init__(self, http: httpx.AsyncClient, tokens: ServiceTokenSource | StaticTokenSource) -> None:
        self._http = http
        self._tokens = tokens

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        headers["Authorization"] = f"Bearer {await self._tokens.token()}"
        request_id = current_request_id()
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        with tracing.client_span(method, path, peer=_peer(path), headers=headers):
            try:
                response = await self._http.request(method, path, headers=headers, **kwargs)
            except httpx.TimeoutException as exc:
                raise UpstreamTimeout(f"{self.upstream_name}响应超时", code="upstream_timeout") from exc
            except httpx.HTTPError as exc:
                raise UpstreamError(f"{self.upstream_name}不可用", code="upstream_unavailable") from exc
            tracing.set_response_status(response.status_code)
        if response.status_code >= 500:
            raise UpstreamError(f"{self.upstream_name}返回错误 {response.status_code}", code="upstream_error")
        return response

    async def get_or_none(self, path: str, model: type[Wire], **kwargs: Any) -> Wire | None:
        """``GET path`` read as ``model``; ``None`` when the upstream answers 404."""
        response = await self.request("GET", path, **kwargs)
        if response.status_code == 404:
            return None
        return self.read(response, model)

    def read(self, response: httpx.Response, model: type[Wire]) -> Wire:
        """A 200 answer read as ``model``; anything else is a 502 problem."""
        if response.status_code != 200:
            raise UpstreamError(
                f"{self.upstream_name}拒绝了请求（HTTP {response.status_code}）", code=self.refused_code
            )
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise UpstreamError(
                f"{self.upstream_name}返回的数据无法识别", code=self.bad_payload_code
            ) from exc


def _peer(path: str) -> str:
    """The service a gateway path leads to (``/api/v1/registry/...`` → ``registry``), else the gateway."""
    parts = path.split("/", 4)
    return parts[3] if len(parts) > 3 and parts[1:3] == ["api", "v1"] and parts[3] else "gateway"


def make_http_client(base_url: str, timeout_seconds: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_seconds, connect=min(3.0, timeout_seconds)),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )
