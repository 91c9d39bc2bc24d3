"""The Dockerfile, checked in Python — the documented substitute for hadolint, which neither Debian
bookworm nor PyPI ships as a binary — and the console's nginx configuration held to the gateway's rules.

Rules: pinned base images (a version, never ``latest``; Python on a slim base); every final target runs as
a non-root USER, has a HEALTHCHECK on /healthz and no build tools in its lineage; ``apt-get install`` only
with ``--no-install-recommends``, after ``apt-get update`` and followed by removing the lists, in one RUN;
no ADD of a URL; every COPY says ``--chown``; every COPY source exists and is not excluded by
.dockerignore; a target per service of deploy/local/run.py and one for the console. Each rule is shown to
catch a bad Dockerfile.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import pwd
import re
import socket
import tomllib
from pathlib import Path

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from services.gateway.console.serving import SECURITY_HEADERS
from tests.deploy.container_files import (
    DOCKERIGNORE,
    ENTRYPOINT,
    REPO,
    Dockerfile,
    dockerfile,
    local_services,
    parse_dockerfile,
)
from tests.faults.live_server import serving

CONSOLE_TARGET = "console"
NGINX = REPO / "deploy" / "docker" / "nginx"
BUILD_TOOLS = {"build-essential", "gcc", "g++", "make", "clang", "cmake", "libc6-dev", "cargo", "rustc"}
PINNED_TAG = re.compile(r"\d+\.\d+")  # 3.11.11-slim-bookworm, RELEASE.2025-04-22T22-12-26Z, 1.27.4-alpine


def targets() -> list[str]:
    return [*local_services(), CONSOLE_TARGET]


# ---- the rules ----


def unpinned_bases(image: Dockerfile) -> list[str]:
    problems = []
    for stage in image.external_bases():
        base = stage.base
        if "@sha256:" in base:
            continue
        _, _, tag = base.rpartition(":") if ":" in base.split("/")[-1] else ("", "", "")
        if not tag or tag == "latest" or not PINNED_TAG.search(tag):
            problems.append(f"line {stage.line}: base image {base} is not pinned to a version")
        elif base.split("/")[-1].startswith("python:") and "slim" not in tag:
            problems.append(f"line {stage.line}: {base} is not a slim image")
    return problems


def root_targets(image: Dockerfile, names: list[str]) -> list[str]:
    problems = []
    for name in names:
        user = image.last(name, "USER")
        who = user.arguments.split(":")[0] if user else ""
        if who in ("", "root", "0"):
            problems.append(f"target {name} runs as root (no USER, or USER root)")
    return problems


def targets_without_healthcheck(image: Dockerfile, names: list[str]) -> list[str]:
    """A HEALTHCHECK on /healthz: named in the command, or deploy/docker/healthcheck.py (which asks it)."""
    problems = []
    for name in names:
        check = image.last(name, "HEALTHCHECK")
        probes = check is not None and ("/healthz" in check.arguments or "healthcheck.py" in check.arguments)
        if check is None or check.arguments.strip().upper() == "NONE" or not probes:
            problems.append(f"target {name} has no HEALTHCHECK on /healthz")
    return problems


def missing_targets(image: Dockerfile, names: list[str]) -> list[str]:
    return [f"no target {name}" for name in names if name not in image.names()]


def apt_problems(image: Dockerfile) -> list[str]:
    problems = []
    for stage in image.stages:
        for run in (i for i in stage.instructions if i.keyword == "RUN"):
            if "apt-get install" not in run.arguments and "apt install" not in run.arguments:
                continue
            if "apt install" in run.arguments:
                problems.append(f"line {run.line}: apt (not apt-get) in a Dockerfile")
            if "--no-install-recommends" not in run.arguments:
                problems.append(f"line {run.line}: apt-get install without --no-install-recommends")
            if "apt-get update" not in run.arguments:
                problems.append(f"line {run.line}: apt-get install without apt-get update in the same RUN")
            if "rm -rf /var/lib/apt/lists/*" not in run.arguments:
                problems.append(f"line {run.line}: apt-get install leaves /var/lib/apt/lists behind")
    return problems


def add_problems(image: Dockerfile) -> list[str]:
    return [
        f"line {i.line}: ADD of a URL (download in a RUN with a checksum instead)"
        for stage in image.stages
        for i in stage.instructions
        if i.keyword == "ADD" and re.search(r"(https?|ftp)://|git@", i.arguments)
    ]


def copy_without_chown(image: Dockerfile) -> list[str]:
    return [
        f"line {i.line}: COPY without --chown"
        for stage in image.stages
        for i in stage.instructions
        if i.keyword in ("COPY", "ADD") and "chown" not in i.flags()
    ]


def build_tools_in_targets(image: Dockerfile, names: list[str]) -> list[str]:
    problems = []
    for name in names:
        for stage in image.lineage(name):
            for run in (i for i in stage.instructions if i.keyword == "RUN"):
                if "install" not in run.arguments:
                    continue
                found = BUILD_TOOLS & set(run.arguments.replace("\\", " ").split())
                if found:
                    problems.append(f"target {name}: line {run.line} installs {sorted(found)}")
    return problems


def _matches(path: str, pattern: str) -> bool:
    if pattern.startswith("**/"):
        parts = path.split("/")
        return any(fnmatch.fnmatchcase("/".join(parts[i:]), pattern[3:]) for i in range(len(parts)))
    return fnmatch.fnmatchcase(path, pattern)


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether the build context leaves ``path`` out: it or a parent directory matches a .dockerignore
    pattern, and no later ``!pattern`` takes it back. (fnmatch's ``*`` also crosses ``/``, Docker's does
    not: the project's patterns do not depend on the difference.)"""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        body = (pattern[1:] if negate else pattern).strip("/")
        if any(_matches(candidate, body) for candidate in candidates):
            excluded = not negate
    return excluded


