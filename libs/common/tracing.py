"""OpenTelemetry traces: gateway → service → the services it calls → the database, one trace per request.

- **Server span** (:class:`TracingMiddleware`): continues the trace of the W3C ``traceparent`` the
  request carries (taken from the headers only: a request without one starts a trace), named
  ``METHOD /route/{template}``; attributes: the method, the route template, the status, the problem
  code, the service and ``yiyang.request_id`` (the ``X-Request-ID`` of libs/common/request_context.py).
  The raw path and the query string are not recorded (personal data never goes into a trace).
- **Client span** (:func:`client_span`): an outbound HTTP call (the gateway's proxy, a service's
  :class:`~libs.common.http_client.ServiceClient`); its context goes out as ``traceparent``.
- **Database spans** (:func:`instrument_engine`): one per statement (``db.system``, the statement's
  first keyword as its name; never the parameters).

Off by default, at no cost: with no exporter configured no tracer provider is installed, and every hook
returns at its first line. :func:`configure` installs the SDK's provider with an OTLP/HTTP exporter when
``otlp_traces_endpoint`` is set; tests install their own provider (in-memory exporter) with
:func:`install_provider`. The provider is the process's (one service per process in production).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from libs.common.request_context import current_request_id
from libs.common.settings import ServiceSettings

log = logging.getLogger("libs.common.tracing")

TRACER_NAME = "yiyang"
REQUEST_ID_ATTRIBUTE = "yiyang.request_id"
SERVICE_ATTRIBUTE = "yiyang.service"

_provider: TracerProvider | None = None
_exporting = False  # the provider is configure()'s (shut down with the app), not a test's


def enabled() -> bool:
    return _provider is not None


def install_provider(provider: TracerProvider | None) -> None:
    """Make ``provider`` the one spans go to (None: tracing off). The OpenTelemetry API's global
    provider is set too, once, for libraries that look it up."""
    global _provider
    _provider = provider
    if provider is not None and not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(provider)


def configure(settings: ServiceSettings) -> None:
    """Install an OTLP/HTTP exporter when ``otlp_traces_endpoint`` is set (once per process)."""
    if not settings.otlp_traces_endpoint or _provider is not None:
        return
    # Imported here: the exporter (protobuf, requests) is loaded only by a process that exports.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": settings.service_name, "deployment.environment": settings.environment}
        ),
        sampler=ParentBasedTraceIdRatio(settings.trace_sample_ratio),
    )
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(
                endpoint=settings.otlp_traces_endpoint,
                timeout=settings.otlp_timeout_seconds,
            )
        )
    )
    install_provider(provider)
    global _exporting
    _exporting = True
    log.info("traces exported over OTLP", extra={"service": settings.service_name})


def shutdown() -> None:
    """Flush and stop the OTLP exporter :func:`configure` started (the app's shutdown)."""
    global _exporting
    if _provider is not None and _exporting:
        _provider.shutdown()
        install_provider(None)
        _exporting = False


def _tracer() -> trace.Tracer:
    assert _provider is not None
    return _provider.get_tracer(TRACER_NAME)


# ------------------------------------------------------------------------------------------ server
def _route_template(scope: Scope) -> str | None:
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(template) if template else None


class TracingMiddleware:
    """The server span of every HTTP request (see the module's docstring)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _provider is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope["headers"]
            if name in (b"traceparent", b"tracestate")
        }
        method: str = scope["method"]
        span = _tracer().start_span(
            method,
            context=propagate.extract(carrier),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, SERVICE_ATTRIBUTE: self.service},
        )
        request_id = current_request_id()
        if request_id:
            span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)
        status = 500

        async def traced_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            with trace.use_span(span, end_on_exit=False, record_exception=True, set_status_on_exception=True):
                await self.app(scope, receive, traced_send)
        finally:
            route = _route_template(scope)
            if route:
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", status)
            code = scope.get("state", {}).get("problem_code")
            if code:
                span.set_attribute("yiyang.problem_code", code)
            if status >= 500:
                span.set_status(Status(StatusCode.ERROR))
            span.end()


# ------------------------------------------------------------------------------------------ client
@contextmanager
def client_span(
    method: str, url: Any, *, peer: str, headers: MutableMapping[str, str] | None = None
) -> Iterator[MutableMapping[str, str]]:
    """A client span around an outbound call to ``peer``; yields ``headers`` with ``traceparent`` added
    (nothing is added when tracing is off). ``url``'s query string is never recorded."""
    carrier: MutableMapping[str, str] = headers if headers is not None else {}
    if _provider is None:
        yield carrier
        return
    path = str(getattr(url, "path", url)).split("?", 1)[0]
    with _tracer().start_as_current_span(
        f"{method} {peer}",
        kind=SpanKind.CLIENT,
        attributes={"http.request.method": method, "url.path": path, "peer.service": peer},
    ) as span:
        request_id = current_request_id()
        if request_id:
            span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)
        propagate.inject(carrier)
        yield carrier


def set_response_status(status: int) -> None:
    """The status of the current client span's response."""
    if _provider is None:
        return
    span = trace.get_current_span()
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))


# ---------------------------------------------------------------------------------------- database
def _before_cursor_execute(
    conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
) -> None:
    if _provider is None or context is None:
        return
    words = statement.split(None, 1)
    keyword = words[0].upper() if words else "SQL"
    system = conn.dialect.name
    context._yiyang_span = _tracer().start_span(
        f"{keyword} {system}",
        kind=SpanKind.CLIENT,
        attributes={"db.system": system, "db.operation.name": keyword},
    )


def _finish(context: Any, error: BaseException | None) -> None:
    span = getattr(context, "_yiyang_span", None)
    if span is None:
        return
    context._yiyang_span = None
    if error is not None:
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    span.end()


def _after_cursor_execute(
    _conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool
) -> None:
    _finish(context, None)


def _handle_error(exception_context: Any) -> None:
    _finish(exception_context.execution_context, exception_context.original_exception)


def instrument_engine(engine: AsyncEngine) -> None:
    """A span per statement run on ``engine`` (once per engine; nothing is recorded while tracing is
    off). The statement's text and parameters are not recorded: only its first keyword."""
    sync_engine = engine.sync_engine
    if event.contains(sync_engine, "before_cursor_execute", _before_cursor_execute):
        return
    event.listen(sync_engine, "before_cursor_execute", _before_cursor_execute)
    event.listen(sync_engine, "after_cursor_execute", _after_cursor_execute)
    event.listen(sync_engine, "handle_error", _handle_error)
