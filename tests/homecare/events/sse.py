"""A small server-sent events reader for the tests (and a real uvicorn server for an app already
running): the ASGI transport collects a whole response before it answers, so a stream is read over
loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI


@dataclass(frozen=True)
class Frame:
    """One event (``id``, ``event``, ``data``) or one comment line (``comment``)."""

    id: str | None = None
    event: str | None = None
    data: str | None = None
    comment: str | None = None


async def frames(response: httpx.Response) -> AsyncIterator[Frame]:
    fields: dict[str, str] = {}
    async for line in response.aiter_lines():
        if line == "":
            if fields:
                yield Frame(id=fields.get("id"), event=fields.get("event"), data=fields.get("data"))
                fields = {}
            continue
        if line.startswith(":"):
            yield Frame(comment=line[1:].strip())
            continue
        name, _, value = line.partition(":")
        fields[name] = value[1:] if value.startswith(" ") else value


async def next_event(stream: AsyncIterator[Frame], seconds: float = 10.0) -> Frame:
    """The next frame that is an event (heartbeats skipped), within ``seconds``."""

    async def first() -> Frame:
        async for frame in stream:
            if frame.comment is None:
                return frame
        raise AssertionError("the stream ended")

    return await asyncio.wait_for(first(), seconds)


@asynccontextmanager
async def serving_running(app: FastAPI) -> AsyncIterator[str]:
    """Serve ``app``, whose lifespan already runs (a session fixture's), on 127.0.0.1; its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
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
