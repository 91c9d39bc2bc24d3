"""Before/after of a list endpoint in one run (issue 16; measured, not asserted): the endpoint and its old
path mounted beside it on the same app take turns through ``httpx.ASGITransport``; per request, the
Python function calls (cProfile, the in-process client included) and the process CPU (best of the
rounds). The bench files that use it (``tests/*/bench_*.py``, run by naming them to pytest) print a table.
"""

from __future__ import annotations

import cProfile
import pstats
import time
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Figures:
    path: str
    bytes: int
    calls: float
    cpu_ms: float
    wall_ms: float


async def _run(client: httpx.AsyncClient, path: str, params: dict[str, Any], headers: dict[str, str]) -> int:
    response = await client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return len(response.content)


async def measure(
    client: httpx.AsyncClient,
    paths: list[str],
    params: dict[str, Any],
    headers: dict[str, str],
    *,
    profiled: int = 200,
    timed: int = 200,
    rounds: int = 3,
) -> list[Figures]:
    """Each path in turn: warm-up, ``profiled`` requests under cProfile, then ``rounds`` of ``timed``
    requests taking turns with the other paths (best round kept: the machine is shared)."""
    size: dict[str, int] = {}
    calls: dict[str, float] = {}
    for path in paths:
        for _ in range(20):
            size[path] = await _run(client, path, params, headers)
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(profiled):
            await _run(client, path, params, headers)
        profile.disable()
        calls[path] = pstats.Stats(profile).total_calls / profiled  # type: ignore[attr-defined]
    cpu: dict[str, float] = {path: float("inf") for path in paths}
    wall: dict[str, float] = {path: float("inf") for path in paths}
    for _ in range(rounds):
        for path in paths:
            started_cpu, started = time.process_time(), time.perf_counter()
            for _ in range(timed):
                await _run(client, path, params, headers)
            cpu[path] = min(cpu[path], (time.process_time() - started_cpu) * 1000 / timed)
            wall[path] = min(wall[path], (time.perf_counter() - started) * 1000 / timed)
    return [Figures(path, size[path], calls[path], cpu[path], wall[path]) for path in paths]


def report(title: str, figures: list[Figures]) -> str:
    lines = [
        f"\n{title}",
        "| path | bytes | calls/request | CPU ms/request | wall ms/request |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {f.path} | {f.bytes:,} | {f.calls:,.0f} | {f.cpu_ms:.2f} | {f.wall_ms:.2f} |" for f in figures
    ]
    return "\n".join(lines)
