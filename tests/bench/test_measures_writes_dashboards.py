"""Smoke run of the writes and dashboards measures against the bench stack at scale S (issue 16).

Benchmarks are not timed tests: nothing here asserts a time or a ratio. The measures must run against a
real stack, give their sections the report's shape, and the visit records must be held exactly once per
Idempotency-Key although part of them was sent twice.
"""

from __future__ import annotations

import dataclasses

from bench.context import BenchContext, Section
from bench.measures import dashboards, writes

#: the measures' own loads, shorter than the stack's 1 s: the bench smoke tests share a 90 s budget
SHORT = 0.3


def _well_formed(section: Section) -> None:
    assert section.title
    assert section.rows
    assert all(len(row) == len(section.columns) for row in section.rows), section
    assert all(isinstance(cell, str) for row in section.rows for cell in row)


async def test_visit_records_are_held_once_per_key_and_bulk_sync_is_compared_with_a_raw_upsert(
    bench_stack: BenchContext,
) -> None:
    visits, bulk = await writes.run(dataclasses.replace(bench_stack, duration=SHORT), phones=6, orders=8)
    for section in (visits, bulk):
        _well_formed(section)
    row = dict(zip(visits.columns, visits.rows[0], strict=True))
    assert row["phones"] == "6"
    assert row["errors"] == "0", visits.notes
    assert int(row["created"]) >= 1
    # every key the server answered is stored exactly once, retries included
    assert row["records stored per key"] == "exactly one", visits.notes
    api, raw = bulk.rows
    assert api[0].startswith("POST /api/v1/registry/institutions/bulk")
    assert int(api[2]) == writes.BATCH * int(api[1])  # every record of every batch created, none rejected
    assert raw[2] == api[2]  # the raw upsert wrote the very same rows


async def test_each_dashboard_is_measured_against_its_plain_sql(bench_stack: BenchContext) -> None:
    (section,) = await dashboards.run(dataclasses.replace(bench_stack, duration=SHORT))
    _well_formed(section)
    names = [row[0] for row in section.rows]
    assert len(names) == len(dashboards.dashboards(dashboards._today()))
    for row in section.rows:
        cells = dict(zip(section.columns, row, strict=True))
        assert cells["errors"] == "0", section.notes
        assert int(cells["requests"]) >= 1
        assert cells["ratio"].endswith("×")
        assert cells["fresh ratio"].endswith("×")
    cache = {row[0]: dict(zip(section.columns, row, strict=True))["cache"] for row in section.rows}
    # the cached endpoints answer the repeated page from the cache; the fresh series bypasses it
    assert cache["homecare orders report (by status)"] == "hit", cache
    assert cache["homecare satisfaction (by county)"] == "hit", cache
    assert cache["contracts coverage (by county)"] == "hit", cache
