"""The harness end to end at scale S, a second per load: it runs and writes a report with every section.

Benchmarks are not tests: nothing here asserts a time or a ratio — only that every measure ran without
failing and that docs/PERFORMANCE.md's structure (machine, one table per section, rows as wide as their
columns) is there, so that the harness cannot rot between runs of ``make bench``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import __main__ as command
from bench.context import BenchContext, Section
from bench.measures import ceiling, workers
from bench.report import Run, render

MINE = ["gateway_hop", "ceiling", "growth", "workers"]  # P4's writes and dashboards have their own smoke test


def _tables(markdown: str) -> dict[str, list[list[str]]]:
    """Each ``### title`` of the report with its table's rows (the header row first)."""
    tables: dict[str, list[list[str]]] = {}
    title = ""
    for line in markdown.splitlines():
        if line.startswith("### "):
            title = line[4:]
            tables[title] = []
        elif title and line.startswith("|") and not re.fullmatch(r"\|(---\|)+", line):
            tables[title].append([cell.strip() for cell in line.strip("|").split(" | ")])
    return tables


async def test_the_harness_runs_every_measure_and_writes_every_section(
    bench_stack: BenchContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ceiling, "PROFILED_REQUESTS", 20)
    monkeypatch.setattr(
        workers, "WORKERS", (1, 2)
    )  # 4 workers cost a start-up more, and say nothing new here
    sections = await command.measure_all(bench_stack, MINE)
    assert command.failed(sections) == [], [s.notes for s in sections]
    run = Run(
        database=bench_stack.database,
        scale="S",
        machine=bench_stack.machine,
        started=datetime.now(UTC),
        seconds=1.0,
        duration=bench_stack.duration,
        connections=bench_stack.connections,
        driver="wrk" if bench_stack.wrk else "httpx (asyncio)",
        sections=sections,
    )
    out = tmp_path / "PERFORMANCE.md"
    out.write_text(render([run], command="python -m bench --smoke"), encoding="utf-8")
    report = out.read_text(encoding="utf-8")

    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[bench_stack.database]
    assert f"## {label}, scale S" in report
    for fact in ("cpu", "cores", "python", "database"):
        assert re.search(rf"^\| {fact} \| .+ \|$", report, re.MULTILINE), fact
    tables = _tables(report)
    assert list(tables) == [
        "1. The gateway hop (institution list, 50 rows)",
        "2. The framework ceiling (institution list, 50 rows)",
        "2b. Where the real endpoint's time goes (cProfile, in-process)",
        "3. Growth with data (scale S)",
        "6. Workers (registry, institution list, 50 rows)",
    ]
    for title, rows in tables.items():
        header, body = rows[0], rows[1:]
        assert body, title
        assert all(len(row) == len(header) for row in body), title
    hop = [row[0] for row in tables["1. The gateway hop (institution list, 50 rows)"][1:]]
    assert hop[:2] == ["direct (registry)", "through the gateway"]
    assert len(tables["2. The framework ceiling (institution list, 50 rows)"]) == 3  # header, bare, real
    growth = tables["3. Growth with data (scale S)"]
    assert len(growth) - 1 == 9
    assert all(not row[-1].startswith("HTTP") for row in growth[1:]), growth  # every endpoint answered 2xx
    assert [row[0] for row in tables["6. Workers (registry, institution list, 50 rows)"][1:]] == ["1", "2"]


def test_the_command_refuses_what_it_cannot_run() -> None:
    with pytest.raises(SystemExit):
        command.parse(["--database", "mysql"])
    with pytest.raises(SystemExit):
        command.parse(["--scale", "M", "--database", "sqlite,postgresql"])  # M and L: PostgreSQL only
    with pytest.raises(SystemExit):
        command.parse(["--measures", "gateway_hop,nonsense"])
    args = command.parse(["--database", "postgresql", "--measures", "growth,gateway_hop"])
    assert args.databases == ["postgresql"]
    assert args.measure_names == ["growth", "gateway_hop"]


def test_a_failing_measure_becomes_a_failed_section() -> None:
    sections = [Section("1. ok", ["a"], [["1"]]), Section(f"ceiling: {command.FAILED}", [], [], ["boom"])]
    assert command.failed(sections) == [f"ceiling: {command.FAILED}"]