def dockerignore_patterns(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def copy_source_problems(image: Dockerfile, patterns: list[str], root: Path) -> list[str]:
    problems = []
    for stage in image.stages:
        for copy in (i for i in stage.instructions if i.keyword == "COPY" and "from" not in i.flags()):
            for source in copy.operands()[:-1]:
                if not (root / source).exists():
                    problems.append(f"line {copy.line}: COPY source {source} does not exist")
                elif ignored(source, patterns):
                    problems.append(f"line {copy.line}: COPY source {source} is excluded by .dockerignore")
    return problems


def lint(text: str, names: list[str], ignore_text: str = "", root: Path = REPO) -> list[str]:
    image = parse_dockerfile(text)
    problems = missing_targets(image, names)
    present = [name for name in names if name in image.names()]
    problems += unpinned_bases(image)
    problems += root_targets(image, present)
    problems += targets_without_healthcheck(image, present)
    problems += apt_problems(image)
    problems += add_problems(image)
    problems += copy_without_chown(image)
    problems += build_tools_in_targets(image, present)
    problems += copy_source_problems(image, dockerignore_patterns(ignore_text), root)
    return problems


# ---- the project's Dockerfile ----


def test_the_dockerfile_passes_every_rule() -> None:
    text = (REPO / "Dockerfile").read_text("utf-8")
    assert lint(text, targets(), DOCKERIGNORE.read_text("utf-8")) == []


def test_each_service_target_names_its_service_and_a_port_of_its_own() -> None:
    image = dockerfile()
    ports = {}
    for name in local_services():
        env = image.env(name)
        assert env["SERVICE"] == name
        expose = image.last(name, "EXPOSE")
        assert expose is not None
        assert expose.arguments == env["PORT"]
        ports[name] = env["PORT"]
    assert len(set(ports.values())) == len(ports), ports


def test_service_images_start_uvicorn_with_a_configurable_worker_count() -> None:
    image = dockerfile()
    script = ENTRYPOINT.read_text("utf-8")
    assert '--workers "${WEB_CONCURRENCY' in script
    assert 'python -m uvicorn "services.${SERVICE}.app:app"' in script
    assert 'alembic -n "$SERVICE" upgrade head' in script  # the migrate command
    for name in local_services():
        assert image.env(name)["WEB_CONCURRENCY"].isdigit()
        entrypoint = image.last(name, "ENTRYPOINT")
        assert entrypoint is not None
        assert entrypoint.operands() == ["sh", "/app/deploy/docker/entrypoint.sh"]


def test_final_service_images_install_only_prebuilt_wheels_offline() -> None:
    """The runtime stage installs the builder's wheels with --no-index (nothing compiled, nothing
    downloaded there), and the wheels come from pyproject.toml's pins — every one an exact ``==``."""
    image = dockerfile()
    runtime_runs = [
        i.arguments for stage in image.lineage("registry") for i in stage.instructions if i.keyword == "RUN"
    ]
    installs = [run for run in runtime_runs if "pip install" in run]
    assert installs, "the runtime installs no wheels"
    assert all("--no-index" in run and "from=python-build" in run for run in installs)
    build = image.stage("python-build")
    assert any("pip wheel" in i.arguments and "pyproject.toml" in i.arguments for i in build.instructions)
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    assert dependencies
    assert all("==" in dependency for dependency in dependencies), dependencies


def test_the_build_context_leaves_out_local_data_and_secrets() -> None:
    patterns = dockerignore_patterns(DOCKERIGNORE.read_text("utf-8"))
    for path in (
        ".git",
        ".venv",
        "var/gateway.db",
        "deploy/compose/secrets/postgres_password",
        "web/node_modules/vue",
        "web/dist/index.html",
        "services/registry/__pycache__",
    ):
        assert ignored(path, patterns), path
    for path in ("libs/common/settings.py", "migrations/registry/env.py", "web/src/main.ts", "alembic.ini"):
        assert not ignored(path, patterns), path


# ---- each rule catches a bad Dockerfile ----

GOOD_STAGE = """
FROM python:3.11.11-slim-bookworm AS registry
USER 10001
HEALTHCHECK CMD ["python", "/app/deploy/docker/healthcheck.py"]
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FROM python:3.11-slim AS registry\nUSER 1\nHEALTHCHECK CMD x /healthz\n", []),
        ("FROM python AS registry\nUSER 1\nHEALTHCHECK CMD x /healthz\n", ["is not pinned"]),
        ("FROM python:latest AS registry\nUSER 1\nHEALTHCHECK CMD x /healthz\n", ["is not pinned"]),
        ("FROM python:3.11.11-bookworm AS registry\nUSER 1\nHEALTHCHECK CMD x /healthz\n", ["not a slim"]),
        ("FROM python:3.11-slim AS registry\nHEALTHCHECK CMD x /healthz\n", ["runs as root"]),
        ("FROM python:3.11-slim AS registry\nUSER root\nHEALTHCHECK CMD x /healthz\n", ["runs as root"]),
        ("FROM python:3.11-slim AS registry\nUSER 0:0\nHEALTHCHECK CMD x /healthz\n", ["runs as root"]),
        ("FROM python:3.11-slim AS registry\nUSER 1\n", ["no HEALTHCHECK"]),
        ("FROM python:3.11-slim AS registry\nUSER 1\nHEALTHCHECK NONE\n", ["no HEALTHCHECK"]),
        ("FROM python:3.11-slim AS other\nUSER 1\nHEALTHCHECK CMD x /healthz\n", ["no target registry"]),
        (
            GOOD_STAGE + "RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n",
            ["without --no-install-recommends"],
        ),
        (
            GOOD_STAGE + "RUN apt-get update && apt-get install -y --no-install-recommends curl\n",
            ["leaves /var/lib/apt/lists"],
        ),
        (
            GOOD_STAGE
            + "RUN apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
            ["without apt-get update"],
        ),
        (GOOD_STAGE + "ADD --chown=1:1 https://example.org/x.tgz /x\n", ["ADD of a URL"]),
        (GOOD_STAGE + "COPY libs /app/libs\n", ["COPY without --chown"]),
        (GOOD_STAGE + "COPY --chown=1:1 no/such/dir /app/x\n", ["does not exist"]),
        (GOOD_STAGE + "COPY --chown=1:1 var /app/var\n", ["excluded by .dockerignore"]),
        (
            GOOD_STAGE
            + "RUN apt-get update && apt-get install -y --no-install-recommends build-essential \\\n"
            + "    && rm -rf /var/lib/apt/lists/*\n",
            ["installs ['build-essential']"],
        ),
        (
            "FROM python:3.11-slim AS base\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends gcc \\\n"
            "    && rm -rf /var/lib/apt/lists/*\n"
            "FROM base AS registry\nUSER 1\nHEALTHCHECK CMD x /healthz\n",
            ["installs ['gcc']"],
        ),
    ],
)
def test_a_rule_catches_a_bad_dockerfile(text: str, expected: list[str], tmp_path: Path) -> None:
    (tmp_path / "var").mkdir()
    (tmp_path / "libs").mkdir()
    problems = lint(text, ["registry"], "var\n", root=tmp_path)
    assert len(problems) == len(expected), problems
    for problem, fragment in zip(problems, expected, strict=True):
        assert fragment in problem


def test_a_user_and_healthcheck_are_inherited_from_the_stage_built_from() -> None:
    text = (
        "FROM python:3.11-slim AS runtime\nUSER 10001\nHEALTHCHECK CMD x /healthz\n"
        "FROM runtime AS registry\nENV SERVICE=registry\n"
    )
    assert lint(text, ["registry"]) == []
    assert root_targets(parse_dockerfile(text + "USER root\n"), ["registry"]) != []


# ---- the console's nginx: the gateway's headers and history fallback, /api to the gateway ----


def _nginx_config() -> str:
    return (NGINX / "default.conf.template").read_text("utf-8")


def _locations(config: str) -> dict[str, str]:
    """Each ``location`` block's body by its match (comments dropped)."""
    text = "\n".join(line.split("#", 1)[0] for line in config.splitlines())
    return {
        where.strip(): body
        for where, body in re.findall(r"location ([^{]+)\{((?:\$\{[^}]*\}|[^}])*)\}", text)
    }


def test_the_console_sends_the_gateways_security_headers_on_every_file_it_serves() -> None:
    snippet = (NGINX / "console-security-headers.conf").read_text("utf-8")
    headers = dict(re.findall(r'add_header ([A-Za-z-]+) "([^"]*)" always;', snippet))
    assert headers == SECURITY_HEADERS
    config = _nginx_config()
    include = "include /etc/nginx/snippets/console-security-headers.conf;"
    # every location that serves files includes them (add_header in a location drops the server's)
    for where, body in _locations(config).items():
        if "try_files" in body:
            assert include in body, where
    image = dockerfile()
    copies = [i.operands() for i in image.stage(CONSOLE_TARGET).instructions if i.keyword == "COPY"]
    assert [
        "deploy/docker/nginx/console-security-headers.conf",
        "/etc/nginx/snippets/console-security-headers.conf",
    ] in copies


def test_the_console_falls_back_to_index_html_for_pages_but_not_for_missing_files() -> None:
    config = _nginx_config()
    blocks = _locations(config)
    assert "try_files $uri /index.html;" in blocks["/"]
    assert "try_files $uri =404;" in blocks["^~ /assets/"]
    assert "immutable" in blocks["^~ /assets/"]
    assert "try_files $uri =404;" in blocks[r"~ \.[A-Za-z0-9]+$"]  # a path with an extension
    assert 'Cache-Control "no-cache"' in blocks["/"]


def test_the_console_proxies_the_api_to_the_configured_gateway() -> None:
    config = _nginx_config()
    blocks = _locations(config)
    api = blocks["^~ /api/"]  # ^~: an API path with a file extension is not taken for a console file
    assert "proxy_pass ${GATEWAY_UPSTREAM};" in api
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in api
    assert "proxy_set_header Host $http_host;" in api  # the gateway's same-origin check compares it
    # nginx's image substitutes only variables its environment has: each one the template uses is set
    env = dockerfile().env(CONSOLE_TARGET)
    used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", config))
    assert used == {"GATEWAY_UPSTREAM"}
    assert used <= set(env)
    # the console image serves what the node stage built
    copies = [i for i in dockerfile().stage(CONSOLE_TARGET).instructions if i.keyword == "COPY"]
    assert any(c.flags().get("from") == "console-build" and c.operands()[0] == "/web/dist" for c in copies)


# ---- the console's nginx config, run by nginx (Debian's, `make nginx-tools`) ----

NGINX_BINARY = REPO / "var" / "tools" / "nginx" / "usr" / "sbin" / "nginx"
MIME_TYPES = REPO / "var" / "tools" / "nginx" / "etc" / "nginx" / "mime.types"


async def _echo(scope: Scope, receive: Receive, send: Send) -> None:
    """The gateway's stand-in: answers with what reached it (path, Host, X-Forwarded-For)."""
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    headers = {k.decode(): v.decode() for k, v in scope["headers"]}
    body = json.dumps(
        {"path": scope["path"], "host": headers.get("host"), "xff": headers.get("x-forwarded-for")}
    )
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body.encode()})


