"""The proxy's own keep-alive HTTP/1.1 pool (services/gateway/proxy/pool.py) against real loopback
upstreams: a scripted asyncio server (byte by byte, for the error paths) and uvicorn serving a small app
in-process (framing, HEAD, 304, request bodies, header bytes), the pool alone and behind the gateway."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
import uvloop
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from libs.common.auth import Role, TokenIssuer
from libs.common.testing import TestDatabases, Tokens, rolled_back_client, running
from services.gateway.app import create_app
from services.gateway.proxy.pool import LeanPool, LeanResponse, Target
from tests.gateway.conftest import gateway_settings

TIMEOUTS: dict[str, float | None] = {"connect": 1.0, "read": 0.5, "write": 0.5, "pool": 0.5}
BODY = b'{"items":["' + b"x" * 90_000 + b'"]}'

# -- a scripted upstream ------------------------------------------------------------------------------

Script = Callable[["Connection", bytes], Awaitable[bool]]


class Connection:
    """One accepted connection of the scripted upstream (its number counts from 1)."""

    def __init__(self, number: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.number = number
        self.reader = reader
        self.writer = writer
        self.requests = 0


class Scripted:
    """A loopback server that reads each request's head and lets ``script`` answer it (``script``
    answers False to close the connection)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections: list[Connection] = []
        self.heads: list[bytes] = []
        self.open = 0
        self.most_open = 0
        self.url = ""

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = Connection(len(self.connections) + 1, reader, writer)
        self.connections.append(connection)
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                connection.requests += 1
                self.heads.append(head)
                if not await self.script(connection, head):
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            writer.close()


@asynccontextmanager
async def scripted(script: Script) -> AsyncIterator[Scripted]:
    upstream = Scripted(script)
    server = await asyncio.start_server(upstream._handle, "127.0.0.1", 0)
    upstream.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield upstream
    finally:
        server.close()


def answer(*headers: str, body: bytes = b"", status: str = "200 OK") -> bytes:
    return "\r\n".join([f"HTTP/1.1 {status}", *headers, "", ""]).encode("latin-1") + body


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def json_answer(body: bytes = BODY) -> Script:
    async def script(connection: Connection, head: bytes) -> bool:
        response = answer("Content-Type: application/json", f"Content-Length: {len(body)}")
        connection.writer.write(response if head.startswith(b"HEAD ") else response + body)
        return True

    return script


@asynccontextmanager
async def lean_pool(max_connections: int = 10) -> AsyncIterator[LeanPool]:
    pool = LeanPool(max_connections=max_connections, max_idle=max_connections)
    try:
        yield pool
    finally:
        await pool.aclose()


async def get(
    pool: LeanPool,
    url: str,
    method: str = "GET",
    path: bytes = b"/x",
    headers: list[tuple[bytes, bytes]] | None = None,
    body: AsyncIterator[bytes] | None = None,
    timeouts: dict[str, float | None] = TIMEOUTS,
) -> tuple[LeanResponse, bytes]:
    response = await pool.request(Target.of(url), method, path, headers or [], body, timeouts)
    try:
        return response, b"".join([piece async for piece in response.aiter_raw()])
    finally:
        await response.aclose()


# -- keep-alive ----------------------------------------------------------------------------------------


async def test_connections_are_kept_alive_and_reused() -> None:
    async with scripted(json_answer()) as upstream, lean_pool() as pool:
        for _ in range(3):
            response, body = await get(pool, upstream.url)
            assert (response.status_code, body) == (200, BODY)
        assert len(upstream.connections) == 1
        assert upstream.connections[0].requests == 3
        assert (pool.connections, pool.idle_connections) == (1, 1)


async def test_the_request_line_and_headers_go_out_as_given() -> None:
    async with scripted(json_answer(b"{}")) as upstream, lean_pool() as pool:
        await get(pool, upstream.url + "/base", path=b"/a/%E4%B8%AD?b=2", headers=[(b"x-foo", b"\xc3\xa9")])
        await get(pool, upstream.url, method="POST")
    port = upstream.url.rsplit(":", 1)[1]
    assert upstream.heads[0] == (
        f"GET /base/a/%E4%B8%AD?b=2 HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nx-foo: ".encode()
        + b"\xc3\xa9\r\n\r\n"
    )
    assert b"content-length: 0\r\n" in upstream.heads[1]  # a POST without a body says so


