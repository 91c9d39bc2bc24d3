"""A response with a Content-Length up to ``proxy_buffer_max_bytes`` is answered in one piece; a longer
one, or one without a length, is streamed as it comes. The upstream here is a real HTTP/1.1 server on a
loopback port, scripted byte by byte; the gateway is called as an ASGI app, so that each message it
sends (and when) is seen."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.types import Message

from libs.common.auth import TokenIssuer
from libs.common.testing import TestDatabases, running
from services.gateway.app import create_app
from tests.gateway.conftest import gateway_settings

Script = Callable[[bytes, asyncio.StreamWriter], Awaitable[None]]
BODY = json.dumps({"items": ["医养" * 20_000]}, ensure_ascii=False).encode()  # ~120 KB


def _head(status: str, *headers: str) -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status}", *headers, "", ""])).encode("latin-1")


@asynccontextmanager
async def _upstream(script: Script) -> AsyncIterator[str]:
    """A loopback server that reads each request's head and lets ``script`` answer it."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                await script(head, writer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


Gateway = Callable[..., AbstractAsyncContextManager[FastAPI]]


@pytest.fixture
def gateway(test_databases: TestDatabases, token_issuer: TokenIssuer) -> Gateway:
    @asynccontextmanager
    async def build(script: Script, **overrides: object) -> AsyncIterator[FastAPI]:
        async with _upstream(script) as url:
            values: dict[str, object] = {"homecare_url": url, "upstream_timeout_seconds": 0.5, **overrides}
            app = create_app(gateway_settings(test_databases, **values), issuer=token_issuer)
            async with running(app):
                yield app

    return build


class Exchange:
    """The messages the gateway sent for one request."""

    def __init__(self) -> None:
        self.start: Message = {}
        self.bodies: list[bytes] = []
        self.finished = False

    @property
    def status(self) -> int:
        return int(self.start["status"])

    @property
    def body(self) -> bytes:
        return b"".join(self.bodies)

    def headers(self, name: str) -> list[bytes]:
        return [value for key, value in self.start["headers"] if key == name.encode()]


async def _call(
    app: FastAPI, method: str = "GET", *, on_body: Callable[[bytes], None] = lambda _: None
) -> Exchange:
    exchange = Exchange()
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},  # uvicorn's
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/api/v1/homecare/events",
        "raw_path": b"/api/v1/homecare/events",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"gateway.test")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> Message:
        await asyncio.Event().wait()  # the client never leaves
        raise AssertionError

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            exchange.start = message
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            if chunk:
                exchange.bodies.append(chunk)
                on_body(chunk)
            exchange.finished = not message.get("more_body", False)

    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    return exchange


def _json_answer(body: bytes = BODY, *extra: str) -> Script:
    async def script(head: bytes, writer: asyncio.StreamWriter) -> None:
        response = _head("200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}", *extra)
        writer.write(response if head.startswith(b"HEAD ") else response + body)

    return script


async def test_a_response_with_a_length_within_the_bound_is_sent_in_one_piece(gateway: Gateway) -> None:
    async with gateway(_json_answer(BODY, "Set-Cookie: a=1", "Set-Cookie: b=2")) as app:
        exchange = await _call(app)
    assert exchange.status == 200
    assert exchange.bodies == [BODY]  # one message, the whole body
    assert exchange.finished
    assert exchange.headers("content-length") == [str(len(BODY)).encode()]
    assert exchange.headers("set-cookie") == [b"a=1", b"b=2"]


async def test_a_response_longer_than_the_bound_is_streamed(gateway: Gateway) -> None:
    async with gateway(_json_answer(), proxy_buffer_max_bytes=len(BODY) - 1) as app:
        exchange = await _call(app)
    assert exchange.status == 200
    assert len(exchange.bodies) > 1  # relayed as read (64 KiB at a time)
    assert exchange.body == BODY
    assert exchange.finished
    assert exchange.headers("content-length") == [str(len(BODY)).encode()]


