"""The platform under measurement: deploy/local/run.py on free ports, in a throwaway database.

``running_stack`` starts the same launcher as ``make run`` (migrations, the demo seed = scale S, one uvicorn
process per service) in a fresh data directory — on PostgreSQL in a database of its own (``bench_<hex>``,
each service in its own schema, dropped at the end), on SQLite in files under the data directory — and
yields a :class:`Stack`. ``uvicorn_process`` starts one more process of a service (or of any ASGI app) with
the stack's environment, e.g. the registry with several workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import platform
import secrets
import signal
import socket
import sqlite3
import sys
import time
from argparse import Namespace
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import fastapi
import httpx
import uvicorn
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.context import BenchContext

REPO = Path(__file__).resolve().parents[1]
RUN_PY = REPO / "deploy" / "local" / "run.py"
SERVICES = ("gateway", "registry", "contracts", "homecare", "indicators", "residents")
DEFAULT_SERVER_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEMO_PASSWORD = "Demo@2026"
TOKEN_REUSE = 300.0
#: migrations, the demo seed and its linking on a busy 2-core machine (PostgreSQL took ~5 min at load 4)
START_TIMEOUT = 600.0


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _launcher() -> ModuleType:
    """deploy/local/run.py as a module (it is a script, not a package): its ``service_env``."""
    spec = importlib.util.spec_from_file_location("bench_local_run", RUN_PY)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Stack:
    database: str
    database_url: str  # "" on SQLite
    data_dir: Path
    ports: dict[str, int]
    log_dir: Path
    _tokens: dict[str, tuple[float, str]] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def services(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items() if name != "gateway"}

    def env(self) -> dict[str, str]:
        """The environment run.py gives the services (same secrets, same databases)."""
        args = Namespace(data_dir=self.data_dir, environment="development", database_url=self.database_url)
        env: dict[str, str] = _launcher().service_env(args, self.ports)
        return env

    async def token(self, username: str) -> str:
        """A demo user's access token, signed in again only when it is older than TOKEN_REUSE seconds (the
        gateway rate-limits sign-ins; its tokens live 15 minutes, a generated scale may take longer)."""
        held = self._tokens.get(username)
        if held is None or time.monotonic() - held[0] > TOKEN_REUSE:
            async with httpx.AsyncClient(base_url=self.gateway, timeout=30) as client:
                response = await client.post(
                    "/api/v1/auth/token",
                    data={"grant_type": "password", "username": username, "password": DEMO_PASSWORD},
                )
            response.raise_for_status()
            held = (time.monotonic(), str(response.json()["access_token"]))
            self._tokens[username] = held
        return held[1]

    async def machine(self) -> dict[str, str]:
        return await machine(self.database, self.database_url)


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


async def machine(database: str, database_url: str) -> dict[str, str]:
    """What the figures were measured on."""
    facts = {
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count() or 0),
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "fastapi": fastapi.__version__,
        "uvicorn": uvicorn.__version__,
        # other work on the machine skews every figure: the load when the run's stack was up
        "load average (1, 5, 15 min)": ", ".join(f"{value:.2f}" for value in os.getloadavg()),
    }
    if database == "postgresql" and database_url:
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as connection:
                version = (await connection.execute(text("SHOW server_version"))).scalar_one()
            facts["database"] = f"PostgreSQL {version}"
        finally:
            await engine.dispose()
    else:
        facts["database"] = f"SQLite {sqlite3.sqlite_version}"
    return facts


async def _admin(server_url: str, sql: str) -> None:
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def throwaway_database(server_url: str) -> AsyncIterator[str]:
    name = f"bench_{secrets.token_hex(4)}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _stop(process: asyncio.subprocess.Process, sig: int = signal.SIGTERM, grace: float = 30) -> None:
    if process.returncode is None:
        process.send_signal(sig)
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            process.kill()
            await process.wait()


def _tail(log_dir: Path) -> str:
    return "".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in sorted(log_dir.glob("*.log"))
    )


@contextlib.asynccontextmanager
async def running_stack(
    database: str,
    data_dir: Path,
    *,
    server_url: str = DEFAULT_SERVER_URL,
    demo_residents_scale: float | None = None,
) -> AsyncIterator[Stack]:
    """The six services seeded with the demo (scale S) on ``database`` ("sqlite" | "postgresql");
    ``demo_residents_scale`` seeds fewer residents (the smoke run: 湖里 in full adds ~80 s)."""
    if database not in ("sqlite", "postgresql"):
        raise ValueError(f"unknown database {database!r}")
    os.makedirs(data_dir, exist_ok=True)
    async with contextlib.AsyncExitStack() as stack:
        database_url = ""
        if database == "postgresql":
            database_url = await stack.enter_async_context(throwaway_database(server_url))
        ports = dict(zip(SERVICES, free_ports(len(SERVICES)), strict=True))
        log_dir = data_dir / "logs"
        os.makedirs(log_dir, exist_ok=True)
        command = [
            sys.executable,
            str(RUN_PY),
            "--ports",
            ",".join(str(ports[name]) for name in SERVICES),
            "--data-dir",
            str(data_dir),
            "--log-dir",
            str(log_dir),
            "--no-console-build",
        ]
        if database_url:
            command += ["--database-url", database_url]
        env = dict(os.environ)
        if demo_residents_scale is not None:
            env["DEMO_RESIDENTS_SCALE"] = str(demo_residents_scale)
        process = await asyncio.create_subprocess_exec(
            *command, cwd=REPO, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        assert process.stdout is not None
        output: list[str] = []
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while True:
                remaining = deadline - time.monotonic()
                line = (await asyncio.wait_for(process.stdout.readline(), max(remaining, 0.1))).decode()
                output.append(line)
                if line.strip() == "READY":
                    break
                if not line:  # the launcher exited
                    raise RuntimeError("the platform did not start:\n" + "".join(output) + _tail(log_dir))
        except BaseException:
            await _stop(process, signal.SIGINT)
            raise
        drain = asyncio.create_task(_drain(process.stdout))
        try:
            yield Stack(database, database_url, data_dir, ports, log_dir)
        finally:
            await _stop(process, signal.SIGINT)
            drain.cancel()


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


async def wait_ready(url: str, process: asyncio.subprocess.Process, within: float = 120) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"{url}: the process exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {within:.0f}s")


@contextlib.asynccontextmanager
async def uvicorn_process(
    app: str,
    *,
    env: dict[str, str],
    log: Path,
    workers: int = 1,
    factory: bool = False,
    ready_path: str = "/readyz",
) -> AsyncIterator[str]:
    """``python -m uvicorn APP`` on a free loopback port, as run.py starts a service; its base URL."""
    port = free_ports(1)[0]
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--no-access-log", "--workers", str(workers)]
    if factory:
        command.append("--factory")
    output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=REPO, env=env, stdout=output, stderr=asyncio.subprocess.STDOUT
        )
    finally:
        os.close(output)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(base + ready_path, process)
        yield base
    finally:
        await _stop(process)


def context_env(ctx: BenchContext) -> dict[str, str]:
    """The services' environment for the stack a context describes (for one more process of a service)."""
    ports = {name: int(url.rsplit(":", 1)[1]) for name, url in ctx.services.items()}
    ports["gateway"] = int(ctx.gateway.rsplit(":", 1)[1])
    return Stack(ctx.database, ctx.database_url, ctx.data_dir, ports, ctx.data_dir).env()
