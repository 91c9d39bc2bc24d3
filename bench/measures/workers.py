"""Measure 6, workers: the institution list from a registry started with 1, 2 and 4 uvicorn workers.

Each registry is one more process beside the stack's (``uvicorn services.registry.app:app --workers N``
with the stack's environment: same database, same keys), started, loaded directly and stopped in turn.
The load driver runs on the same cores, so past the machine's core count more workers cannot help.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from bench.context import BenchContext, Section
from bench.load import load
from bench.measures import INSTITUTION_LIST, bearer
from bench.report import LOAD_COLUMNS, load_cells, ratio
from bench.stack import context_env, uvicorn_process

WORKERS = (1, 2, 4)


async def run(ctx: BenchContext) -> list[Section]:
    headers = await bearer(ctx)
    env = context_env(ctx)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each worker counts alone: no directory to share here
    rows: list[list[str]] = []
    first = 0.0
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp:
        for workers in WORKERS:
            async with uvicorn_process(
                "services.registry.app:app",
                env=env,
                log=Path(tmp) / f"registry-{workers}.log",
                workers=workers,
            ) as base:
                result = await load(
                    base + INSTITUTION_LIST,
                    headers=headers,
                    duration=ctx.duration,
                    connections=ctx.connections,
                    wrk=ctx.wrk,
                )
            first = first or result.requests_per_second
            rows.append([str(workers), *load_cells(result), ratio(result.requests_per_second, first)])
    return [
        Section(
            "6. Workers (registry, institution list, 50 rows)",
            ["uvicorn workers", *LOAD_COLUMNS, "× one worker"],
            rows,
            [f"{os.cpu_count()} cores shared by the workers, the rest of the stack and the load driver."],
        )
    ]
