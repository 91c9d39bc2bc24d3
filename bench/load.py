"""The load driver: one URL, a fixed number of connections, a bounded time.

``wrk`` when a binary is given (Debian's, unpacked under var/tools by ``make wrk-tools``; its Lua ``done``
hook prints the figures as JSON), else an asyncio client (httpx) — slower on the client side, so the
report names the driver used. Every response that is not 2xx counts as an error; nothing retries.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    bytes: int
    requests: int = 0
    driver: str = "httpx"


# wrk's summary hook: latency percentiles are in microseconds; non-2xx/3xx responses and socket errors count.
_WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write("BENCH-JSON " .. string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p99_us": %d, "errors": %d}',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout + e.status) .. "\\n")
end
"""


def wrk_env(wrk: str) -> dict[str, str]:
    """The environment wrk runs in: its LuaJIT unpacked beside it (``make wrk-tools``) on the library path."""
    env = dict(os.environ)
    root = Path(wrk).resolve().parents[2]  # …/wrk/usr/bin/wrk -> …/wrk
    libs = [str(p) for p in (root / "usr" / "lib").glob("*-linux-gnu") if p.is_dir()]
    if libs:
        env["LD_LIBRARY_PATH"] = ":".join([*libs, env.get("LD_LIBRARY_PATH", "")]).rstrip(":")
    return env


async def _wrk(url: str, headers: dict[str, str], duration: float, connections: int, wrk: str) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script = Path(tmp) / "summary.lua"
        script.write_text(_WRK_SCRIPT)
        command = [
            wrk,
            "-t",
            str(max(1, min(2, connections))),
            "-c",
            str(connections),
            "-d",
            f"{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
        ]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        process = await asyncio.create_subprocess_exec(
            *command,
            url,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=wrk_env(wrk),
        )
        output, _ = await process.communicate()
    text = output.decode(errors="replace")
    line = next((line for line in text.splitlines() if line.startswith("BENCH-JSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed (exit {process.returncode}): {text[-2000:]}")
    figures = json.loads(line.removeprefix("BENCH-JSON "))
    seconds = figures["duration_us"] / 1e6
    return LoadResult(
        requests_per_second=figures["requests"] / seconds if seconds else 0.0,
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        errors=figures["errors"],
        bytes=figures["bytes"],
        requests=figures["requests"],
        driver="wrk",
    )


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


async def _httpx(url: str, headers: dict[str, str], duration: float, connections: int) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    received = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=10) as client:
        started = time.perf_counter()
        deadline = started + duration

        async def worker() -> None:
            nonlocal errors, received
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                try:
                    response = await client.get(url)
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append((time.perf_counter() - sent) * 1000)
                received += len(response.content)
                if not response.is_success:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return LoadResult(
        requests_per_second=len(latencies) / elapsed if elapsed else 0.0,
        p50_ms=_percentile(latencies, 0.50),
        p99_ms=_percentile(latencies, 0.99),
        errors=errors,
        bytes=received,
        requests=len(latencies),
        driver="httpx",
    )


async def load(
    url: str, *, headers: dict[str, str], duration: float, connections: int, wrk: str | None
) -> LoadResult:
    """GET ``url`` with ``connections`` concurrent keep-alive connections for ``duration`` seconds."""
    if wrk:
        return await _wrk(url, headers, duration, connections, wrk)
    return await _httpx(url, headers, duration, connections)


async def side_by_side(
    urls: dict[str, str],
    *,
    headers: dict[str, str],
    duration: float,
    connections: int,
    wrk: str | None,
    rounds: int = 2,
    extra_headers: dict[str, dict[str, str]] | None = None,
) -> dict[str, LoadResult]:
    """Each URL loaded ``rounds`` times for ``duration / rounds``, the URLs taking turns; each one's best
    round (most requests/s). On a machine shared with other work a burst of someone else's load then hurts
    one round of one side, not the comparison. ``extra_headers`` adds headers to some labels' requests."""
    best: dict[str, LoadResult] = {}
    for _ in range(rounds):
        for label, url in urls.items():
            result = await load(
                url,
                headers={**headers, **(extra_headers or {}).get(label, {})},
                duration=max(1.0, duration / rounds),
                connections=connections,
                wrk=wrk,
            )
            if label not in best or result.requests_per_second > best[label].requests_per_second:
                best[label] = result
    return best
