"""Forwarding a request to a service and its response back.

- The proxy's own keep-alive HTTP/1.1 pool (``app.state.upstreams``, :mod:`.upstreams`, :mod:`.pool`;
  a test's mounted httpx transport instead) with explicit timeouts: connecting (a stopped service answers
  *connection refused* at once → 502) and each read (a stuck one → 504).
- Hop-by-hop headers are dropped both ways, and the upstream's CORS headers (the gateway's apply);
  ``Authorization`` is passed on (every service verifies the token itself); ``X-Request-ID`` is set to
  the request's id; ``X-Forwarded-*`` are added; ``traceparent`` is the gateway's client span (when
  tracing is on; libs/common/tracing.py), never the caller's.
- Only ``/api/v1/{service}/...`` is forwarded (to the same path): a service's ``/metrics``,
  ``/healthz`` and ``/readyz`` are not reachable through the gateway. A path with a ``.`` or ``..``
  segment (also percent-encoded) is refused (404) unsent: the outbound URL would lose its dot segments
  and could leave ``/api/v1/{service}/`` (``/api/v1/registry/../../../metrics``).
- Only GET and HEAD are retried, once, and only when the connection could not be made (nothing was
  sent; the pool also sends a GET or HEAD without a body again on a fresh connection when a kept-alive
  one turns out closed before a byte of the answer). Non-idempotent requests are never retried.
- Header values are passed on as the bytes they arrived as (a non-ASCII ``X-Foo: é`` or
  ``Idempotency-Key: 键`` reaches the service, which judges it), both ways.
- A request with a body is forwarded only with a valid bearer token (verified here, before a byte of
  the body is read or sent upstream) and within the body cap of its route class
  (:mod:`libs.common.body_guard`, which also cuts off a chunked body that passes the cap). The request
  body is streamed upstream.
- A response with a ``Content-Length`` up to ``proxy_buffer_max_bytes`` (1 MiB) is read whole and
  answered in one piece: nothing is relayed chunk by chunk through the middlewares, and an upstream
  that fails before the last byte answers 502 (504 if it stalls) instead of a cut-off body. A longer
  response, or one without a length (an event stream: every event is passed on as it comes), is
  streamed; an upstream failing in the middle of it can only cut the response short.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Protocol

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from libs.common import body_guard, tracing
from libs.common.errors import NotFound
from libs.common.request_context import REQUEST_ID_HEADER, current_request_id
from services.gateway.proxy.errors import UpstreamFailed, UpstreamTooSlow, UpstreamUnavailable
from services.gateway.proxy.pool import LeanPool
from services.gateway.proxy.upstreams import Upstream

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
_REQUEST_DROP = HOP_BY_HOP | {
    "host",
    "x-request-id",
    "x-forwarded-host",
    "x-forwarded-proto",
    "traceparent",
    "tracestate",
}
_RESPONSE_DROP = HOP_BY_HOP | {"server", "date", "x-request-id"}
RETRYABLE_METHODS = frozenset({"GET", "HEAD"})


RawHeaders = list[tuple[bytes, bytes]]


def _named_in_connection(headers: RawHeaders) -> set[str]:
    """Header names listed in ``Connection`` (hop-by-hop by declaration)."""
    values = [value.decode("latin-1") for name, value in headers if name.lower() == b"connection"]
    return {token.strip().lower() for value in values for token in value.split(",") if token.strip()}


def _kept(headers: RawHeaders, drop: frozenset[str] | set[str]) -> RawHeaders:
    return [(name.lower(), value) for name, value in headers if name.decode("latin-1").lower() not in drop]


def request_headers(request: Request) -> RawHeaders:
    incoming: RawHeaders = list(request.headers.raw)
    headers = _kept(incoming, _REQUEST_DROP | _named_in_connection(incoming))
    peer = request.client.host if request.client else None
    if peer:
        forwarded = b", ".join(value for name, value in incoming if name.lower() == b"x-forwarded-for")
        headers = [(k, v) for k, v in headers if k != b"x-forwarded-for"]
        headers.append(
            (b"x-forwarded-for", forwarded + b", " + peer.encode() if forwarded else peer.encode())
        )
    headers.append((b"x-forwarded-proto", request.url.scheme.encode("latin-1")))
    host = next((value for name, value in incoming if name.lower() == b"host"), None)
    if host:
        headers.append((b"x-forwarded-host", host))
    request_id = current_request_id()
    if request_id:
        headers.append((REQUEST_ID_HEADER.lower().encode("latin-1"), request_id.encode("latin-1")))
    return headers


class Answer(Protocol):
    """An upstream's response as the proxy reads it (the pool's :class:`~.pool.LeanResponse`, or a
    mounted transport's through :class:`_Mounted`)."""

    status_code: int
    raw_headers: RawHeaders

    def aiter_raw(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class _Mounted:
    """A mounted httpx transport's response as an :class:`Answer`."""

    __slots__ = ("status_code", "raw_headers", "_response")

    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.raw_headers = list(response.headers.raw)
        self._response = response

    def aiter_raw(self) -> AsyncIterator[bytes]:
        return self._response.aiter_raw()

    async def aclose(self) -> None:
        await self._response.aclose()


def response_headers(upstream: Answer) -> RawHeaders:
    """The upstream's headers less hop-by-hop ones and CORS ones (the gateway's own CORS policy answers
    browsers; two ``Access-Control-Allow-Origin`` headers would make them refuse the response)."""
    raw = upstream.raw_headers
    return [
        (name, value)
        for name, value in _kept(raw, _RESPONSE_DROP | _named_in_connection(raw))
        if not name.startswith(b"access-control-")
    ]


async def _relay(upstream: Answer, service: str) -> AsyncIterator[bytes]:
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


async def _admit_body(request: Request, service: str) -> None:
    """A body goes upstream only with a token valid at ``service``, checked before it is read (its cap
    is enforced by the body guard around every app)."""
    if body_guard.has_body(request.scope):
        await body_guard.verify_bearer(request.scope, request.app.state.verifier, service=service)


def _has_dot_segment(path: str) -> bool:
    """``path`` (percent-decoded, as in the ASGI scope) has a ``.`` or ``..`` segment."""
    return any(segment in (".", "..") for segment in path.split("/"))


def _declared_length(upstream: Answer) -> int | None:
    for name, value in upstream.raw_headers:
        if name.lower() == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _read_whole(upstream: Answer, service: str) -> bytes:
    """The raw (still content-encoded) body; the status line is not sent yet, so a failure is a problem."""
    try:
        return b"".join([chunk async for chunk in upstream.aiter_raw()])
    except httpx.TimeoutException as exc:
        raise UpstreamTooSlow(service) from exc
    except httpx.HTTPError as exc:
        log.warning(
            "upstream body interrupted", extra={"upstream": service, "error_class": type(exc).__name__}
        )
        raise UpstreamFailed(service) from exc
    finally:
        await upstream.aclose()


async def _send(
    request: Request, upstream: Upstream, raw_path: bytes, trace_headers: Mapping[str, str]
) -> Answer:
    """One attempt at the upstream (httpx's exceptions when it fails)."""
    query = request.scope.get("query_string", b"")
    headers = request_headers(request)
    headers += [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in trace_headers.items()
    ]
    body = request.stream() if body_guard.has_body(request.scope) else None
    transport = upstream.transport
    if isinstance(transport, LeanPool):
        assert upstream.target is not None
        path = raw_path + b"?" + query if query else raw_path
        return await transport.request(upstream.target, request.method, path, headers, body, upstream.timeout)
    target = (
        upstream.base_url + raw_path.decode("latin-1") + (("?" + query.decode("latin-1")) if query else "")
    )
    outbound = httpx.Request(
        request.method, target, headers=headers, content=body, extensions={"timeout": upstream.timeout}
    )
    return _Mounted(await transport.handle_async_request(outbound))


async def forward(request: Request, *, service: str, upstream: Upstream, buffer_max_bytes: int) -> Response:
    if _has_dot_segment(request.scope["path"]):
        raise NotFound("资源不存在", code="not_found")
    await _admit_body(request, service)
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    attempts = 2 if request.method in RETRYABLE_METHODS else 1
    answer: Answer | None = None
    with tracing.client_span(request.method, raw_path.decode("latin-1"), peer=service) as trace_headers:
        for attempt in range(1, attempts + 1):
            try:
                answer = await _send(request, upstream, raw_path, trace_headers)
                break
            except httpx.ConnectError as exc:
                if attempt < attempts:
                    continue
                raise UpstreamUnavailable(service) from exc
            except httpx.TimeoutException as exc:
                raise UpstreamTooSlow(service) from exc
            except httpx.HTTPError as exc:
                raise UpstreamFailed(service) from exc
        if answer is not None:
            tracing.set_response_status(answer.status_code)
    assert answer is not None
    length = _declared_length(answer)
    response: Response
    if length is not None and length <= buffer_max_bytes:
        response = Response(await _read_whole(answer, service), status_code=answer.status_code)
    else:
        response = StreamingResponse(
            _relay(answer, service),
            status_code=answer.status_code,
            background=BackgroundTask(answer.aclose),
        )
    # Raw headers, so that repeated ones (Set-Cookie, Link …) and their bytes survive (Content-Length
    # among them: the upstream's, which the body read whole matches; HEAD's and 304's body is empty).
    response.raw_headers = response_headers(answer)
    return response
