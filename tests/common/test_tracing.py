"""Traces across the hops (libs/common/tracing.py): one request through the gateway to the contracts
service, which asks the registry, is ONE trace whose spans link parent to child — gateway (server) →
gateway proxy (client) → contracts (server) → contracts' registry call (client) → registry (server) →
the registry's SQL — with the request id on every server span; the W3C ``traceparent`` carries the
context from hop to hop (each server span takes its parent from the headers only). With no provider
installed nothing is recorded or sent. Also: the gateway forwards no service's ``/metrics``."""

from __future__ import annotations

import asyncio
import http.server
import threading
import urllib.parse
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from libs.common import tracing
from libs.common.auth import Role, TokenIssuer, TokenVerifier
from libs.common.testing import TestDatabases, Tokens, live_client
from services.contracts.clock import ManualClock
from tests import platform_apps

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN_ID = "00f067aa0ba902b7"
REQUEST_ID = "trace-test-0001"


@dataclass(frozen=True)
class Stack:
    registry: FastAPI
    contracts: FastAPI
    gateway: FastAPI


@pytest.fixture(scope="module")
async def stack(
    test_databases: TestDatabases, token_issuer: TokenIssuer, token_verifier: TokenVerifier, tokens: Tokens
) -> AsyncIterator[Stack]:
    services = ("gateway", "registry", "contracts")
    async with platform_apps.database_urls(
        test_databases, services, sqlite_prefix="tracing", postgres_suffix="tracing"
    ) as urls:
        async with platform_apps.registry_app(test_databases, token_verifier, urls["registry"]) as registry:
            async with platform_apps.contracts_app(
                test_databases,
                token_verifier,
                tokens,
                registry,
                urls["contracts"],
                ManualClock(platform_apps.TODAY),
            ) as contracts:
                async with platform_apps.gateway_app(
                    test_databases,
                    token_issuer,
                    urls["gateway"],
                    {
                        "contracts": httpx.ASGITransport(app=contracts),
                        "registry": httpx.ASGITransport(app=registry),
                    },
                ) as gateway:
                    yield Stack(registry, contracts, gateway)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install_provider(provider)
    try:
        yield exporter
    finally:
        tracing.install_provider(None)
        provider.shutdown()


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def _one(spans: Sequence[ReadableSpan], service: str, kind: SpanKind, name_start: str) -> ReadableSpan:
    found = [
        s
        for s in spans
        if s.kind == kind
        and s.name.startswith(name_start)
        and (kind != SpanKind.SERVER or (s.attributes or {}).get(tracing.SERVICE_ATTRIBUTE) == service)
    ]
    assert len(found) == 1, [(s.name, s.kind, s.attributes) for s in spans]
    return found[0]


def _parent_id(span: ReadableSpan) -> str | None:
    return _hex(span.parent.span_id, 16) if span.parent else None


def _id(span: ReadableSpan) -> str:
    assert span.context is not None
    return _hex(span.context.span_id, 16)


async def test_one_request_through_the_gateway_is_one_trace_across_every_hop(
    stack: Stack, tokens: Tokens, spans: InMemorySpanExporter
) -> None:
    async with live_client(stack.gateway) as client:
        response = await client.get(
            "/api/v1/contracts/coverage",
            params={"region_code": "350203"},
            headers={
                **tokens.headers(Role.county_admin, "350203"),
                "traceparent": f"00-{TRACE_ID}-{CALLER_SPAN_ID}-01",
                "X-Request-ID": REQUEST_ID,
            },
        )
    assert response.status_code == 200, response.text
    finished = [
        s for s in spans.get_finished_spans() if s.context and _hex(s.context.trace_id, 32) == TRACE_ID
    ]

    gateway = _one(finished, "gateway", SpanKind.SERVER, "GET /api/v1/contracts/")
    proxy = _one(finished, "gateway", SpanKind.CLIENT, "GET contracts")
    contracts = _one(finished, "contracts", SpanKind.SERVER, "GET /api/v1/contracts/coverage")
    registry_call = _one(finished, "contracts", SpanKind.CLIENT, "GET registry")
    # the coverage catches its snapshot of the registry's institutions up from the registry's feed
    registry = _one(finished, "registry", SpanKind.SERVER, "GET /api/v1/registry/changes")
    registry_sql = [
        s for s in finished if (s.attributes or {}).get("db.system") and _parent_id(s) == _id(registry)
    ]
    contracts_sql = [
        s for s in finished if (s.attributes or {}).get("db.system") and _parent_id(s) == _id(contracts)
    ]

    assert _parent_id(gateway) == CALLER_SPAN_ID  # the caller's W3C context is continued
    assert _parent_id(proxy) == _id(gateway)
    assert _parent_id(contracts) == _id(proxy)
    assert _parent_id(registry_call) == _id(contracts)
    assert _parent_id(registry) == _id(registry_call)
    assert registry_sql, "the registry's SELECT has a span under the registry's server span"
    assert contracts_sql, "the contracts' SQL has spans under its server span"
    assert {(s.attributes or {}).get("db.system") for s in registry_sql} <= {"sqlite", "postgresql"}
    for server in (gateway, contracts, registry):
        attributes = server.attributes or {}
        assert attributes[tracing.REQUEST_ID_ATTRIBUTE] == REQUEST_ID
        assert attributes["http.response.status_code"] == 200
    assert (contracts.attributes or {})["http.route"] == "/api/v1/contracts/coverage"
    # no raw path with its query, no statement text or parameters in any span
    for span in finished:
        for value in (span.attributes or {}).values():
            assert "region_code=" not in str(value)
            assert "SELECT " not in str(value)


