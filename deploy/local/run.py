"""Run the whole platform on one machine: migrate, seed demo data, start the six services.

    .venv/bin/python deploy/local/run.py            # what `make run` does
    .venv/bin/python deploy/local/run.py --ports 18000,18001,18002,18003,18004,18005 --data-dir /tmp/x \
        --no-seed

Each service is its own uvicorn process (gateway 8000, registry 8001, contracts 8002, homecare 8003,
indicators 8004, residents 8005) on SQLite files under ``var/`` unless ``--database-url`` names a
PostgreSQL server (each service then gets its own schema in that database). Ctrl-C (SIGINT) or SIGTERM
stops them all. ``--ports`` also takes the older forms of four (gateway … homecare) or five ports
(… indicators): the services not named then get a free port each.

The web console (``web/``) is built into ``web/dist`` while the services migrate and seed — ``npm ci``
when ``web/package-lock.json`` is newer than the last install, ``npm run build`` when the sources are
newer than the build — and the gateway serves it at ``/`` (``GATEWAY_CONSOLE_DIR``). Without Node.js the
API runs alone. ``--no-console-build`` serves ``--console-dir`` as it is (the browser tests build first).
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
CONSOLE_DIST = WEB / "dist"
NPM_STAMP = WEB / "node_modules" / ".installed"  # the Makefile's stamp of `npm ci` too
SERVICES = ("gateway", "registry", "contracts", "homecare", "indicators", "residents")
#: the services whose demo data ``demo.<name>`` seeds, in this order (each reads what the ones before wrote)
SEEDED = ("registry", "gateway", "contracts", "homecare", "indicators", "residents")
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


#: the linking commands run once the stack answers (issue 19): the demo's homecare recipients and referral
#: residents, seeded in-process before the residents service was up, keep encrypted copies until linked
#: to their persons through the residents API (``POST /residents/persons/bulk``, a thousand a call) —
#: the same elder in both is one person, found by ID number
PERSON_LINKS = (
    ("homecare", "services.homecare.recipients.person_link"),
    ("contracts", "services.contracts.referrals.person_link"),
)


def _link_demo_persons(python: str, env: dict[str, str]) -> None:
    """Run the linking commands one after the other, homecare's first; print what each linked and could not
    match (the elders left unlinked keep their copies; the command's own output lists them). An elder in
    both (黄国平) is registered by whichever comes first; only homecare's record carries the home address,
    and the residents give a found person the contact data it lacks, so the order no longer decides whether
    the address survives the link (tests/demo links the referrals first)."""
    for name, module in PERSON_LINKS:
        result = subprocess.run([python, "-m", module], cwd=REPO, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            sys.stderr.write(result.stdout + result.stderr)
            raise SystemExit(f"{name} person links failed (exit {result.returncode})")
        print(f"  {name}: {result.stdout.splitlines()[0] if result.stdout else ''}", flush=True)


def _newest_mtime(paths: list[Path]) -> float:
    newest = 0.0
    for path in paths:
        if path.is_dir():
            newest = max([newest, *(f.stat().st_mtime for f in path.rglob("*") if f.is_file())])
        elif path.exists():
            newest = max(newest, path.stat().st_mtime)
    return newest


def console_is_stale() -> bool:
    """True when ``web/dist`` is missing or older than what it is built from (as the Makefile decides)."""
    index = CONSOLE_DIST / "index.html"
    if not index.exists():
        return True
    sources = [WEB / "src", WEB / "public", WEB / "nurse", WEB / "index.html", WEB / "package-lock.json"]
    sources += sorted(WEB.glob("vite.config.*")) + sorted(WEB.glob("tsconfig*.json"))
    return _newest_mtime(sources) > index.stat().st_mtime


def npm_install_needed() -> bool:
    """Whether ``web/node_modules`` lacks what ``web/package-lock.json`` pins: npm's own record of the
    installed tree (``node_modules/.package-lock.json``) is compared with the lock, so a tree installed
    by hand (``npm install``) is not reinstalled; optional packages of other platforms may be absent."""
    lock, installed = WEB / "package-lock.json", WEB / "node_modules" / ".package-lock.json"
    if not installed.exists():
        return True
    if NPM_STAMP.exists() and NPM_STAMP.stat().st_mtime >= lock.stat().st_mtime:
        return False
    wanted: dict[str, dict[str, object]] = json.loads(lock.read_text())["packages"]
    have: dict[str, dict[str, object]] = json.loads(installed.read_text())["packages"]
    return any(
        have.get(path, {}).get("version") != entry.get("version")
        for path, entry in wanted.items()
        if path and not (entry.get("optional") and path not in have)
    )


class ConsoleBuild:
    """``npm ci`` (if needed) and ``npm run build`` in a thread, output to ``log``; one build at a time
    on this checkout (a lock under ``var/``), so two launchers never write ``web/dist`` together."""

    def __init__(self, npm: str, log: Path) -> None:
        self.npm = npm
        self.log = log
        self.error = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.cancelled = False
        self.thread = threading.Thread(target=self._build, name="console-build", daemon=True)

    def _step(self, command: list[str], output: IO[str]) -> bool:
        if self.cancelled:
            return False
        env = {**os.environ, "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1"}
        self.process = subprocess.Popen(command, cwd=WEB, env=env, stdout=output, stderr=subprocess.STDOUT)
        code = self.process.wait()
        if code != 0 and not self.cancelled:
            self.error = f"{' '.join(command)} failed (exit {code})"
        return code == 0

    def _build(self) -> None:
        lock_path = REPO / "var" / "console-build.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "w") as lock, open(self.log, "w") as output:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another launcher's build finishes first
            if npm_install_needed():
                if not self._step([self.npm, "ci", "--no-audit", "--no-fund"], output):
                    return
                NPM_STAMP.touch()
            if console_is_stale():
                self._step([self.npm, "run", "build"], output)

    def start(self) -> None:
        self.thread.start()

    def cancel(self) -> None:
        self.cancelled = True
        if self.process and self.process.poll() is None:
            self.process.terminate()

    def wait(self) -> None:
        self.thread.join()
        if self.error:
            sys.stderr.write(self.log.read_text(errors="replace")[-4000:])
            raise SystemExit(
                f"控制台构建失败 (console build failed): {self.error}; log {self.log}. "
                "Run with --no-console-build to start the API without rebuilding it."
            )


def plan_console(args: argparse.Namespace, log_dir: Path) -> ConsoleBuild | None:
    """Start building the console when it is ours to build and stale; None when nothing is built."""
    ours = args.console_dir.resolve() == CONSOLE_DIST and (WEB / "package-lock.json").exists()
    npm = shutil.which("npm")
    if args.no_console_build or not ours or not npm or not shutil.which("node"):
        return None
    if not npm_install_needed() and not console_is_stale():
        return None
    build = ConsoleBuild(npm, log_dir / "console-build.log")
    print(f"正在构建控制台 (building the web console alongside the migrations; log {build.log})", flush=True)
    build.start()
    return build


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def parse_ports(text: str) -> dict[str, int]:
    """``gateway,registry,contracts,homecare[,indicators[,residents]]``: the four- and five-port forms of
    earlier scripts get a free port for each service they do not name."""
    ports = [int(p) for p in text.split(",")]
    if 4 <= len(ports) < len(SERVICES):
        ports.extend(_free_port() for _ in range(len(SERVICES) - len(ports)))
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
        "--ports",
        default="8000,8001,8002,8003,8004,8005",
        help="gateway,registry,contracts,homecare,indicators,residents",
    )
    parser.add_argument("--data-dir", type=Path, default=REPO / "var")
    parser.add_argument(
        "--database-url", default="", help="e.g. postgresql+asyncpg://postgres@127.0.0.1/yiyang"
    )
    parser.add_argument("--environment", default="development", choices=["development", "test"])
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument("--log-dir", type=Path, default=None, help="write each service's log to a file here")
    parser.add_argument(
        "--console-dir", type=Path, default=CONSOLE_DIST, help="the built web console the gateway serves at /"
    )
    parser.add_argument(
        "--no-console-build", action="store_true", help="serve --console-dir as it is; never run npm"
    )
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    ports = parse_ports(args.ports)
    env = service_env(args, ports)
    env["GATEWAY_CONSOLE_DIR"] = str(args.console_dir.resolve())
    python = sys.executable
    processes: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False
    console_build: ConsoleBuild | None = None

    def stop(*_: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        if console_build:
            console_build.cancel()
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
        console_build = plan_console(args, args.log_dir or args.data_dir)
        for name in SERVICES:
            _run([python, "-m", "alembic", "-n", name, "upgrade", "head"], env, f"{name} migrations")
        if not args.no_seed:
            for name in SEEDED:
                _run([python, "-m", f"demo.{name}"], env, f"{name} demo data")
        for name in (*SERVICES[1:], SERVICES[0]):  # the gateway last: it serves the console being built
            if name == "gateway" and console_build:
                console_build.wait()
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
        if not args.no_seed:
            _link_demo_persons(python, env)
        base = f"http://127.0.0.1:{ports['gateway']}"
        print("\n医养结合平台已启动 (platform is up)", flush=True)
        if (args.console_dir / "index.html").exists():
            print(
                f"  控制台 (web console): {base}/   用下列演示账号登录 (sign in with a demo account below)",
                flush=True,
            )
            if (args.console_dir / "nurse" / "index.html").exists():
                print(
                    f"  护士端 (nurses' mobile app, PWA): {base}/nurse/   "
                    "护士账号 xinkaiyuan_nurse、lianhua_nurse (nurse accounts)",
                    flush=True,
                )
        elif not shutil.which("npm"):
            print(
                "  控制台未构建：未找到 Node.js 20.19+ (npm)，仅提供 API。"
                "(the web console is not built: no Node.js 20.19+ with npm; serving the API alone)",
                flush=True,
            )
        else:
            print(
                f"  控制台未构建，仅提供 API (no web console in {args.console_dir}; serving the API alone)",
                flush=True,
            )
        print(f"  API 文档: {base}/docs   令牌: POST {base}/api/v1/auth/token", flush=True)
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