async def test_connection_close_from_the_upstream_is_honoured() -> None:
    async def script(connection: Connection, head: bytes) -> bool:
        connection.writer.write(answer("Content-Length: 2", "Connection: close", body=b"{}"))
        return True  # and keeps the connection open: the pool must not send another request on it

    async with scripted(script) as upstream, lean_pool() as pool:
        await get(pool, upstream.url)
        await get(pool, upstream.url)
        assert [connection.requests for connection in upstream.connections] == [1, 1]
        assert pool.connections == 0


async def test_an_idle_connection_the_upstream_closed_is_not_reused() -> None:
    async def script(connection: Connection, head: bytes) -> bool:
        connection.writer.write(answer("Content-Length: 2", body=b"{}"))
        return False  # then closes, without saying so

    async with scripted(script) as upstream, lean_pool() as pool:
        await get(pool, upstream.url)
        for _ in range(50):  # the end of stream reaches the idle connection
            if upstream.open == 0:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        response, body = await get(pool, upstream.url)
    assert (response.status_code, body) == (200, b"{}")
    assert [connection.requests for connection in upstream.connections] == [1, 1]


def _closing_before_the_second_answer() -> Script:
    """The first connection answers one request and closes on the next unanswered (an upstream closing
    an idle connection as the request arrives); later connections answer."""

    async def script(connection: Connection, head: bytes) -> bool:
        if connection.number == 1 and connection.requests == 2:
            return False
        connection.writer.write(answer("Content-Length: 2", body=b"{}"))
        return True

    return script


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_a_get_on_a_kept_connection_closed_unanswered_is_sent_again_once(method: str) -> None:
    async with scripted(_closing_before_the_second_answer()) as upstream, lean_pool() as pool:
        await get(pool, upstream.url)
        response, _ = await get(pool, upstream.url, method=method)
    assert response.status_code == 200
    assert [connection.requests for connection in upstream.connections] == [2, 1]


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_other_requests_on_a_kept_connection_closed_unanswered_fail(method: str) -> None:
    async with scripted(_closing_before_the_second_answer()) as upstream, lean_pool() as pool:
        await get(pool, upstream.url)
        with pytest.raises(httpx.RemoteProtocolError):
            await get(pool, upstream.url, method=method)
        assert pool.connections == 0
    assert [connection.requests for connection in upstream.connections] == [2]


# -- failures ------------------------------------------------------------------------------------------


async def test_a_closed_port_is_a_connect_error(closed_port_url: str) -> None:
    async with lean_pool() as pool:
        with pytest.raises(httpx.ConnectError):
            await get(pool, closed_port_url)
        assert pool.connections == 0


async def test_an_upstream_silent_after_the_request_is_a_read_timeout() -> None:
    async def script(connection: Connection, head: bytes) -> bool:
        await asyncio.sleep(2)
        return False

    async with scripted(script) as upstream, lean_pool() as pool:
        with pytest.raises(httpx.ReadTimeout):
            await get(pool, upstream.url)
        assert pool.connections == 0


async def test_an_upstream_stalling_in_the_body_is_a_read_timeout() -> None:
    async def script(connection: Connection, head: bytes) -> bool:
        connection.writer.write(answer(f"Content-Length: {len(BODY)}", body=BODY[:1000]))
        await connection.writer.drain()
        await asyncio.sleep(2)
        return False

    async with scripted(script) as upstream, lean_pool() as pool:
        with pytest.raises(httpx.ReadTimeout):
            await get(pool, upstream.url)
        assert pool.connections == 0


@pytest.mark.parametrize("framing", ["length", "chunked"])
async def test_a_body_cut_short_is_a_protocol_error_and_the_connection_is_dropped(framing: str) -> None:
    async def script(connection: Connection, head: bytes) -> bool:
        if framing == "length":
            connection.writer.write(answer(f"Content-Length: {len(BODY)}", body=BODY[:5000]))
        else:
            connection.writer.write(answer("Transfer-Encoding: chunked", body=chunk(BODY[:5000])))
        return False

    async with scripted(script) as upstream, lean_pool() as pool:
        with pytest.raises(httpx.RemoteProtocolError):
            await get(pool, upstream.url)
        assert pool.connections == 0


async def test_a_malformed_response_is_a_protocol_error() -> None:
    async def script(connection: Connection, head: bytes) -> bool:
        connection.writer.write(b"HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\n{}")
        return True

    async with scripted(script) as upstream, lean_pool() as pool:
        with pytest.raises(httpx.RemoteProtocolError):
            await get(pool, upstream.url)
        assert pool.connections == 0


