"""A real uvicorn server in-process on loopback (an ephemeral port), for tests of connection behaviour
that the ASGI transport cannot show (keep-alive, early answers to bodies that are not read)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """Serve ``app`` (lifespan included) on 127.0.0.1 and yield its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


async def raw_exchange(
    host: str, port: int, requests: list[bytes], *, read_seconds: float = 5.0
) -> list[bytes]:
    """Send HTTP/1.1 requests one after another on ONE connection; return each response's head and
    body (read by Content-Length). A closed connection ends the list early."""
    reader, writer = await asyncio.open_connection(host, port)
    answers: list[bytes] = []
    try:
        for request in requests:
            try:
                writer.write(request)
                await writer.drain()
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), read_seconds)
            except (ConnectionError, asyncio.IncompleteReadError):
                break
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await asyncio.wait_for(reader.readexactly(length), read_seconds)
            answers.append(head + body)
    finally:
        writer.close()
    return answers
