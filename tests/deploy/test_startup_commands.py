"""The start-up commands of the images, run outside a container (no container engine runs here).

For each service: the migrate job's command (the image's ENTRYPOINT + ``migrate``, with the job's compose
environment) on an empty database — a SQLite file, or a fresh PostgreSQL database when the suite runs on
PostgreSQL — then the service's command (``serve``, its compose environment: production mode,
``MIGRATE_ON_START=false``, secrets from make-secrets.sh's files) as a real uvicorn process on a free port:
/healthz and /readyz answer, the image's HEALTHCHECK script passes, SIGTERM stops it. Also: the service
command does not migrate, and the entrypoint's secret-file handling refuses what it must.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from libs.common.testing import DEFAULT_POSTGRES_URL, backend, scratch_database
from tests.deploy.container_files import (
    REPO,
    compose,
    environment,
    image_command,
    image_environment,
    local_services,
    outside,
    run_image_command,
)

START_SECONDS = 60.0
STOP_SECONDS = 30.0
MAKE_SECRETS = REPO / "deploy" / "compose" / "make-secrets.sh"


@pytest.fixture(scope="module")
def generated_secrets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("startup") / "secrets"
    result = subprocess.run(
        ["sh", str(MAKE_SECRETS), str(directory)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return directory


@asynccontextmanager
async def empty_database(service: str, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database for the service: a new SQLite file, or a new PostgreSQL database (dropped after)."""
    if backend() != "postgresql":
        yield f"sqlite+aiosqlite:///{tmp_path / (service + '.db')}"
        return
    server = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    async with scratch_database(server, f"yyk1_{service}_{uuid.uuid4().hex[:10]}") as url:
        yield url


def _secrets_with_database(generated: Path, tmp_path: Path, service: str, url: str) -> Path:
    """make-secrets.sh's files, with this test's database URL as the service's database secret."""
    directory = tmp_path / "secrets"
    directory.mkdir()
    for path in generated.iterdir():
        (directory / path.name).write_bytes(path.read_bytes())
    (directory / f"{service}_database_url").write_text(url + "\n")
    return directory


