"""Measure 1, the gateway hop: the institution list direct, through the gateway, through nginx.

nginx (Debian's, ``make nginx-tools``) runs in front of the same registry process with a config written to
a temporary directory: one worker, keep-alive to the upstream, the response buffered in memory — the
reverse proxy a deployment would otherwise put there. Without the binary its row is left out (a note says so).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from bench.context import BenchContext, Section
from bench.load import side_by_side
from bench.measures import INSTITUTION_LIST, bearer
from bench.report import LOAD_COLUMNS, load_cells, percent
from bench.stack import REPO, free_ports, wait_ready

NGINX = REPO / "var" / "tools" / "nginx" / "usr" / "sbin" / "nginx"
ROUNDS = 2


def nginx_config(directory: Path, port: int, upstream: str) -> Path:
    temp = "".join(
        f"{kind}_temp_path {directory / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    config = directory / "nginx.conf"
    config.write_text(
        f"{user}worker_processes 1;\ndaemon off;\npid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'} warn;\nevents {{ worker_connections 1024; }}\n"
        f"http {{\naccess_log off;\n{temp}"
        f"upstream service {{ server {upstream.removeprefix('http://')}; keepalive 64; }}\n"
        f"server {{\nlisten 127.0.0.1:{port};\nlocation / {{\nproxy_pass http://service;\n"
        'proxy_http_version 1.1;\nproxy_set_header Connection "";\nproxy_set_header Host $host;\n'
        "proxy_buffers 64 16k;\nproxy_max_temp_file_size 0;\n}\n}\n}\n"
    )
    return config


@contextlib.asynccontextmanager
async def nginx_in_front(upstream: str) -> AsyncIterator[str]:
    port = free_ports(1)[0]
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as tmp:
        directory = Path(tmp)
        config = nginx_config(directory, port, upstream)
        process = await asyncio.create_subprocess_exec(
            str(NGINX),
            "-p",
            tmp,
            "-e",
            str(directory / "error.log"),
            "-c",
            str(config),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            await wait_ready(f"http://127.0.0.1:{port}/readyz", process, within=30)
            yield f"http://127.0.0.1:{port}"
        finally:
            if process.returncode is None:
                process.terminate()
                await process.wait()


async def run(ctx: BenchContext) -> list[Section]:
    headers = await bearer(ctx)
    direct = ctx.services["registry"]
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        page = await client.get(direct + INSTITUTION_LIST)
        page.raise_for_status()
        via_gateway = await client.get(ctx.gateway + INSTITUTION_LIST)
        via_gateway.raise_for_status()
    rows_in_page = len(page.json()["items"])
    targets = [("direct (registry)", direct), ("through the gateway", ctx.gateway)]
    notes = [
        f"`GET {INSTITUTION_LIST}` as prov_admin: {rows_in_page} rows, {len(page.content):,} bytes; "
        "the share is of the direct throughput measured in the same run."
    ]
    urls = {label: base + INSTITUTION_LIST for label, base in targets}
    async with contextlib.AsyncExitStack() as running:
        if NGINX.exists():
            urls["nginx → registry"] = (
                await running.enter_async_context(nginx_in_front(direct)) + INSTITUTION_LIST
            )
        else:
            notes.append("no nginx under var/tools (`make nginx-tools`): its row is left out.")
        found = await side_by_side(
            urls,
            headers=headers,
            duration=ctx.duration,
            connections=ctx.connections,
            wrk=ctx.wrk,
            rounds=ROUNDS if ctx.duration >= ROUNDS else 1,
        )
    results = list(found.items())
    notes.append(
        f"The paths took turns, {ROUNDS} rounds of half the duration each; the best round of each is shown."
    )
    base_rps = results[0][1].requests_per_second
    rows = [[label, *load_cells(r), percent(r.requests_per_second, base_rps)] for label, r in results]
    return [
        Section(
            "1. The gateway hop (institution list, 50 rows)",
            ["path", *LOAD_COLUMNS, "of direct"],
            rows,
            notes,
        )
    ]
