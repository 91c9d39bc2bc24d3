"""The bench smoke tests' stack: ONE platform per database run (CI budget), shared by every smoke test and
stopped when they are done.

``bench_stack`` is a :class:`~bench.context.BenchContext` at scale S over the platform ``python -m bench``
starts (deploy/local/run.py; on PostgreSQL a throwaway database on ``TEST_POSTGRES_URL``'s server), with
short loads: 1 s, 4 connections, wrk when unpacked under var/tools (``make wrk-tools``), else httpx.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench.__main__ import WRK
from bench.context import BenchContext
from bench.stack import DEFAULT_SERVER_URL, running_stack
from libs.common.testing import backend


# package scope: the stack (five services, their pools, leases and feed followers) stops once tests/bench is
# done — kept for the whole session it held ~30 PostgreSQL connections and a core's worth of polling
# while every other test ran
@pytest.fixture(scope="package")
async def bench_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BenchContext]:
    if backend() != "postgresql":
        # CI's 30 minutes: one smoke run of the harness per CI, on PostgreSQL (what M/L use); `make bench`
        # runs it on SQLite too
        pytest.skip("the bench smoke runs in the PostgreSQL run (TEST_DATABASE=postgresql)")
    server = os.environ.get("TEST_POSTGRES_URL", DEFAULT_SERVER_URL)
    data_dir: Path = tmp_path_factory.mktemp("bench") / "data"
    # a smoke run: 湖里's residents at 2 % (the demo seeds them in full: ~80 s more start-up)
    async with running_stack(backend(), data_dir, server_url=server, demo_residents_scale=0.02) as stack:
        yield BenchContext(
            scale="S",
            database=stack.database,
            database_url=stack.database_url,
            data_dir=stack.data_dir,
            gateway=stack.gateway,
            services=stack.services,
            duration=1.0,
            connections=4,
            token=stack.token,
            wrk=str(WRK) if WRK.exists() else None,
            machine=await stack.machine(),
        )
