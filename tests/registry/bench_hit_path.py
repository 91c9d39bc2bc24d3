"""The fixed cost of a cached answer (issue 16, task B): the cached institution list through the whole
middleware stack, called as a raw ASGI app (no HTTP client in the profile), measured not asserted.

Run: ``.venv/bin/python -m tests.registry.bench_hit_path [--postgres] [--requests N] [--top N]
2>/dev/null`` (the access log goes to stderr as in production: ``log_json`` on).

A fresh database with the demo seed, the registry app's lifespan run, a province admin asking
``GET /api/v1/registry/institutions?limit=50`` until it is an early cache hit; then ``--requests`` hits
under cProfile (Python calls per request, the top functions by own time and by calls) and, without the
profiler, process CPU per request (best of five rounds) for the cached list and ``/healthz``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import time
from datetime import timedelta
from typing import Any

from demo.registry import seed_session
from libs.common.auth import (
    Principal,
    Role,
    TokenIssuer,
    TokenVerifier,
    generate_private_key_pem,
    principal_claims,
)
from libs.common.changes import write_pending_changes
from libs.common.database import session_scope
from services.registry.app import create_app
from services.registry.settings import RegistrySettings
from tests.bench_database import AUDIENCE, ISSUER, bench_database

LIST = "/api/v1/registry/institutions"


async def call(
    app: Any, path: str, query: bytes, headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[bytes, bytes], bytes]:
    """One GET through the ASGI app: status, response headers, body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("registry", 80),
    }
    status = 0
    out_headers: dict[bytes, bytes] = {}
    body = bytearray()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            out_headers.update(message.get("headers", []))
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    await app(scope, receive, send)
    return status, out_headers, bytes(body)


async def bench(settings: RegistrySettings, requests: int, top: int, dump: str | None) -> None:
    issuer = TokenIssuer(generate_private_key_pem(), issuer=ISSUER, audience=AUDIENCE)
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, static_jwks=issuer.jwks())
    app = create_app(settings, verifier=verifier)
    async with app.router.lifespan_context(app):
        async with session_scope(app.state.database) as session:
            await seed_session(session, app.state.cipher)
            await session.flush()
            await write_pending_changes(session)
        principal = Principal(sub="bench:province", role=Role.province_admin, region_code="350000")
        token, _ = issuer.issue(principal_claims(principal), timedelta(hours=1))
        headers = [
            (b"host", b"registry"),
            (b"user-agent", b"wrk"),
            (b"accept", b"*/*"),
            (b"authorization", f"Bearer {token}".encode()),
        ]
        ways = {"cached": (LIST, b"limit=50", headers), "healthz": ("/healthz", b"", headers[:3])}
        for name, (path, query, hdrs) in ways.items():
            for _ in range(5):
                status, out, body = await call(app, path, query, hdrs)
            assert status == 200, (status, body[:300])
            print(f"  {name}: {len(body):,} bytes, cache {out.get(b'x-response-cache', b'-').decode()}")
        for name, (path, query, hdrs) in ways.items():
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(requests):
                await call(app, path, query, hdrs)
            profiler.disable()
            if dump:
                profiler.dump_stats(os.path.join(dump, f"{name}.prof"))
            stats = pstats.Stats(profiler)
            print(f"\n== {name}: {stats.total_calls / requests:,.0f} calls/request")  # type: ignore[attr-defined]
            rows = stats.stats.items()  # type: ignore[attr-defined]
            by_own = sorted(rows, key=lambda item: item[1][2], reverse=True)[:top]
            for (filename, line, fn), (_cc, nc, tt, _ct, _callers) in by_own:
                where = filename.split("site-packages/")[-1].split("hit-path-cost/")[-1]
                print(f"  {tt / requests * 1e6:7.1f} us {nc / requests:6.1f}x  {where}:{line}:{fn}")
        cpu_ms: dict[str, float] = {}
        for _ in range(5):
            for name, (path, query, hdrs) in ways.items():
                cpu = time.process_time()
                for _ in range(requests):
                    await call(app, path, query, hdrs)
                cpu_ms[name] = min(cpu_ms.get(name, 1e9), (time.process_time() - cpu) / requests * 1000)
        print()
        for name, value in cpu_ms.items():
            print(f"  {name:<8} CPU {value:.3f} ms/request")
        print(f"  load average: {os.getloadavg()}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--dump", help="a directory to write each way's profile to (<way>.prof)")
    args = parser.parse_args()
    async with bench_database("registry", postgres=args.postgres) as database:
        settings = RegistrySettings(**{**database, "log_json": True})
        await bench(settings, args.requests, args.top, args.dump)


if __name__ == "__main__":
    asyncio.run(main())
