"""End-to-end: the six real processes on loopback, started by the same script as ``make run``."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from libs.common.testing import TestDatabases, backend

REPO = Path(__file__).resolve().parents[2]


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@dataclass(frozen=True)
class Platform:
    gateway: str
    registry: str
    contracts: str
    homecare: str
    indicators: str
    residents: str
    process: subprocess.Popen[str]
    log_dir: Path


@pytest.fixture(scope="package")
def platform(test_databases: TestDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    if backend() == "postgresql":
        # CI's 30 minutes: these flows are HTTP over the whole stack and hold nothing backend-specific; the
        # stack on PostgreSQL (run.py migrating and seeding every service, then answering) is exercised in
        # the PostgreSQL run by the bench smoke (tests/bench) and the images' commands (tests/deploy)
        pytest.skip(
            "the end-to-end flows run in the SQLite run (the PostgreSQL stack: tests/bench, tests/deploy)"
        )
    data_dir = tmp_path_factory.mktemp("e2e")
    ports = _free_ports(6)  # gateway, registry, contracts, homecare, indicators, residents
    command = [
        sys.executable,
        str(REPO / "deploy/local/run.py"),
        "--ports",
        ",".join(map(str, ports)),
        "--data-dir",
        str(data_dir),
        "--log-dir",
        str(data_dir),
        "--no-console-build",  # the API is under test here; the console's own tests build it (web/e2e)
    ]
    if test_databases.postgres_url:
        # the session's test database; each service in its own schema (e2e_<service>, set below)
        command += ["--database-url", test_databases.postgres_url]
    # 湖里's residents at 2 %: the demo seeds them in full (~80 s more start-up), which no flow here needs
    env = {**os.environ, "E2E": "1", "DEMO_RESIDENTS_SCALE": os.environ.get("DEMO_RESIDENTS_SCALE", "0.02")}
    for name in ("GATEWAY", "REGISTRY", "CONTRACTS", "HOMECARE", "INDICATORS", "RESIDENTS"):
        env[f"{name}_DATABASE_SCHEMA"] = f"e2e_{name.lower()}"
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()

    # A thread reads the launcher's output line by line (select() on a buffered text pipe can miss lines).
    def pump() -> None:
        for line in process.stdout or ():
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    output: list[str] = []
    # migrations and six demo seeds: over 180 s on a busy 2-core machine (bench/stack.py allows 300 too)
    deadline = time.monotonic() + 300
    while True:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            line = ""
        output.append(line)
        if line.strip() == "READY":
            break
        if time.monotonic() > deadline or (not line and process.poll() is not None):
            process.kill()
            logs = "".join(p.read_text(errors="replace")[-3000:] for p in data_dir.glob("*.log"))
            pytest.fail("platform did not start:\n" + "".join(output) + logs)
    gateway, registry, contracts, homecare, indicators, residents = (f"http://127.0.0.1:{p}" for p in ports)
    yield Platform(
        gateway, registry, contracts, homecare, indicators, residents, process=process, log_dir=data_dir
    )
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


@pytest.fixture
async def gateway(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as client:
        yield client


async def login(client: httpx.AsyncClient, username: str, password: str = "Demo@2026") -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"grant_type": "password", "username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