def _nginx_files(tmp_path: Path, port: int, upstream: str) -> Path:
    """The image's config as nginx's image makes it at start (the template with GATEWAY_UPSTREAM
    substituted), its paths moved under ``tmp_path``; the main config as nginx-unprivileged's, trimmed."""
    html = tmp_path / "html"
    (html / "assets").mkdir(parents=True)
    (html / "index.html").write_text("<!doctype html><title>控制台</title>")
    (html / "assets" / "app-1a2b3c.js").write_text("console.log(1)")
    (html / "favicon.ico").write_bytes(b"\0")
    snippet = tmp_path / "console-security-headers.conf"
    snippet.write_text((NGINX / "console-security-headers.conf").read_text("utf-8"))
    server = (
        _nginx_config()
        .replace("${GATEWAY_UPSTREAM}", upstream)
        .replace("listen 8080;", f"listen 127.0.0.1:{port};")
        .replace("/etc/nginx/snippets/console-security-headers.conf", str(snippet))
        .replace("root /usr/share/nginx/html;", f"root {html};")
    )
    (tmp_path / "default.conf").write_text(server)
    temp = "".join(
        f"{kind}_temp_path {tmp_path / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"{user}worker_processes 1;\ndaemon off;\npid {tmp_path / 'nginx.pid'};\n"
        f"error_log {tmp_path / 'error.log'} warn;\nevents {{ worker_connections 64; }}\n"
        f"http {{\ninclude {MIME_TYPES};\ndefault_type application/octet-stream;\naccess_log off;\n"
        f"{temp}include {tmp_path / 'default.conf'};\n}}\n"
    )
    return main


