"""Forwarding a request to a service and its response back, streaming both bodies.

- One pooled ``httpx.AsyncClient`` (``app.state.upstream_http``) with explicit timeouts: connecting
  (a stopped service answers *connection refused* at once → 502) and each read (a stuck one → 504).
- Hop-by-hop headers are dropped both ways, and the upstream's CORS headers (the gateway's apply);
  ``Authorization`` is passed on (every service verifies the token itself); ``X-Request-ID`` is set to
  the request's id; ``X-Forwarded-*`` are added.
- Only GET and HEAD are retried, once, and only when the connection could not be made (nothing was
  sent). Non-idempotent requests are never retried.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import StreamingResponse

from libs.common.request_context import REQUEST_ID_HEADER, current_request_id
from services.gateway.proxy.errors import UpstreamFailed, UpstreamTooSlow, UpstreamUnavailable

log = logging.getLogger("services.gateway.proxy")

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
_REQUEST_DROP = HOP_BY_HOP | {"host", "x-request-id", "x-forwarded-host", "x-forwarded-proto"}
_RESPONSE_DROP = HOP_BY_HOP | {"server", "date", "x-request-id"}
RETRYABLE_METHODS = frozenset({"GET", "HEAD"})


def _named_in_connection(headers: httpx.Headers | list[tuple[str, str]]) -> set[str]:
    values = headers.get_list("connection") if isinstance(headers, httpx.Headers) else []
    return {token.strip().lower() for value in values for token in value.split(",") if token.strip()}


def request_headers(request: Request) -> list[tuple[str, str]]:
    incoming = httpx.Headers(request.headers.raw)
    drop = _REQUEST_DROP | _named_in_connection(incoming)
    headers = [(k, v) for k, v in incoming.multi_items() if k.lower() not in drop]
    peer = request.client.host if request.client else None
    if peer:
        forwarded = incoming.get("x-forwarded-for")
        headers = [(k, v) for k, v in headers if k.lower() != "x-forwarded-for"]
        headers.append(("x-forwarded-for", f"{forwarded}, {peer}" if forwarded else peer))
    headers.append(("x-forwarded-proto", request.url.scheme))
    if "host" in request.headers:
        headers.append(("x-forwarded-host", request.headers["host"]))
    request_id = current_request_id()
    if request_id:
        headers.append((REQUEST_ID_HEADER, request_id))
    return headers


def response_headers(upstream: httpx.Response) -> list[tuple[str, str]]:
    """The upstream's headers less hop-by-hop ones and CORS ones (the gateway's own CORS policy answers
    browsers; two ``Access-Control-Allow-Origin`` headers would make them refuse the response)."""
    drop = _RESPONSE_DROP | _named_in_connection(upstream.headers)
    return [
        (k, v)
        for k, v in upstream.headers.multi_items()
        if k.lower() not in drop and not k.lower().startswith("access-control-")
    ]


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in request.headers


async def _relay(upstream: httpx.Response, service: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    except httpx.HTTPError as exc:
        # The status line is already sent: all that can be done is to cut the response short.
        log.warning(
            "upstream body interrupted", extra={"upstream": service, "error_class": type(exc).__name__}
        )
    finally:
        await upstream.aclose()


async def forward(request: Request, *, service: str, base_url: str) -> StreamingResponse:
    http: httpx.AsyncClient = request.app.state.upstream_http
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    target = base_url + raw_path.decode("latin-1") + (("?" + query.decode("latin-1")) if query else "")
    outbound = http.build_request(
        request.method,
        target,
        headers=request_headers(request),
        content=request.stream() if _has_body(request) else None,
    )
    attempts = 2 if request.method in RETRYABLE_METHODS else 1
    upstream: httpx.Response | None = None
    for attempt in range(1, attempts + 1):
        try:
            upstream = await http.send(outbound, stream=True)
            break
        except httpx.ConnectError as exc:
            if attempt < attempts:
                continue
            raise UpstreamUnavailable(service) from exc
        except httpx.TimeoutException as exc:
            raise UpstreamTooSlow(service) from exc
        except httpx.HTTPError as exc:
            raise UpstreamFailed(service) from exc
    assert upstream is not None
    response = StreamingResponse(
        _relay(upstream, service),
        status_code=upstream.status_code,
        background=BackgroundTask(upstream.aclose),
    )
    # Raw headers, so that repeated ones (Set-Cookie, Link …) survive.
    response.raw_headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in response_headers(upstream)
    ]
    return response