async def test_a_problem_answer_names_its_code_on_the_server_span(
    stack: Stack, tokens: Tokens, spans: InMemorySpanExporter
) -> None:
    async with live_client(stack.gateway) as client:
        response = await client.get(
            "/api/v1/contracts/coverage",
            params={"region_code": "350100"},  # another city: out of the county admin's scope
            headers=tokens.headers(Role.county_admin, "350203"),
        )
    assert response.status_code == 403
    contracts = _one(
        spans.get_finished_spans(), "contracts", SpanKind.SERVER, "GET /api/v1/contracts/coverage"
    )
    assert (contracts.attributes or {})["yiyang.problem_code"] == response.json()["code"]


async def test_tracing_off_records_nothing_and_sends_no_traceparent(stack: Stack, tokens: Tokens) -> None:
    assert not tracing.enabled()
    with tracing.client_span("GET", "/api/v1/registry/institutions", peer="registry") as headers:
        assert headers == {}
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=stack.contracts),
        base_url="http://contracts",
        event_hooks={"request": [record]},
    ) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert all("traceparent" not in request.headers for request in seen)


async def raw_get(app: FastAPI, path: str) -> tuple[int, str]:
    """GET ``path`` exactly as written (an HTTP client would remove its dot segments first)."""
    sent: list[dict[str, object]] = []
    received: list[bool] = []
    finished = asyncio.Event()

    async def receive() -> dict[str, object]:
        if not received:
            received.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            finished.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": urllib.parse.unquote(path),
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"gateway.test")],
        "client": ("127.0.0.1", 50000),
        "server": ("gateway.test", 80),
        "state": {},
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    status = next(int(str(m["status"])) for m in sent if m["type"] == "http.response.start")
    body = b"".join(bytes(m.get("body", b"")) for m in sent if m["type"] == "http.response.body")  # type: ignore[call-overload]
    return status, body.decode("utf-8", "replace")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/registry/metrics",
        "/api/v1/contracts/metrics",
        "/api/v1/registry/../../../metrics",
        "/api/v1/registry/./../../../metrics",
        "/api/v1/registry/%2e%2e/%2e%2e/%2e%2e/metrics",
        "/api/v1/registry/..%2f..%2f..%2fmetrics",
        "/api/v1/contracts/../registry/../../../metrics",
    ],
)
async def test_the_gateway_forwards_no_service_metrics(stack: Stack, path: str) -> None:
    status, body = await raw_get(stack.gateway, path)
    assert status == 404
    assert "yiyang_" not in body


class _Collector(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver on loopback that keeps what it is sent."""

    received: ClassVar[list[tuple[str, str, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.received.append((self.path, self.headers.get("Content-Type", ""), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


async def test_spans_are_exported_over_otlp_when_an_endpoint_is_set(
    sample_app: FastAPI, client: httpx.AsyncClient
) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings = sample_app.state.settings.model_copy(
            update={"otlp_traces_endpoint": f"http://127.0.0.1:{server.server_port}/v1/traces"}
        )
        tracing.configure(settings)
        assert tracing.enabled()
        response = await client.get("/healthz", headers={"X-Request-ID": "otlp-export-1"})
        assert response.status_code == 200
        await asyncio.to_thread(tracing.shutdown)  # flushes the batch
        assert not tracing.enabled()
    finally:
        server.shutdown()
        thread.join()
    assert _Collector.received, "the exporter sent nothing"
    path, content_type, body = _Collector.received[-1]
    assert path == "/v1/traces"
    assert content_type == "application/x-protobuf"
    assert b"GET /healthz" in body
    assert b"otlp-export-1" in body
    assert b"sample" in body  # service.name of the resource


def test_without_an_endpoint_nothing_is_installed(sample_app: FastAPI) -> None:
    tracing.configure(sample_app.state.settings)
    assert not tracing.enabled()