async def test_head_answers_the_length_without_a_body(gateway: Gateway) -> None:
    async with gateway(_json_answer()) as app:
        exchange = await _call(app, "HEAD")
    assert exchange.status == 200
    assert exchange.body == b""
    assert exchange.headers("content-length") == [str(len(BODY)).encode()]


async def test_not_modified_passes_through_without_a_body(gateway: Gateway) -> None:
    async def script(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(_head("304 Not Modified", 'ETag: "v1"', "Cache-Control: private, max-age=0"))

    async with gateway(script) as app:
        exchange = await _call(app)
    assert exchange.status == 304
    assert exchange.body == b""
    assert exchange.headers("etag") == [b'"v1"']


def _dying(after: int) -> Script:
    async def script(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(_head("200 OK", "Content-Type: application/json", f"Content-Length: {len(BODY)}"))
        writer.write(BODY[:after])
        await writer.drain()
        writer.close()  # before the last byte

    return script


async def test_an_upstream_dying_in_a_buffered_body_answers_502(gateway: Gateway) -> None:
    async with gateway(_dying(1000)) as app:
        exchange = await _call(app)
    assert exchange.status == 502
    assert exchange.headers("content-type") == [b"application/problem+json"]
    assert json.loads(exchange.body)["code"] == "upstream_error"


async def test_an_upstream_dying_in_a_streamed_body_cuts_the_response_short(gateway: Gateway) -> None:
    async with gateway(_dying(100_000), proxy_buffer_max_bytes=0) as app:
        exchange = await _call(app)
    assert exchange.status == 200  # already sent when the upstream died
    assert 0 < len(exchange.body) < len(BODY)
    assert exchange.body == BODY[: len(exchange.body)]


async def test_an_upstream_stalling_in_a_buffered_body_answers_504(gateway: Gateway) -> None:
    async def script(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(_head("200 OK", f"Content-Length: {len(BODY)}") + BODY[:1000])
        await writer.drain()
        await asyncio.sleep(2)  # past the gateway's read timeout (0.5 s)

    async with gateway(script) as app:
        exchange = await _call(app)
    assert exchange.status == 504
    assert json.loads(exchange.body)["code"] == "upstream_timeout"


async def test_a_response_without_a_length_is_passed_on_as_it_comes(gateway: Gateway) -> None:
    """An event stream: the first event reaches the client while the upstream still holds the second."""
    first_seen = asyncio.Event()

    def chunk(data: bytes) -> bytes:
        return f"{len(data):x}\r\n".encode() + data + b"\r\n"

    async def script(head: bytes, writer: asyncio.StreamWriter) -> None:
        writer.write(_head("200 OK", "Content-Type: text/event-stream", "Transfer-Encoding: chunked"))
        writer.write(chunk(b"data: one\n\n"))
        await writer.drain()
        await asyncio.wait_for(first_seen.wait(), timeout=5)  # a buffering gateway would never send it
        writer.write(chunk(b"data: two\n\n") + b"0\r\n\r\n")

    def on_body(data: bytes) -> None:
        if b"one" in data:
            first_seen.set()

    async with gateway(script, upstream_timeout_seconds=10) as app:
        exchange = await _call(app, on_body=on_body)
    assert exchange.status == 200
    assert exchange.body == b"data: one\n\ndata: two\n\n"
    assert exchange.bodies[0] == b"data: one\n\n"
    assert exchange.headers("content-length") == []


async def test_an_upstreams_cookies_are_not_sent_with_later_requests(gateway: Gateway) -> None:
    """The proxy keeps no cookie jar: what one caller's response set never goes out with another's request."""
    heads: list[bytes] = []

    async def script(head: bytes, writer: asyncio.StreamWriter) -> None:
        heads.append(head.lower())
        writer.write(_head("200 OK", "Content-Length: 2", "Set-Cookie: sid=caller-one; Path=/") + b"{}")

    async with gateway(script) as app:
        first = await _call(app)
        await _call(app)
    assert first.headers("set-cookie") == [b"sid=caller-one; Path=/"]
    assert len(heads) == 2
    assert b"cookie:" not in heads[1]
