"""The proxy's own keep-alive HTTP/1.1 client: one asyncio protocol per connection (uvloop's when it
runs the loop), ``httptools`` (llhttp) to parse the responses, a pool of idle connections per upstream.

It replaces httpx's transport and httpcore below it for the proxy (their request and response models,
URL parsing, the pool's request queue, anyio's socket wrapper, h11, the ``Timeout`` contexts: most of
the proxy's CPU a request, 16k); its failures are httpx's exception classes, so that the proxy maps
them as it maps a test's mounted httpx transport's.

- Plain ``http://`` upstreams only (the services are reached directly on the internal network).
- At most ``max_connections`` connections to each upstream (``max_idle`` of them kept idle); a request
  waits for one up to the ``pool`` timeout (→ ``httpx.PoolTimeout``).
- Connecting is bounded by the ``connect`` timeout (→ ``httpx.ConnectTimeout``; refused →
  ``httpx.ConnectError``), every wait for the upstream's bytes by the ``read`` timeout
  (→ ``httpx.ReadTimeout``) and every wait to send by the ``write`` one (→ ``httpx.WriteTimeout``); a
  response cut off or malformed is ``httpx.RemoteProtocolError``.
- An idle connection is checked before it is reused: one the upstream closed (end of stream seen, the
  transport closing) or idle for longer than :data:`IDLE_EXPIRY_SECONDS` (uvicorn closes them after 5 s)
  is dropped. If a reused connection still turns out closed before a byte of the response came back,
  a GET or HEAD without a body is sent again once on a fresh connection; other requests fail
  (``httpx.RemoteProtocolError``: the upstream may have acted on them).
- The request body is streamed: as it is under a ``Content-Length``, else chunk-encoded.
- A connection goes back to the pool only after a whole response that allows keep-alive (no
  ``Connection: close``, a length or chunked framing); after an error, a timeout, a cancellation or a
  response not read to its end, it is closed.
- A response body is passed on as it arrives, in pieces of at most :data:`READ_BYTES`; reading from the
  upstream pauses while more than :data:`HIGH_WATER_BYTES` are waiting for the caller.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import cast

import httptools
import httpx

RawHeaders = list[tuple[bytes, bytes]]

# uvicorn closes a keep-alive connection idle for 5 s (``timeout_keep_alive``): reusing one close to that
# races its close, so the pool drops it a second earlier.
IDLE_EXPIRY_SECONDS = 4.0
HIGH_WATER_BYTES = 256 * 1024
# a streamed body is relayed in pieces of at most this many bytes (as httpcore read them)
READ_BYTES = 64 * 1024
_RETRYABLE = frozenset({"GET", "HEAD"})


def _on_timeout(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class _Stale(Exception):
    """A reused connection was closed by the upstream before a byte of the response came back."""


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection: the protocol of its transport and the parser of its current response."""

    def __init__(self, key: tuple[str, int]) -> None:
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.closed = False  # lost, or closed by us
        self.dropped = False  # out of the pool's count
        self.eof = False
        self.idle_since = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self._write_paused = False
        self._reading_paused = False
        self._parser: httptools.HttpResponseParser | None = None
        self._begin(head_only=False)

    def _begin(self, *, head_only: bool) -> None:
        self.head_only = head_only
        self.status = 0
        self.headers: RawHeaders = []
        self.headers_done = False
        self.complete = False
        self.received = False  # a byte of this response came
        self.error: Exception | None = None
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.until_close = False
        self.reusable = True

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        self.received = True
        parser = self._parser
        if parser is None or self.complete:
            self.reusable = False  # bytes nobody asked for
        else:
            try:
                parser.feed_data(data)
            except httptools.HttpParserError as exc:
                self.error = exc
                self.reusable = False
        self._wake()

    def eof_received(self) -> bool | None:
        self._ended()
        return None  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._ended()

    def _ended(self) -> None:
        self.eof = True
        self.reusable = False
        if self.until_close and self.headers_done and not self.complete and self.error is None:
            self.complete = True  # a body without length or chunks ends with the connection
        self._wake()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake()

    # httptools' callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        status = self._parser.get_status_code()
        if status < 200 and status != 101:
            self.headers = []  # an informational response (100 Continue): the final one follows
            return
        self.status = status
        self.headers_done = True
        if self.head_only:
            # llhttp does not know the request was HEAD: the response ends with its head
            self.complete = True
            self.reusable = self.reusable and self._parser.should_keep_alive()
            self._parser = None
        elif status not in (204, 304):
            names = {name.lower() for name, _ in self.headers}
            if b"content-length" not in names and b"transfer-encoding" not in names:
                self.until_close = True
                self.reusable = False

    def on_body(self, body: bytes) -> None:
        if self.complete:
            self.reusable = False
            return
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > HIGH_WATER_BYTES and not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def on_message_complete(self) -> None:
        if not self.headers_done or self.complete or self._parser is None:
            return  # the end of an informational response, or bytes after a HEAD's
        self.complete = True
        self.reusable = self.reusable and self._parser.should_keep_alive()

    # the proxy's side

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self, seconds: float | None) -> None:
        """Until something happens on the connection; ``TimeoutError`` after ``seconds``."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiter = waiter
        handle = loop.call_later(seconds, _on_timeout, waiter) if seconds is not None else None
        try:
            await waiter
        finally:
            self._waiter = None
            if handle is not None:
                handle.cancel()

    def usable(self, now: float) -> bool:
        """An idle connection may carry another request (checked before it is reused)."""
        transport = self.transport
        return (
            self.reusable
            and not self.closed
            and not self.eof
            and transport is not None
            and not transport.is_closing()
            and now - self.idle_since <= IDLE_EXPIRY_SECONDS
        )

    async def send(
        self,
        method: str,
        head: bytes,
        body: AsyncIterable[bytes] | None,
        chunked: bool | None,
        seconds: float | None,
    ) -> None:
        """Write the request (``chunked``: how ``body`` is framed)."""
        transport = self.transport
        assert transport is not None
        self._begin(head_only=method == "HEAD")
        self._parser = httptools.HttpResponseParser(self)
        transport.write(head)
        if body is None:
            return
        async for chunk in body:
            if self.closed:
                return  # the upstream went away (perhaps after answering): its response, if any, is read
            if not chunk:
                continue
            if chunked:
                transport.writelines((b"%x\r\n" % len(chunk), chunk, b"\r\n"))
            else:
                transport.write(chunk)
            await self._drain(seconds)
            if self.headers_done and self._write_paused:
                self.reusable = False  # answered early and not reading the rest: stop sending
                return
        if chunked and not self.closed:
            transport.write(b"0\r\n\r\n")

    async def _drain(self, seconds: float | None) -> None:
        while self._write_paused and not self.closed and not self.headers_done:
            try:
                await self._wait(seconds)
            except TimeoutError as exc:
                raise httpx.WriteTimeout("timed out sending the request body") from exc

    async def read_head(self, seconds: float | None, *, reused: bool) -> None:
        while not self.headers_done:
            if self.error is not None:
                raise httpx.RemoteProtocolError(f"invalid response: {self.error}") from self.error
            if self.closed or self.eof:
                if reused and not self.received:
                    raise _Stale
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            try:
                await self._wait(seconds)
            except TimeoutError as exc:
                raise httpx.ReadTimeout("timed out waiting for the response") from exc

    def take(self) -> bytes:
        """The body bytes waiting, at most :data:`READ_BYTES` of them."""
        chunks = self.chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if len(data) > READ_BYTES:
            self.chunks = [data[READ_BYTES:]]
            self.buffered = len(data) - READ_BYTES
            data = data[:READ_BYTES]
        else:
            self.chunks = []
            self.buffered = 0
        if self._reading_paused and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()
        return data

    async def next_body(self, seconds: float | None) -> bytes | None:
        """The body bytes come so far (waiting for some), ``None`` at the end of the response."""
        while True:
            if self.chunks:
                return self.take()
            if self.complete:
                return None
            if self.error is not None:
                raise httpx.RemoteProtocolError(f"invalid response body: {self.error}") from self.error
            if self.closed or self.eof:
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body"
                )
            try:
                await self._wait(seconds)
            except TimeoutError as exc:
                raise httpx.ReadTimeout("timed out reading the response body") from exc

    def close(self) -> None:
        self.closed = True
        self.reusable = False
        if self.transport is not None:
            self.transport.close()


@dataclass(frozen=True, slots=True)
class Target:
    """Where an upstream is: its host and port, its ``Host`` header and the path its URL starts with."""

    host: str
    port: int
    authority: bytes
    prefix: bytes

    @classmethod
    def of(cls, base_url: str) -> Target:
        url = httpx.URL(base_url)
        if url.scheme != "http":
            raise ValueError(f"the proxy's pool speaks plain http, not {url.scheme} ({base_url})")
        return cls(host=url.host, port=url.port or 80, authority=url.netloc, prefix=url.raw_path.rstrip(b"/"))


class LeanResponse:
    """An upstream's answer: its status, its headers as they came (raw bytes) and its body, read from
    the connection as it arrives; the connection goes back to the pool once the body was read to its end
    (and is closed if it was not)."""

    __slots__ = ("status_code", "raw_headers", "_pool", "_connection", "_seconds", "_closed")

    def __init__(self, pool: LeanPool, connection: _Connection, seconds: float | None) -> None:
        self.status_code = connection.status
        self.raw_headers = connection.headers
        self._pool = pool
        self._connection = connection
        self._seconds = seconds
        self._closed = False

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        connection = self._connection
        try:
            while (data := await connection.next_body(self._seconds)) is not None:
                yield data
        except BaseException:
            connection.reusable = False
            await self.aclose()
            raise

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            connection = self._connection
            if (
                connection.complete
                and not connection.chunks
                and connection.reusable
                and not connection.closed
            ):
                self._pool.release(connection)
            else:
                self._pool.discard(connection)


class _Upstream:
    """One upstream's connections: the idle ones (the most recently used last), how many are open, and
    the requests waiting for one."""

    __slots__ = ("idle", "count", "slots")

    def __init__(self) -> None:
        self.idle: list[_Connection] = []
        self.count = 0  # open connections, idle or carrying a request
        self.slots: deque[asyncio.Future[None]] = deque()

    def notify(self) -> None:
        while self.slots:
            slot = self.slots.popleft()
            if not slot.done():
                slot.set_result(None)
                return


class LeanPool:
    """Keep-alive HTTP/1.1 connections to the upstreams (module docstring): at most
    ``max_connections`` to each, at most ``max_idle`` of them kept idle."""

    def __init__(self, *, max_connections: int, max_idle: int) -> None:
        self._max_connections = max(1, max_connections)
        self._max_idle = max(0, max_idle)
        self._upstreams: dict[tuple[str, int], _Upstream] = {}
        self._closing = False

    @property
    def connections(self) -> int:
        return sum(upstream.count for upstream in self._upstreams.values())

    @property
    def idle_connections(self) -> int:
        return sum(len(upstream.idle) for upstream in self._upstreams.values())

    async def request(
        self,
        target: Target,
        method: str,
        path: bytes,
        headers: RawHeaders,
        body: AsyncIterable[bytes] | None,
        timeouts: Mapping[str, float | None],
    ) -> LeanResponse:
        """Send ``method path`` (path and query, raw) with ``headers`` (without ``Host``: the target's)
        and ``body`` (sent as it comes: as it is under a ``Content-Length``, else chunk-encoded), and
        read the head of the answer. Failures are httpx's exceptions (module docstring)."""
        head, chunked = _head(target, method, path, headers, has_body=body is not None)
        key = (target.host, target.port)
        connection, reused = await self._acquire(key, timeouts.get("connect"), timeouts.get("pool"))
        try:
            await connection.send(method, head, body, chunked, timeouts.get("write"))
            await connection.read_head(timeouts.get("read"), reused=reused)
        except _Stale:
            self.discard(connection)
            if method not in _RETRYABLE or body is not None:
                raise httpx.RemoteProtocolError(
                    "the upstream closed the kept-alive connection before answering"
                ) from None
            connection, reused = await self._acquire(
                key, timeouts.get("connect"), timeouts.get("pool"), fresh=True
            )
            try:
                await connection.send(method, head, None, None, timeouts.get("write"))
                await connection.read_head(timeouts.get("read"), reused=False)
            except BaseException:
                self.discard(connection)
                raise
        except BaseException:
            self.discard(connection)
            raise
        return LeanResponse(self, connection, timeouts.get("read"))

    async def _acquire(
        self,
        key: tuple[str, int],
        connect_seconds: float | None,
        pool_seconds: float | None,
        *,
        fresh: bool = False,
    ) -> tuple[_Connection, bool]:
        upstream = self._upstreams.get(key)
        if upstream is None:
            upstream = self._upstreams[key] = _Upstream()
        idle = upstream.idle
        if idle and not fresh:
            now = time.monotonic()
            while idle:
                connection = idle.pop()  # the most recently used: the least likely to be stale
                if connection.usable(now):
                    return connection, True
                self._drop(connection)
        if upstream.count >= self._max_connections:
            await self._wait_for_one(upstream, pool_seconds)
            if upstream.idle:
                if not fresh:
                    return await self._acquire(key, connect_seconds, pool_seconds)
                self._drop(upstream.idle.pop(0))  # room for the fresh one
        upstream.count += 1
        try:
            return await self._connect(key, connect_seconds), False
        except BaseException:
            upstream.count -= 1
            upstream.notify()
            raise

    async def _wait_for_one(self, upstream: _Upstream, seconds: float | None) -> None:
        """Until a connection of ``upstream`` is free or closed (``httpx.PoolTimeout`` after ``seconds``)."""
        loop = asyncio.get_running_loop()
        deadline = None if seconds is None else loop.time() + seconds
        while upstream.count >= self._max_connections and not upstream.idle:
            slot: asyncio.Future[None] = loop.create_future()
            upstream.slots.append(slot)
            handle = None
            if deadline is not None:
                handle = loop.call_later(max(0.0, deadline - loop.time()), _on_timeout, slot)
            try:
                await slot
            except TimeoutError as exc:
                raise httpx.PoolTimeout("no upstream connection free in time") from exc
            except asyncio.CancelledError:
                upstream.notify()  # the free connection this waiter may have been given goes to the next
                raise
            finally:
                if handle is not None:
                    handle.cancel()
                if slot in upstream.slots:
                    upstream.slots.remove(slot)

    async def _connect(self, key: tuple[str, int], seconds: float | None) -> _Connection:
        loop = asyncio.get_running_loop()
        connection = _Connection(key)
        try:
            async with asyncio.timeout(seconds):
                await loop.create_connection(lambda: connection, key[0], key[1])
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"connecting to {key[0]}:{key[1]} timed out") from exc
        except OSError as exc:
            raise httpx.ConnectError(f"cannot connect to {key[0]}:{key[1]}: {exc}") from exc
        return connection

    def release(self, connection: _Connection) -> None:
        """A connection whose response was read whole, kept for the next request to its upstream."""
        upstream = self._upstreams[connection.key]
        if self._closing or len(upstream.idle) >= self._max_idle:
            self._drop(connection)
            return
        connection.idle_since = time.monotonic()
        upstream.idle.append(connection)
        upstream.notify()

    def discard(self, connection: _Connection) -> None:
        """Close a connection that carried a request (an error, or a response not read whole)."""
        self._drop(connection)

    def _drop(self, connection: _Connection) -> None:
        if connection.dropped:
            return
        connection.dropped = True
        connection.close()
        upstream = self._upstreams[connection.key]
        upstream.count -= 1
        upstream.notify()

    async def aclose(self) -> None:
        self._closing = True
        for upstream in self._upstreams.values():
            while upstream.idle:
                self._drop(upstream.idle.pop())


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _head(
    target: Target, method: str, path: bytes, headers: RawHeaders, *, has_body: bool
) -> tuple[bytes, bool | None]:
    """The request line and headers, and how the body is framed (None: no body, True: chunked)."""
    parts = [
        method.encode("ascii"),
        b" ",
        target.prefix,
        path,
        b" HTTP/1.1\r\nhost: ",
        target.authority,
        b"\r\n",
    ]
    length = False
    for name, value in headers:
        if b"\r" in value or b"\n" in value or b"\r" in name or b"\n" in name or b":" in name:
            raise httpx.LocalProtocolError("a header carries a line break")
        if name == b"content-length":
            length = True
        parts += (name, b": ", value, b"\r\n")
    chunked: bool | None = None
    if has_body:
        chunked = not length
        if chunked:
            parts.append(b"transfer-encoding: chunked\r\n")
    elif not length and method in _BODY_METHODS:
        parts.append(b"content-length: 0\r\n")
    parts.append(b"\r\n")
    return b"".join(parts), chunked
