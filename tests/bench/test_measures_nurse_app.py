"""Smoke run of the nurse-app measure against the bench stack at scale S (issue 18): the bundle of a
nurse with 12 assignments (size, p50/p99, and the 304 path) and the order-event stream's delivery delay
through the gateway. Benchmarks are not timed tests: nothing here asserts a time."""

from __future__ import annotations

import dataclasses

from bench.context import BenchContext
from bench.measures import nurse_app


async def test_the_bundle_and_the_event_delay_are_measured(bench_stack: BenchContext) -> None:
    bundle, delay = await nurse_app.run(dataclasses.replace(bench_stack, duration=0.3), events=10)
    for section in (bundle, delay):
        assert section.rows
        assert all(len(row) == len(section.columns) for row in section.rows), section
    full, unchanged = (dict(zip(bundle.columns, row, strict=True)) for row in bundle.rows)
    assert full["assignments"] == str(nurse_app.ASSIGNMENTS)
    assert int(full["bytes"]) > 1000
    assert unchanged["bytes"] == "0"
    row = dict(zip(delay.columns, delay.rows[0], strict=True))
    assert row["events"] == "10"
    assert row["not received in 5 s"] == "0"
    print(bundle, delay, sep="\n")  # the figures, for the report (pytest -s)
