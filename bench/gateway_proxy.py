"""The gateway's own CPU per proxied request, in-process (issue 16, 16k).

A tiny HTTP/1.1 upstream runs in a child process (its CPU is not counted) and answers every request with
the same JSON body (``--size`` bytes, with ``Content-Length``, or chunked with ``--chunked``). The real
gateway app (its whole middleware stack, lifespan on a throw-away SQLite database) is called as an ASGI
app in this process, ``--requests`` times with ``--concurrency`` at once; ``time.process_time`` over the
run gives the CPU per request (the gateway's and its outbound client's, nothing of a server's), and
``--profile`` prints cProfile's call count per request and the top functions.

    .venv/bin/python -m bench.gateway_proxy --requests 2000 --profile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import pstats
import resource
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

import uvloop
from starlette.types import Message

PATH = "/api/v1/registry/institutions"


def _upstream(port: int, size: int, chunked: bool) -> None:
    body = b'{"items":[' + b'"' + b"x" * max(size - 14, 0) + b'"]}'
    if chunked:
        head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
        payload = head + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    else:
        head = (
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\n".encode()
            + b'etag: "abc"\r\nserver: uvicorn\r\n\r\n'
        )
        payload = head + body

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        buffered = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffered:
                    data = await reader.read(65536)
                    if not data:
                        return
                    buffered += data
                request, _, buffered = buffered.partition(b"\r\n\r\n")
                writer.write(head if request.startswith(b"HEAD ") else payload)
                await writer.drain()
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _scope(method: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"page_size=50",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"user-agent", b"wrk"),
            (b"accept", b"*/*"),
            (b"authorization", b"Bearer " + b"t" * 600),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def _one(app: Any, method: str) -> tuple[int, int]:
    status = 0
    received = 0

    async def receive() -> Message:
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status, received
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            received += len(message.get("body", b""))

    await app(_scope(method), receive, send)
    return status, received


async def _run(args: argparse.Namespace, url: str, database: Path) -> None:
    from libs.common.testing import running
    from services.gateway.app import create_app
    from services.gateway.settings import GatewaySettings

    settings = GatewaySettings(
        environment="test",
        database_url=f"sqlite+aiosqlite:///{database}",
        migrate_on_start=True,
        log_json=False,
        registry_url=url,
        retention_interval_seconds=0,
    )
    app = create_app(settings)
    async with running(app):
        # readiness of the upstream, and a warm-up (imports, pool, caches)
        for _ in range(50):
            try:
                status, size = await _one(app, args.method)
                if status == 200:
                    break
            except Exception:  # noqa: BLE001 - the upstream is still starting
                pass
            await asyncio.sleep(0.1)
        for _ in range(200):
            await _one(app, args.method)
        profiler = cProfile.Profile() if args.profile else None
        queue = iter(range(args.requests))
        bodies = 0

        async def worker() -> None:
            nonlocal bodies
            for _ in queue:
                status, size = await _one(app, args.method)
                assert status == 200, status
                bodies += size

        started_usage = resource.getrusage(resource.RUSAGE_SELF)
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        await asyncio.gather(*(worker() for _ in range(args.concurrency)))
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - started_cpu, time.perf_counter() - started_wall
        usage = resource.getrusage(resource.RUSAGE_SELF)
        user = (usage.ru_utime - started_usage.ru_utime) / args.requests * 1000
        system = (usage.ru_stime - started_usage.ru_stime) / args.requests * 1000
        print(
            f"{args.requests} {args.method} × {bodies // args.requests} B"
            f"{' chunked' if args.chunked else ''}, concurrency {args.concurrency}:\n  "
            f"CPU {cpu / args.requests * 1000:.3f} ms/request (user {user:.3f}, system {system:.3f}), "
            f"wall {wall / args.requests * 1000:.3f} ms"
        )
        if profiler:
            stats = pstats.Stats(profiler)
            calls = sum(value[1] for value in stats.stats.values())  # type: ignore[attr-defined]
            print(f"calls per request: {calls / args.requests:.0f}")
            stats.sort_stats(args.sort).print_stats(args.top)
            for pattern in args.callers:
                stats.print_callers(pattern)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--size", type=int, default=90_000)
    parser.add_argument("--chunked", action="store_true")
    parser.add_argument("--method", default="GET", choices=["GET", "HEAD"])
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", help="cProfile's order (tottime, cumulative …)")
    parser.add_argument("--callers", action="append", default=[], help="print the callers of (regex)")
    args = parser.parse_args()
    port = _free_port()
    upstream = multiprocessing.get_context("spawn").Process(
        target=_upstream, args=(port, args.size, args.chunked), daemon=True
    )
    upstream.start()
    try:
        with tempfile.TemporaryDirectory() as directory:
            # uvicorn's loop when uvloop is installed (it is: uvicorn[standard])
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(_run(args, f"http://127.0.0.1:{port}", Path(directory) / "gateway.db"))
    finally:
        upstream.terminate()
        upstream.join()


if __name__ == "__main__":
    main()