async def _tables(url: str, schema: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            if url.startswith("sqlite"):
                rows = await connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'"))
            else:
                rows = await connection.execute(
                    text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                    {"s": schema},
                )
            return {str(row[0]) for row in rows}
    finally:
        await engine.dispose()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(service: str, env: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """The service's container command (``serve``) on a free loopback port; stopped by SIGTERM after."""
    port = _free_port()
    full_env = image_environment(service, {**env, "HOST": "127.0.0.1", "PORT": str(port)})
    command = image_command(service, compose()["services"][service])
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=REPO, env=full_env, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def _wait_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"exited with {process.returncode} before it was ready:\n{_tail(log)}")
            try:
                if (await client.get("/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    pytest.fail(f"not ready after {START_SECONDS:.0f} s:\n{_tail(log)}")


async def _metrics_count_every_worker(port: int) -> None:
    """With several workers the entrypoint gives them one multiprocess directory: whichever worker
    answers /metrics counts the requests all of them served (each new connection may reach either)."""
    for _ in range(20):
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as client:
            assert (await client.get("/healthz")).status_code == 200
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as client:
        text = (await client.get("/metrics")).text
    served = sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "yiyang_http_requests_total" and sample.labels.get("route") == "/healthz"
    )
    assert served >= 22, served  # the 20 above, and the first /healthz and the one of the readiness wait


def _service_env(service: str, secrets: Path, workers: int) -> dict[str, str]:
    env = outside(environment(compose()["services"][service]), secrets)
    env["WEB_CONCURRENCY"] = str(workers)
    return env


@pytest.mark.parametrize(
    "service", ["gateway", "registry", "contracts", "homecare", "indicators", "residents"]
)
async def test_the_migrate_job_then_the_service_command_start_a_service(
    service: str, generated_secrets: Path, tmp_path: Path
) -> None:
    assert service in local_services()
    services = compose()["services"]
    async with empty_database(service, tmp_path) as url:
        secrets = _secrets_with_database(generated_secrets, tmp_path, service, url)
        job_env = outside(environment(services[f"{service}-migrate"]), secrets)
        migrated = await asyncio.to_thread(
            run_image_command, service, services[f"{service}-migrate"]["command"], job_env
        )
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        assert "alembic_version" in await _tables(url, service)

        # the gateway with the compose file's two workers (uvicorn's supervisor), the others with one
        workers = 2 if service == "gateway" else 1
        log = tmp_path / f"{service}.log"
        with serving(service, _service_env(service, secrets, workers), log) as (process, port):
            await _wait_ready(process, port, log)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as client:
                health = await client.get("/healthz")
                ready = await client.get("/readyz")
            assert health.json() == {"status": "ok", "service": service}
            assert ready.status_code == 200, ready.text
            assert ready.json() == {"status": "ready", "service": service}
            if workers > 1:
                await _metrics_count_every_worker(port)
            # the image's HEALTHCHECK command
            check = await asyncio.to_thread(
                run_image_command,
                service,
                ["python", "/app/deploy/docker/healthcheck.py"],
                {"PORT": str(port)},
            )
            assert check.returncode == 0, check.stderr
            process.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(process.wait, STOP_SECONDS)
            # a graceful stop: uvicorn ends by re-raising the signal (-15); its worker supervisor exits 0
            assert code in (0, -signal.SIGTERM), _tail(log)
            assert "Application shutdown complete" in _tail(log)
        output = log.read_text()
        assert "BEGIN PRIVATE KEY" not in output


async def test_the_service_command_does_not_migrate(generated_secrets: Path, tmp_path: Path) -> None:
    """With the compose environment (MIGRATE_ON_START=false) a service on an empty database starts and
    leaves it empty: migrations are the job's alone."""
    async with empty_database("registry", tmp_path) as url:
        secrets = _secrets_with_database(generated_secrets, tmp_path, "registry", url)
        log = tmp_path / "registry.log"
        with serving("registry", _service_env("registry", secrets, 1), log) as (process, port):
            await _wait_ready(process, port, log)
        assert await _tables(url, "registry") == set()


async def test_the_healthcheck_fails_when_nothing_answers() -> None:
    check = await asyncio.to_thread(
        run_image_command,
        "registry",
        ["python", "/app/deploy/docker/healthcheck.py"],
        {"PORT": str(_free_port())},
    )
    assert check.returncode == 1


# ---- the entrypoint's secret files ----


async def test_a_setting_and_its_file_together_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "lookup"
    secret.write_text("s3cr3t-value-never-printed\n")
    env = {
        "REGISTRY_PERSONAL_DATA_LOOKUP_KEY": "another-value-never-printed",
        "REGISTRY_PERSONAL_DATA_LOOKUP_KEY_FILE": str(secret),
    }
    result = await asyncio.to_thread(run_image_command, "registry", ["migrate"], env)
    assert result.returncode == 64
    assert "REGISTRY_PERSONAL_DATA_LOOKUP_KEY and REGISTRY_PERSONAL_DATA_LOOKUP_KEY_FILE" in result.stderr
    assert "never-printed" not in result.stdout + result.stderr


async def test_a_missing_secret_file_is_refused_before_anything_runs(tmp_path: Path) -> None:
    env = {"REGISTRY_DATABASE_URL_FILE": str(tmp_path / "absent")}
    result = await asyncio.to_thread(run_image_command, "registry", ["python", "-c", "print('ran')"], env)
    assert result.returncode == 66
    assert "REGISTRY_DATABASE_URL_FILE" in result.stderr
    assert "ran" not in result.stdout


async def test_a_secret_file_becomes_the_setting_and_the_signing_key_file_stays_a_path(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "keys"
    secret.write_text('{"k9": "value"}\n\n')
    env = {
        "REGISTRY_PERSONAL_DATA_KEYS_FILE": str(secret),
        "GATEWAY_SIGNING_KEY_FILE": "/run/secrets/key.pem",
    }
    code = (
        "import os; print(repr(os.environ['REGISTRY_PERSONAL_DATA_KEYS']), "
        "'REGISTRY_PERSONAL_DATA_KEYS_FILE' in os.environ, os.environ['GATEWAY_SIGNING_KEY_FILE'], "
        "'GATEWAY_SIGNING_KEY' in os.environ)"
    )
    result = await asyncio.to_thread(run_image_command, "registry", ["python", "-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['\'{"k9":', '"value"}\'', "False", "/run/secrets/key.pem", "False"]


async def test_serve_needs_a_service_and_a_port() -> None:
    result = await asyncio.to_thread(run_image_command, "registry", ["serve"], {"SERVICE": ""})
    assert result.returncode != 0
    assert "SERVICE" in result.stderr
