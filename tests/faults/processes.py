"""Service processes started one by one (the same uvicorn command and environment as
``deploy/local/run.py``), so that a test can kill one and start it again while the others run."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from subprocess import PIPE, STDOUT
from types import ModuleType

import httpx

from libs.common.auth import TokenIssuer, generate_private_key_pem
from libs.common.testing import TEST_AUDIENCE, TEST_ISSUER, Tokens
from tests.e2e.conftest import _free_ports

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "registry", "contracts", "homecare")


def _launcher() -> ModuleType:
    spec = importlib.util.spec_from_file_location("local_run", REPO / "deploy/local/run.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Processes:
    """The platform's processes on loopback, each started, killed and restarted on its own."""

    def __init__(self, data_dir: Path, *, database_url: str = "", schema_prefix: str = "faults") -> None:
        self.data_dir = data_dir
        ports = _free_ports(len(SERVICES))
        self.ports = dict(zip(SERVICES, ports, strict=True))
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        args = argparse.Namespace(data_dir=data_dir, environment="test", database_url=database_url)
        self.env = _launcher().service_env(args, self.ports)
        key = generate_private_key_pem()
        self.env["GATEWAY_SIGNING_KEY_PEM"] = key
        for name in SERVICES:
            prefix = name.upper() + "_"
            self.env[prefix + "JWT_ISSUER"] = TEST_ISSUER
            self.env[prefix + "JWT_AUDIENCE"] = TEST_AUDIENCE
            self.env[prefix + "DATABASE_SCHEMA"] = f"{schema_prefix}_{name}"
            self.env[prefix + "LOG_LEVEL"] = "WARNING"
        self.tokens = Tokens(TokenIssuer(key, issuer=TEST_ISSUER, audience=TEST_AUDIENCE))
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def set_env(self, service: str, name: str, value: str) -> None:
        self.env[f"{service.upper()}_{name}"] = value

    def spawn(self, name: str) -> None:
        log = open(self.data_dir / f"{name}.log", "ab")  # noqa: SIM115 (the process owns it)
        command = [sys.executable, "-m", "uvicorn", f"services.{name}.app:app", "--host", "127.0.0.1"]
        command += ["--port", str(self.ports[name]), "--no-access-log"]
        self.running[name] = subprocess.Popen(
            command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )

    async def wait_ready(self, name: str, *, within_seconds: float = 60.0) -> None:
        deadline = time.monotonic() + within_seconds
        async with httpx.AsyncClient(timeout=1) as client:
            while time.monotonic() < deadline:
                if self.running[name].poll() is not None:
                    raise RuntimeError(f"{name} exited: {self.log_tail(name)}")
                try:
                    if (await client.get(self.urls[name] + "/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError(f"{name} not ready: {self.log_tail(name)}")

    async def load_demo_data(self, *names: str) -> None:
        """The demo data of ``names`` (the seeds ``deploy/local/run.py`` runs), in one process; the
        services must have started (they create their tables on start)."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.faults.demo_data",
            *names,
            cwd=REPO,
            env=self.env,
            stdout=PIPE,
            stderr=STDOUT,
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"demo data of {names} failed:\n{output.decode()[-3000:]}")

    async def start(self, name: str, *, within_seconds: float = 60.0) -> None:
        self.spawn(name)
        await self.wait_ready(name, within_seconds=within_seconds)

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown, open transactions die with the process."""
        process = self.running.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.running.values():
            process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.running.clear()

    def log_tail(self, name: str) -> str:
        path = self.data_dir / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


@contextmanager
def processes(
    data_dir: Path, *, database_url: str = "", schema_prefix: str = "faults"
) -> Iterator[Processes]:
    platform = Processes(data_dir, database_url=database_url, schema_prefix=schema_prefix)
    try:
        yield platform
    finally:
        platform.stop_all()
