"""Measure 2, the framework ceiling: the real institution list against a bare endpoint serving its bytes.

The bare endpoint is a FastAPI app run by the same interpreter and the same uvicorn (own process, one
worker, as the registry runs) that answers the very page the real endpoint returned — fetched once, held as
bytes — with no auth, no session, no query, no serialisation. The share of the bare throughput the real
endpoint keeps is the ratio the issue asks for (target ≥ 25%). The real endpoint is measured twice: as
a client asks it (the page from the response cache, libs/common/response_cache.py, while the data does
not change) and with ``Cache-Control: no-cache`` (the page made afresh, as after every write or for a query
not asked before) — both figures are reported, never the cached one alone.

Where the rest goes: the registry app is built in a process of its own with the stack's environment (same
database, same keys), its lifespan run, and the same page asked in-process (httpx's ASGI transport) one
request at a time under cProfile; each function's own time is put in one bucket by the package it belongs to
and the SQL statements are counted (an event on SQLAlchemy's Engine); the page made afresh and the cached
page are profiled in turn, with their Python call counts (which do not depend on the machine's load) and
process CPU per request. cProfile sees the event loop's thread
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
#: the request header that makes the real endpoint skip its response cache (the page made afresh)
UNCACHED = {"Cache-Control": "no-cache"}
MODES = {"afresh": UNCACHED, "cached": {}}

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
    """In this process: the registry app (the stack's environment), ``requests`` GETs under cProfile for
    each of :data:`MODES` (the page made afresh, then from the cache)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from services.registry.app import create_app

    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(Engine, "before_cursor_execute", count)
    app = create_app()
    results: dict[str, Any] = {}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registry") as client,
    ):
        for mode, extra in MODES.items():
            headers = {"Authorization": f"Bearer {token}", **extra}
            for _ in range(5):  # warm: JWKS fetched, pools filled, caches primed
                (await client.get(path, headers=headers)).raise_for_status()
            statements = 0
            profiler = cProfile.Profile()
            started, cpu = time.perf_counter(), time.process_time()
            profiler.enable()
            for _ in range(requests):
                response = await client.get(path, headers=headers)
            profiler.disable()
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            response.raise_for_status()
            stats = pstats.Stats(profiler)
            buckets: dict[str, float] = {}
            for (filename, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
                label = _bucket(filename, name)
                buckets[label] = buckets.get(label, 0.0) + row[2]  # own time
            ranked = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)  # type: ignore[attr-defined]
            top = [f"{_short(filename)}:{name}" for (filename, _line, name), _row in ranked[:TOP_FUNCTIONS]]
            results[mode] = {
                "top": top,
                "requests": requests,
                "seconds": elapsed,
                "cpu_seconds": cpu,
                "calls": stats.total_calls,  # type: ignore[attr-defined]
                "statements": statements,
                "buckets": buckets,
                "outcome": response.headers.get("x-response-cache", ""),
            }
    return results


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
                {"bare": bare + INSTITUTION_LIST, "cached": real, "afresh": real},
                headers=headers,
                duration=ctx.duration,
                connections=ctx.connections,
                wrk=ctx.wrk,
                rounds=ROUNDS if ctx.duration >= ROUNDS else 1,
                extra_headers={"afresh": UNCACHED},
            )
    ceiling = best["bare"]

    def share(label: str) -> float:
        rate = best[label].requests_per_second
        return rate / ceiling.requests_per_second if ceiling.requests_per_second else 0.0

    rows = [
        ["bare FastAPI endpoint, the same bytes", *load_cells(ceiling), "100%"],
        [
            "real endpoint, page from the response cache (auth, scope, feed head)",
            *load_cells(best["cached"]),
            percent(best["cached"].requests_per_second, ceiling.requests_per_second),
        ],
        [
            "real endpoint, page made afresh (no-cache: auth, scope, query, serialisation)",
            *load_cells(best["afresh"]),
            percent(best["afresh"].requests_per_second, ceiling.requests_per_second),
        ],
    ]

    def verdict(label: str) -> str:
        return "reached" if share(label) >= TARGET_SHARE else "not reached"

    sections = [
        Section(
            "2. The framework ceiling (institution list, 50 rows)",
            ["endpoint", *LOAD_COLUMNS, "of the ceiling"],
            rows,
            [
                f"The page: {len(page.content):,} bytes. From the response cache the real endpoint keeps "
                f"{share('cached'):.0%} of the ceiling, made afresh {share('afresh'):.0%} (target ≥ "
                f"{TARGET_SHARE:.0%}: {verdict('cached')} cached, {verdict('afresh')} afresh). The cached "
                "figure holds while the registry's data does not change (any write moves the change-feed "
                "head the cache is keyed by); the afresh figure is every page after a write and every query "
                "not asked before.",
                f"The three took turns, {ROUNDS} rounds of 1/{ROUNDS} of the duration each; each one's best "
                "round.",
            ],
        )
    ]
    profiled = await profile(ctx, env, await ctx.token("prov_admin"), PROFILED_REQUESTS)
    afresh, cached = profiled["afresh"], profiled["cached"]
    total_afresh = sum(afresh["buckets"].values()) or 1.0
    total_cached = sum(cached["buckets"].values()) or 1.0
    ranked = sorted(afresh["buckets"].items(), key=lambda item: item[1], reverse=True)
    ranked += [(label, 0.0) for label in cached["buckets"] if label not in afresh["buckets"]]

    def per_request(result: dict[str, Any], key: str) -> float:
        return float(result[key]) / int(result["requests"])

    sections.append(
        Section(
            "2b. Where the real endpoint's time goes (cProfile, in-process)",
            [
                "where",
                "made afresh: share",
                "made afresh: ms per request",
                "cached: share",
                "cached: ms per request",
            ],
            [
                [
                    label,
                    percent(seconds, total_afresh),
                    ms(seconds / afresh["requests"] * 1000),
                    percent(cached["buckets"].get(label, 0.0), total_cached),
                    ms(cached["buckets"].get(label, 0.0) / cached["requests"] * 1000),
                ]
                for label, seconds in ranked
            ],
            [
                f"{afresh['requests']} requests of each kind one at a time in-process (no HTTP server). "
                f"Made afresh: {ms(per_request(afresh, 'seconds') * 1000)} ms, "
                f"{ms(per_request(afresh, 'cpu_seconds') * 1000)} ms CPU, "
                f"{per_request(afresh, 'calls'):,.0f} Python calls and "
                f"{per_request(afresh, 'statements'):.1f} SQL statements per request. "
                f"Cached: {ms(per_request(cached, 'seconds') * 1000)} ms, "
                f"{ms(per_request(cached, 'cpu_seconds') * 1000)} ms CPU, "
                f"{per_request(cached, 'calls'):,.0f} Python calls and "
                f"{per_request(cached, 'statements'):.1f} SQL statements per request "
                "(times under the profiler; the call counts do not depend on the machine's load).",
                "Most own time made afresh: " + ", ".join(f"`{name}`" for name in afresh["top"]) + ".",
                "Most own time cached: " + ", ".join(f"`{name}`" for name in cached["top"]) + ".",
                "Own time of each function, bucketed by package; cProfile slows Python code more than "
                "C code, so read the shares as a ranking.",
            ],
        )
    )
    return sections


if __name__ == "__main__":
    result = asyncio.run(_profile(sys.argv[1], os.environ["BENCH_TOKEN"], int(sys.argv[2])))
    print(json.dumps(result))