async def test_a_response_not_read_to_its_end_closes_its_connection() -> None:
    async with scripted(json_answer()) as upstream, lean_pool() as pool:
        response = await pool.request(Target.of(upstream.url), "GET", b"/x", [], None, TIMEOUTS)
        await response.aclose()
        assert pool.connections == 0
        await get(pool, upstream.url)
    assert len(upstream.connections) == 2


async def test_a_cancelled_request_closes_its_connection() -> None:
    async def script(connection: Connection, head: bytes) -> bool:
        await asyncio.sleep(2)
        return False

    async with scripted(script) as upstream, lean_pool() as pool:
        task = asyncio.create_task(get(pool, upstream.url, timeouts={**TIMEOUTS, "read": 10}))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pool.connections == 0


# -- framing -------------------------------------------------------------------------------------------


async def test_a_chunked_response_is_passed_on_as_it_comes_and_the_connection_kept() -> None:
    second_wanted = asyncio.Event()

    async def script(connection: Connection, head: bytes) -> bool:
        connection.writer.write(answer("Content-Type: text/event-stream", "Transfer-Encoding: chunked"))
        connection.writer.write(chunk(b"data: one\n\n"))
        await connection.writer.drain()
        await asyncio.wait_for(second_wanted.wait(), timeout=5)  # a buffering pool would never get it
        connection.writer.write(chunk(b"data: two\n\n") + b"0\r\n\r\n")
        return True

    async with scripted(script) as upstream, lean_pool() as pool:
        response = await pool.request(Target.of(upstream.url), "GET", b"/events", [], None, TIMEOUTS)
        pieces = []
        async for piece in response.aiter_raw():
            pieces.append(piece)
            second_wanted.set()
        await response.aclose()
        assert pieces == [b"data: one\n\n", b"data: two\n\n"]
        assert pool.idle_connections == 1  # the last chunk ends the response: the connection is kept


async def test_a_body_until_close_is_read_to_the_close() -> None:
    async def script(connection: Connection, head: bytes) -> bool:
        connection.writer.write(answer("Content-Type: text/plain", body=b"all of it"))
        return False

    async with scripted(script) as upstream, lean_pool() as pool:
        response, body = await get(pool, upstream.url)
        assert body == b"all of it"
        assert pool.connections == 0


async def test_an_informational_response_is_skipped() -> None:
    async def script(connection: Connection, head: bytes) -> bool:
        connection.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" + answer("Content-Length: 2", body=b"{}"))
        return True

    async with scripted(script) as upstream, lean_pool() as pool:
        response, body = await get(pool, upstream.url)
    assert (response.status_code, body) == (200, b"{}")


async def test_the_request_body_is_streamed() -> None:
    """The upstream has the first piece before the caller produced the second (content-length framing,
    sent as it is, and chunked)."""
    first_arrived = asyncio.Event()
    received: list[bytes] = []

    async def script(connection: Connection, head: bytes) -> bool:
        if b"transfer-encoding: chunked" in head:
            size = int(await connection.reader.readuntil(b"\r\n"), 16)
            received.append(await connection.reader.readexactly(size + 2))
            first_arrived.set()
            rest = await connection.reader.readuntil(b"0\r\n\r\n")
            received.append(rest)
        else:
            received.append(await connection.reader.readexactly(5))
            first_arrived.set()
            received.append(await connection.reader.readexactly(5))
        connection.writer.write(answer("Content-Length: 2", body=b"{}"))
        return True

    async def body() -> AsyncIterator[bytes]:
        yield b"first"
        await asyncio.wait_for(first_arrived.wait(), timeout=5)
        yield b"again"

    async with scripted(script) as upstream, lean_pool() as pool:
        response, _ = await get(pool, upstream.url, "POST", headers=[(b"content-length", b"10")], body=body())
        assert response.status_code == 200
        assert received == [b"first", b"again"]
        first_arrived.clear()
        received.clear()
        response, _ = await get(pool, upstream.url, "POST", body=body())
        assert response.status_code == 200
        assert received == [b"first\r\n", b"5\r\nagain\r\n0\r\n\r\n"]
        assert len(upstream.connections) == 1  # both on the one kept connection


