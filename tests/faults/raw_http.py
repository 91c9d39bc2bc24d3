"""Raw HTTP/1.1 on a socket: a request head and only part of its body, to see whether (and how fast) a
server answers before the body is complete — what httpx, which always sends the whole body first,
cannot show."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class RawAnswer:
    status: int
    problem: dict[str, Any]
    seconds: float


def chunked(payload: bytes) -> bytes:
    return f"{len(payload):x}\r\n".encode() + payload + b"\r\n"


async def partial_post(
    base: str, path: str, headers: dict[str, str], parts: list[bytes], *, read_seconds: float = 5.0
) -> RawAnswer:
    """POST ``path`` with ``headers`` and send only ``parts`` of the body, never its end; read the answer."""
    url = httpx.URL(base)
    started = time.monotonic()
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: {url.host}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
        writer.write(head.encode())
        for part in parts:
            writer.write(part)
            await writer.drain()
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), read_seconds)
        lines = answer.split(b"\r\n")
        size = next(
            int(line.split(b":", 1)[1]) for line in lines if line.lower().startswith(b"content-length")
        )
        body = await asyncio.wait_for(reader.readexactly(size), read_seconds)
    finally:
        writer.close()
    return RawAnswer(int(lines[0].split()[1]), json.loads(body), time.monotonic() - started)
