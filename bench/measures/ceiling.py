"""Measure 2, the framework ceiling: the real institution list against a bare endpoint serving its bytes.

The bare endpoint is a FastAPI app run by the same interpreter and the same uvicorn (own process, one
worker, as the registry runs) that answers the very page the real endpoint returned — fetched once, held as
bytes — with no auth, no session, no query, no serialisation. The share of the bare throughput the real
endpoint keeps is the ratio the issue asks for (target ≥ 25%).

Where the rest goes: the registry app is built in a process of its own with the stack's environment (same
database, same keys), its lifespan run, and the same page asked in-process (httpx's ASGI transport) one
request at a time under cProfile; each function's own time is put in one bucket by the package it belongs to
and the SQL statements are counted (an event on SQLAlchemy's Engine). cProfile sees the event loop's thread
only: on SQLite the statements run in aiosqlite's thread, so their time shows as the loop waiting.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Response

from bench.context import BenchContext, Section
from bench.load import side_by_side
from bench.measures import INSTITUTION_LIST, bearer
from bench.report import LOAD_COLUMNS, load_cells, ms, percent
from bench.stack import REPO, context_env, uvicorn_process

BODY_FILE = "BENCH_BARE_BODY"
OTHER = "other (standard library: typing, logging, contextvars, …)"
TOP_FUNCTIONS = 8
PROFILED_REQUESTS = 200
ROUNDS = 2  # the two endpoints take turns; each one's best round
TARGET_SHARE = 0.25

# (bucket, substrings of a function's file or name), first match wins; the order matters.
BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    (
        "event loop waiting (database I/O; on SQLite its thread)",
        ("select.epoll", "selectors.py", "'poll'", "_thread.lock"),
    ),
    ("token verification (jose, cryptography)", ("/jose/", "/cryptography/", "libs/common/auth.py")),
    ("database driver (asyncpg, aiosqlite, sqlite3)", ("/asyncpg/", "/aiosqlite/", "sqlite3", "asyncpg.")),
    ("SQLAlchemy (statements, sessions, ORM loading)", ("/sqlalchemy/", "sqlalchemy.")),
    ("pydantic (validation, serialisation)", ("/pydantic/", "/pydantic_core/", "pydantic_core.")),
    ("JSON encoding", ("/json/", "orjson", "_json.")),
    ("FastAPI and Starlette (routing, dependencies, middleware)", ("/fastapi/", "/starlette/")),
    ("the platform's own code (libs, services)", ("/libs/", "/services/")),
    ("the profiling client (httpx, ASGI transport, anyio)", ("/httpx/", "/httpcore/", "/anyio/")),
    ("asyncio", ("/asyncio/", "_asyncio.")),
]


def bare_app() -> FastAPI:
    """The ceiling: the page's bytes from ``$BENCH_BARE_BODY`` at the real path (uvicorn --factory)."""
    body = Path(os.environ[BODY_FILE]).read_bytes()
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/api/v1/registry/institutions")
    async def institutions() -> Response:
        return Response(body, media_type="application/json")

    @app.get("/readyz")
    async def readyz() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return app


def _bucket(filename: str, name: str) -> str:
    where = f"{filename}:{name}"
    for label, needles in BUCKETS:
        if any(needle in where for needle in needles):
            return label
    return OTHER