async def test_more_concurrent_requests_than_connections_wait_for_one() -> None:
    async def script(connection: Connection, head: bytes) -> bool:
        await asyncio.sleep(0.02)
        connection.writer.write(answer("Content-Length: 2", body=b"{}"))
        return True

    async with scripted(script) as upstream, lean_pool(max_connections=2) as pool:
        results = await asyncio.gather(
            *(get(pool, upstream.url, timeouts={**TIMEOUTS, "pool": 5}) for _ in range(12))
        )
        assert [body for _, body in results] == [b"{}"] * 12
        assert upstream.most_open <= 2
        assert pool.connections <= 2


async def test_waiting_for_a_connection_past_the_pool_timeout_fails() -> None:
    async def script(connection: Connection, head: bytes) -> bool:
        await asyncio.sleep(1)
        return False

    async with scripted(script) as upstream, lean_pool(max_connections=1) as pool:
        slow = asyncio.create_task(get(pool, upstream.url, timeouts={**TIMEOUTS, "read": 5}))
        await asyncio.sleep(0.05)
        with pytest.raises(httpx.PoolTimeout):
            await get(pool, upstream.url, timeouts={**TIMEOUTS, "pool": 0.1})
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow


async def test_the_limit_is_per_upstream() -> None:
    async def stalled(connection: Connection, head: bytes) -> bool:
        await asyncio.sleep(1)
        return False

    async with (
        scripted(stalled) as busy,
        scripted(json_answer(b"{}")) as other,
        lean_pool(max_connections=1) as pool,
    ):
        slow = asyncio.create_task(get(pool, busy.url, timeouts={**TIMEOUTS, "read": 5}))
        await asyncio.sleep(0.05)
        response, body = await get(pool, other.url, timeouts={**TIMEOUTS, "pool": 0.1})
        assert body == b"{}"
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow


def test_the_pool_works_on_uvloop() -> None:
    """uvicorn runs the gateway on uvloop (its transports are not asyncio's classes)."""

    async def scenario() -> None:
        await test_connections_are_kept_alive_and_reused()
        await test_a_get_on_a_kept_connection_closed_unanswered_is_sent_again_once("GET")
        await test_a_chunked_response_is_passed_on_as_it_comes_and_the_connection_kept()
        await test_a_body_cut_short_is_a_protocol_error_and_the_connection_is_dropped("length")
        await test_the_request_body_is_streamed()

    uvloop.run(scenario())


# -- behind the gateway, uvicorn upstream --------------------------------------------------------------


async def _echo(request: Request) -> Response:
    body = b""
    async for piece in request.stream():
        body += piece
    if request.query_params.get("stream"):

        async def pieces() -> AsyncIterator[bytes]:
            for _ in range(int(request.query_params["stream"])):
                yield BODY

        return StreamingResponse(pieces(), media_type="application/octet-stream")
    if request.query_params.get("not-modified"):
        return Response(status_code=304, headers={"etag": '"v1"'})
    report = {
        "method": request.method,
        "raw_path": request.scope["raw_path"].decode(),
        "query": request.url.query,
        "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.scope["headers"]],
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "body_length": len(body),
    }
    response = Response(json.dumps(report), media_type="application/json")
    response.raw_headers += [
        (b"x-upstream-bytes", "键 é".encode()),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
    ]
    return response


echo_app = Starlette(routes=[Route("/{path:path}", _echo, methods=["GET", "POST", "PUT", "DELETE"])])


