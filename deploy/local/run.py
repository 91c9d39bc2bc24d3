"""Run the whole platform on one machine: migrate, seed demo data, start the five services.

    .venv/bin/python deploy/local/run.py            # what `make run` does
    .venv/bin/python deploy/local/run.py --ports 18000,18001,18002,18003,18004 --data-dir /tmp/x --no-seed

Each service is its own uvicorn process (gateway 8000, registry 8001, contracts 8002, homecare 8003,
indicators 8004) on SQLite files under ``var/`` unless ``--database-url`` names a PostgreSQL server (each
service then gets its own schema in that database). Ctrl-C (SIGINT) or SIGTERM stops them all.
``--ports`` also takes the older four-port form (gateway … homecare): the indicators then get a free
port of their own.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "registry", "contracts", "homecare", "indicators")
DEMO_ACCOUNTS = [
    ("prov_admin", "省卫健委管理员 (350000)"),
    ("fz_admin", "福州市卫健委管理员 (350100)"),
    ("xm_admin", "厦门市卫健委管理员 (350200)"),
    ("huli_admin", "湖里区卫健局管理员 (350206)"),
    ("siming_admin", "思明区卫健局管理员 (350203)"),
    ("lanxin_admin", "兰馨颐养院 机构管理员"),
    ("xinkaiyuan_admin", "厦门新开元医院 机构管理员"),
    ("xinkaiyuan_nurse", "厦门新开元医院 护士 林晓燕"),
    ("xinkaiyuan_doctor", "厦门新开元医院 医师 张建国"),
    ("lianhua_admin", "厦门莲花医院 机构管理员"),
    ("lianhua_nurse", "厦门莲花医院 护士 陈美玲"),
    ("hongai_admin", "厦门弘爱养护院 机构管理员"),
    ("fzfly_admin", "福州市社会福利院 机构管理员"),
]


def _key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _secrets(data_dir: Path) -> dict[str, dict[str, str]]:
    """Development secrets (service-client secrets, personal-data keys), made once beside the databases.

    Marked as development values (secrets ``dev-…``, key ids ``dev1``): production refuses them wherever
    the data directory is (libs/common/production.py)."""
    path = data_dir / "dev_secrets.json"
    values: dict[str, dict[str, str]] = json.loads(path.read_text()) if path.exists() else {}
    missing = [name for name in SERVICES if name not in values]  # a service added since they were made
    if not missing:
        return values
    for name in missing:
        values[name] = {
            "client_secret": "dev-" + secrets.token_urlsafe(24),
            "data_key": _key(),
            "lookup_key": _key(),
        }
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


def service_env(args: argparse.Namespace, ports: dict[str, int]) -> dict[str, str]:
    data_dir: Path = args.data_dir
    dev_secrets = _secrets(data_dir)
    gateway_url = f"http://127.0.0.1:{ports['gateway']}"
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    env["GATEWAY_SERVICE_CLIENTS"] = json.dumps(
        {name: values["client_secret"] for name, values in dev_secrets.items() if name != "gateway"}
    )
    for name in SERVICES:
        prefix = name.upper() + "_"
        env[prefix + "ENVIRONMENT"] = args.environment
        env[prefix + "GATEWAY_URL"] = gateway_url
        if args.database_url:
            env[prefix + "DATABASE_URL"] = args.database_url
        else:
            env[prefix + "DATABASE_URL"] = f"sqlite+aiosqlite:///{data_dir / (name + '.db')}"
        env[prefix + "PERSONAL_DATA_KEYS"] = json.dumps({"dev1": dev_secrets[name]["data_key"]})
        env[prefix + "PERSONAL_DATA_PRIMARY_KEY_ID"] = "dev1"
        env[prefix + "PERSONAL_DATA_LOOKUP_KEY"] = dev_secrets[name]["lookup_key"]
        if name != "gateway":
            env[prefix + "SERVICE_CLIENT_SECRET"] = dev_secrets[name]["client_secret"]
        if name != "gateway" and name in ports:  # a harness may start only some of the services
            env[f"GATEWAY_{name.upper()}_URL"] = f"http://127.0.0.1:{ports[name]}"
    return env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"{what} failed (exit {result.returncode})")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def parse_ports(text: str) -> dict[str, int]:
    """``gateway,registry,contracts,homecare[,indicators]``: the four-port form of earlier scripts gets
    a free port for the indicators."""
    ports = [int(p) for p in text.split(",")]
    if len(ports) == len(SERVICES) - 1:
        ports.append(_free_port())
    if len(ports) != len(SERVICES):
        raise SystemExit(f"--ports takes {len(SERVICES)} ports ({','.join(SERVICES)})")
    return dict(zip(SERVICES, ports, strict=True))


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} not ready after {timeout:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the 医养结合 platform locally")
    parser.add_argument(
        "--ports", default="8000,8001,8002,8003,8004", help="gateway,registry,contracts,homecare,indicators"
    )
    parser.add_argument("--data-dir", type=Path, default=REPO / "var")
    parser.add_argument(
        "--database-url", default="", help="e.g. postgresql+asyncpg://postgres@127.0.0.1/yiyang"
    )
    parser.add_argument("--environment", default="development", choices=["development", "test"])
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--log-dir", type=Path, default=None, help="write each service's log to a file here")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    ports = parse_ports(args.ports)
    env = service_env(args, ports)
    python = sys.executable

    for name in SERVICES:
        _run([python, "-m", "alembic", "-n", name, "upgrade", "head"], env, f"{name} migrations")
    if not args.no_seed:
        for name in ("registry", "gateway", "contracts", "homecare", "indicators"):
            _run([python, "-m", f"demo.{name}"], env, f"{name} demo data")

    processes: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()

    def stop_and_exit(*_: object) -> None:
        stop()
        sys.exit(0)

    signal.signal(signal.SIGINT, stop_and_exit)
    signal.signal(signal.SIGTERM, stop_and_exit)
    try:
        for name in SERVICES:
            log = open(args.log_dir / f"{name}.log", "ab") if args.log_dir else None  # noqa: SIM115
            processes[name] = subprocess.Popen(
                [
                    python,
                    "-m",
                    "uvicorn",
                    f"services.{name}.app:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(ports[name]),
                    "--no-access-log",
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT if log else None,
            )
        for name in SERVICES:
            _wait_ready(f"http://127.0.0.1:{ports[name]}/readyz", processes[name], timeout=60)
        base = f"http://127.0.0.1:{ports['gateway']}"
        print("\n医养结合平台已启动 (platform is up)", flush=True)
        print(f"  登录 / API 文档: {base}/docs   令牌: POST {base}/api/v1/auth/token", flush=True)
        for name in SERVICES[1:]:
            print(
                f"  {name:<9} http://127.0.0.1:{ports[name]}  (经网关: {base}/api/v1/{name}/...)", flush=True
            )
        if not args.no_seed:
            print("  演示账号 (密码 Demo@2026):", flush=True)
            for username, who in DEMO_ACCOUNTS:
                print(f"    {username:<18} {who}", flush=True)
            print("    城市平台客户端 xm_city_platform / Demo@2026-platform (厦门)", flush=True)
        print("按 Ctrl-C 停止 (Ctrl-C stops all the services)", flush=True)
        print("READY", flush=True)
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"{name} exited with {process.returncode}; stopping the others", flush=True)
                    stop()
                    raise SystemExit(1)
            time.sleep(0.5)
    finally:
        stop()


if __name__ == "__main__":
    main()