@pytest.fixture
def nginx() -> Path:
    if NGINX_BINARY.exists():
        return NGINX_BINARY
    if os.environ.get("CI") == "true":
        pytest.fail("CI needs nginx for the console's config: make nginx-tools")
    pytest.skip("no nginx under var/tools (make nginx-tools): the console's config is not run")


async def test_nginx_serves_the_console_and_proxies_the_api_as_the_gateway_would(
    nginx: Path, tmp_path: Path
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    async with serving(_echo) as upstream:
        config = _nginx_files(tmp_path, port, upstream)
        checked = await asyncio.create_subprocess_exec(
            str(nginx),
            "-t",
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "error.log"),
            "-c",
            str(config),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await checked.communicate()
        assert checked.returncode == 0, output.decode()
        process = await asyncio.create_subprocess_exec(
            str(nginx),
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "error.log"),
            "-c",
            str(config),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5.0) as client:
                for _ in range(100):
                    try:
                        health = await client.get("/healthz")
                        break
                    except httpx.TransportError:
                        await asyncio.sleep(0.05)
                else:
                    pytest.fail("nginx did not answer")
                assert health.status_code == 200
                page = await client.get("/referrals/inbox")  # a history-mode route
                asset = await client.get("/assets/app-1a2b3c.js")
                missing_asset = await client.get("/assets/app-gone.js")
                missing_file = await client.get("/logo.png")
                api = await client.get(
                    "/api/v1/registry/institutions/export.xlsx", headers={"Host": "yiyang.example:8443"}
                )
        finally:
            process.terminate()
            await process.wait()
    assert page.status_code == 200
    assert "控制台" in page.text
    assert page.headers["cache-control"] == "no-cache"
    for name, value in SECURITY_HEADERS.items():
        assert page.headers[name] == value
        assert asset.headers[name] == value
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in asset.headers["content-type"]
    assert missing_asset.status_code == 404
    assert missing_file.status_code == 404
    assert "控制台" not in missing_asset.text + missing_file.text  # a missing file is never the page
    assert api.status_code == 200
    assert api.json() == {
        "path": "/api/v1/registry/institutions/export.xlsx",  # an API path with an extension is proxied
        "host": "yiyang.example:8443",  # the gateway's same-origin check compares Origin with it
        "xff": "127.0.0.1",
    }
    assert "Content-Security-Policy" not in api.headers  # the API's own headers, not the console's