@asynccontextmanager
async def uvicorn_upstream() -> AsyncIterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(echo_app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(1000):
            if server.started:
                break
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def through_gateway(test_databases: TestDatabases, token_issuer: TokenIssuer) -> Callable[..., Any]:
    @asynccontextmanager
    async def build(**overrides: object) -> AsyncIterator[tuple[httpx.AsyncClient, LeanPool]]:
        async with uvicorn_upstream() as url:
            values: dict[str, object] = {"homecare_url": url, "upstream_timeout_seconds": 5, **overrides}
            app = create_app(gateway_settings(test_databases, **values), issuer=token_issuer)
            async with running(app), rolled_back_client(app) as client:
                pool = app.state.upstreams["homecare"].transport
                assert isinstance(pool, LeanPool)
                yield client, pool

    return build


def _received(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.json()["headers"]}


async def test_bodies_and_header_bytes_go_both_ways_on_kept_connections(
    through_gateway: Callable[..., Any], tokens: Tokens
) -> None:
    authorization = tokens.headers(Role.province_admin)["Authorization"]
    body = b"x" * (300 * 1024 + 7)

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 50_000):
            yield body[start : start + 50_000]

    async with through_gateway() as (client, pool):
        sized = await client.post(
            "/api/v1/homecare/orders/%E4%B8%AD?b=2&a=1",
            content=body,
            headers={"Authorization": authorization, "X-Foo": "é".encode(), "Idempotency-Key": "键".encode()},
        )
        chunked = await client.put(
            "/api/v1/homecare/orders/1", content=pieces(), headers={"Authorization": authorization}
        )
        plain = await client.get("/api/v1/homecare/anything")
        assert pool.connections == 1  # all three on one kept connection
    assert sized.status_code == 200, sized.text
    seen = sized.json()
    assert (seen["method"], seen["raw_path"], seen["query"]) == (
        "POST",
        "/api/v1/homecare/orders/%E4%B8%AD",
        "b=2&a=1",
    )
    assert (seen["body_length"], seen["body_sha256"]) == (len(body), hashlib.sha256(body).hexdigest())
    headers = _received(sized)
    assert headers["x-foo"].encode("latin-1") == "é".encode()
    assert headers["idempotency-key"].encode("latin-1") == "键".encode()
    assert headers["content-length"] == str(len(body))
    assert chunked.status_code == 200, chunked.text
    assert (chunked.json()["body_length"], chunked.json()["body_sha256"]) == (
        len(body),
        hashlib.sha256(body).hexdigest(),
    )
    assert _received(chunked)["transfer-encoding"] == "chunked"
    assert plain.status_code == 200
    assert dict(plain.headers.raw)[b"x-upstream-bytes"] == "键 é".encode()
    assert plain.headers.get_list("set-cookie") == ["a=1", "b=2"]


async def test_head_304_and_streamed_answers_keep_the_connection(through_gateway: Callable[..., Any]) -> None:
    async with through_gateway(proxy_buffer_max_bytes=len(BODY)) as (client, pool):
        full = await client.get("/api/v1/homecare/x")
        head = await client.head("/api/v1/homecare/x")
        not_modified = await client.get("/api/v1/homecare/x?not-modified=1")
        streamed = await client.get("/api/v1/homecare/x?stream=3")
        again = await client.get("/api/v1/homecare/x")
        assert pool.connections == 1
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) > 0  # the length the GET's body would have had
    assert full.status_code == 200
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == '"v1"'
    assert streamed.status_code == 200
    assert streamed.content == BODY * 3
    assert again.status_code == 200


@pytest.mark.parametrize(("method", "attempts"), [("GET", 2), ("HEAD", 2), ("POST", 1)])
async def test_a_closed_port_answers_502_and_only_get_and_head_try_twice(
    method: str,
    attempts: int,
    test_databases: TestDatabases,
    token_issuer: TokenIssuer,
    closed_port_url: str,
    tokens: Tokens,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_app(gateway_settings(test_databases, contracts_url=closed_port_url), issuer=token_issuer)
    async with running(app), rolled_back_client(app) as client:
        pool = app.state.upstreams["contracts"].transport
        assert isinstance(pool, LeanPool)
        calls = 0
        original = pool.request

        async def counted(*args: Any, **kwargs: Any) -> LeanResponse:
            nonlocal calls
            calls += 1
            return await original(*args, **kwargs)

        monkeypatch.setattr(pool, "request", counted)
        response = await client.request(
            method,
            "/api/v1/contracts/agreements",
            json={} if method == "POST" else None,
            headers=tokens.headers(Role.province_admin),
        )
    assert response.status_code == 502
    assert calls == attempts
    if method != "HEAD":
        assert response.json()["code"] == "upstream_unavailable"


async def test_a_kept_connection_closed_unanswered_is_a_502_for_a_post(
    test_databases: TestDatabases, token_issuer: TokenIssuer, tokens: Tokens
) -> None:
    async with scripted(_closing_before_the_second_answer()) as upstream:
        app = create_app(gateway_settings(test_databases, contracts_url=upstream.url), issuer=token_issuer)
        async with running(app), rolled_back_client(app) as client:
            first = await client.get("/api/v1/contracts/agreements")
            posted = await client.post(
                "/api/v1/contracts/agreements", json={}, headers=tokens.headers(Role.province_admin)
            )
            got = await client.get("/api/v1/contracts/agreements")
    assert first.status_code == 200
    assert posted.status_code == 502
    assert posted.json()["code"] == "upstream_error"
    assert got.status_code == 200
