"""Forwarding a request to a service and its response back.

- One pooled transport (``app.state.upstreams``, :mod:`.upstreams`: httpx's, used without its client
  layer) with explicit timeouts: connecting (a stopped service answers *connection refused* at once →
  502) and each read (a stuck one → 504).
- Hop-by-hop headers are dropped both ways, and the upstream's CORS headers (the gateway's apply);
  ``Authorization`` is passed on (every service verifies the token itself); ``X-Request-ID`` is set to
  the request's id; ``X-Forwarded-*`` are added; ``traceparent`` is the gateway's client span (when
  tracing is on; libs/common/tracing.py), never the caller's.
- Only ``/api/v1/{service}/...`` is forwarded (to the same path): a service's ``/metrics``,
  ``/healthz`` and ``/readyz`` are not reachable through the gateway. A path with a ``.`` or ``..``
  segment (also percent-encoded) is refused (404) unsent: the outbound URL would lose its dot segments
  and could leave ``/api/v1/{service}/`` (``/api/v1/registry/../../../metrics``).
- Only GET and HEAD are retried, once, and only when the connection could not be made (nothing was
  sent). Non-idempotent requests are never retried.
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
from collections.abc import AsyncIterator

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from libs.common import body_guard, tracing
from libs.common.errors import NotFound
from libs.common.request_context import REQUEST_ID_HEADER, current_request_id
from services.gateway.proxy.errors import UpstreamFailed, UpstreamTooSlow, UpstreamUnavailable
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


def response_headers(upstream: httpx.Response) -> RawHeaders:
    """The upstream's headers less hop-by-hop ones and CORS ones (the gateway's own CORS policy answers
    browsers; two ``Access-Control-Allow-Origin`` headers would make them refuse the response)."""
    raw: RawHeaders = list(upstream.headers.raw)
    return [
        (name, value)
        for name, value in _kept(raw, _RESPONSE_DROP | _named_in_connection(raw))
        if not name.startswith(b"access-control-")
    ]


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


async def _admit_body(request: Request, service: str) -> None:
    """A body goes upstream only with a token valid at ``service``, checked before it is read (its cap
    is enforced by the body guard around every app)."""
    if body_guard.has_body(request.scope):
        await body_guard.verify_bearer(request.scope, request.app.state.verifier, service=service)


def _has_dot_segment(path: str) -> bool:
    """``path`` (percent-decoded, as in the ASGI scope) has a ``.`` or ``..`` segment."""
    return any(segment in (".", "..") for segment in path.split("/"))


def _declared_length(upstream: httpx.Response) -> int | None:
    value = upstream.headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


async def _read_whole(upstream: httpx.Response, service: str) -> bytes:
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


async def forward(request: Request, *, service: str, upstream: Upstream, buffer_max_bytes: int) -> Response:
    if _has_dot_segment(request.scope["path"]):
        raise NotFound("资源不存在", code="not_found")
    await _admit_body(request, service)
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string", b"")
    target = (
        upstream.base_url + raw_path.decode("latin-1") + (("?" + query.decode("latin-1")) if query else "")
    )
    outbound = httpx.Request(
        request.method,
        target,
        headers=request_headers(request),
        content=request.stream() if body_guard.has_body(request.scope) else None,
        extensions={"timeout": upstream.timeout},
    )
    attempts = 2 if request.method in RETRYABLE_METHODS else 1
    answer: httpx.Response | None = None
    with tracing.client_span(request.method, raw_path.decode("latin-1"), peer=service) as trace_headers:
        outbound.headers.update(trace_headers)
        for attempt in range(1, attempts + 1):
            try:
                answer = await upstream.transport.handle_async_request(outbound)
                answer.request = outbound
                break
            except httpx.ConnectError as exc:
                if attempt < attempts:
                    continue
                raise UpstreamUnavailable(service) from exc
            except httpx.TimeoutException as exc:
                raise UpstreamTooSlow(service) from exc
            except httpx.HTTPError as exc:
                raise UpstreamFailed(service) from exc
            except AttributeError as exc:
                # httpcore on anyio asks the peer name of a socket the dying upstream already closed
                # (``'NoneType' object has no attribute 'getpeername'``): the upstream went away
                raise UpstreamUnavailable(service) from exc
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