def _short(filename: str) -> str:
    for marker in ("/site-packages/", f"{REPO}/", "/lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


async def _profile(path: str, token: str, requests: int) -> dict[str, Any]:
    """In this process: the registry app (the stack's environment), ``requests`` GETs under cProfile."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from services.registry.app import create_app

    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(Engine, "before_cursor_execute", count)
    app = create_app()
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry") as client,
    ):
        for _ in range(5):  # warm: JWKS fetched, pools filled, caches primed
            (await client.get(path, headers=headers)).raise_for_status()
        statements = 0
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(requests):
            response = await client.get(path, headers=headers)
        profiler.disable()
        elapsed = time.perf_counter() - started
        response.raise_for_status()
    stats = pstats.Stats(profiler)
    buckets: dict[str, float] = {}
    for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        buckets[_bucket(filename, name)] = buckets.get(_bucket(filename, name), 0.0) + row[2]  # own time
    ranked = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)  # type: ignore[attr-defined]
    top = [f"{_short(filename)}:{name}" for (filename, _line, name), _row in ranked[:TOP_FUNCTIONS]]
    return {
        "top": top,
        "requests": requests,
        "seconds": elapsed,
        "statements": statements,
        "buckets": buckets,
    }


async def profile(ctx: BenchContext, env: dict[str, str], token: str, requests: int) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.measures.ceiling",
        INSTITUTION_LIST,
        str(requests),
        env={**env, "BENCH_TOKEN": token},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    output, errors = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"profile failed: {errors.decode(errors='replace')[-2000:]}")
    result: dict[str, Any] = json.loads(output.decode().strip().splitlines()[-1])
    return result


async def run(ctx: BenchContext) -> list[Section]:
    headers = await bearer(ctx)
    real = ctx.services["registry"] + INSTITUTION_LIST
    async with httpx.AsyncClient(headers=headers, timeout=30) as client:
        page = await client.get(real)
        page.raise_for_status()
    env = context_env(ctx)
    with tempfile.TemporaryDirectory(prefix="bench-bare-") as tmp:
        body = Path(tmp) / "page.json"
        body.write_bytes(page.content)
        async with uvicorn_process(
            "bench.measures.ceiling:bare_app",
            env={**env, BODY_FILE: str(body)},
            log=Path(tmp) / "bare.log",
            factory=True,
        ) as bare:
            best = await side_by_side(
                {"bare": bare + INSTITUTION_LIST, "real": real},
                headers=headers,
                duration=ctx.duration,
                connections=ctx.connections,
                wrk=ctx.wrk,
                rounds=ROUNDS if ctx.duration >= ROUNDS else 1,
            )
    ceiling, measured = best["bare"], best["real"]
    share = measured.requests_per_second / ceiling.requests_per_second if ceiling.requests_per_second else 0.0
    rows = [
        ["bare FastAPI endpoint, the same bytes", *load_cells(ceiling), "100%"],
        [
            "real endpoint (auth, scope, query, serialisation)",
            *load_cells(measured),
            percent(measured.requests_per_second, ceiling.requests_per_second),
        ],
    ]
    sections = [
        Section(
            "2. The framework ceiling (institution list, 50 rows)",
            ["endpoint", *LOAD_COLUMNS, "of the ceiling"],
            rows,
            [
                f"The page: {len(page.content):,} bytes. The real endpoint keeps {share:.0%} of the ceiling "
                f"(target ≥ {TARGET_SHARE:.0%}: {'reached' if share >= TARGET_SHARE else 'not reached'}). "
                f"The two took turns, {ROUNDS} rounds of half the duration each; each one's best round.",
            ],
        )
    ]
    profiled = await profile(ctx, env, await ctx.token("prov_admin"), PROFILED_REQUESTS)
    per_request = profiled["seconds"] / profiled["requests"] * 1000
    total = sum(profiled["buckets"].values()) or 1.0
    ranked = sorted(profiled["buckets"].items(), key=lambda item: item[1], reverse=True)
    sections.append(
        Section(
            "2b. Where the real endpoint's time goes (cProfile, in-process)",
            ["where", "share of the profiled time", "ms per request"],
            [
                [label, percent(seconds, total), ms(seconds / profiled["requests"] * 1000)]
                for label, seconds in ranked
            ],
            [
                f"{profiled['requests']} requests one at a time in-process (no HTTP server): "
                f"{ms(per_request)} ms per request under the profiler; "
                f"{profiled['statements'] / profiled['requests']:.1f} SQL statements per request.",
                "Most own time: " + ", ".join(f"`{name}`" for name in profiled["top"]) + ".",
                "Own time of each function, bucketed by package; cProfile slows Python code more than "
                "C code, so read the shares as a ranking.",
            ],
        )
    )
    return sections


if __name__ == "__main__":
    result = asyncio.run(_profile(sys.argv[1], os.environ["BENCH_TOKEN"], int(sys.argv[2])))
    print(json.dumps(result))
