"""The harness end to end at scale S, a second per load: it runs and writes a report with every section.

Benchmarks are not tests: nothing here asserts a time or a ratio — only that every measure ran without
failing and that docs/PERFORMANCE.md's structure (machine, one table per section, rows as wide as their
columns) is there, so that the harness cannot rot between runs of ``make bench``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench import __main__ as command
from bench import statistics
from bench.context import BenchContext, Section
from bench.load import LoadResult
from bench.measures import ceiling, growth, workers
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
    # header, bare, real from the response cache, real made afresh
    assert len(tables["2. The framework ceiling (institution list, 50 rows)"]) == 4
    growth = tables["3. Growth with data (scale S)"]
    assert len(growth) - 1 == 9
    assert all(not row[-1].startswith("HTTP") for row in growth[1:]), growth  # every endpoint answered 2xx
    assert [row[0] for row in tables["6. Workers (registry, institution list, 50 rows)"][1:]] == ["1", "2"]


def test_the_command_refuses_what_it_cannot_run() -> None:
    with pytest.raises(SystemExit):
        command.parse(["--database", "mysql"])
    with pytest.raises(SystemExit):
        command.parse(["--scale", "XL"])
    with pytest.raises(SystemExit):
        command.parse(["--measures", "gateway_hop,nonsense"])
    args = command.parse(["--database", "postgresql", "--measures", "growth,gateway_hop"])
    assert args.databases == ["postgresql"]
    assert args.measure_names == ["growth", "gateway_hop"]


def test_postgresql_passes_through_each_scale_and_sqlite_stays_at_s() -> None:
    args = command.parse(["--scale", "L", "--database", "sqlite,postgresql"])  # make bench
    assert args.databases == ["sqlite", "postgresql"]
    assert command.scales_to("postgresql", args.scale) == ["S", "M", "L"]
    assert command.scales_to("sqlite", args.scale) == ["S"]  # the generator fills PostgreSQL only
    assert command.scales_to("postgresql", "M") == ["S", "M"]
    assert command.scales_to("postgresql", "S") == ["S"]


def test_a_failing_measure_becomes_a_failed_section() -> None:
    sections = [Section("1. ok", ["a"], [["1"]]), Section(f"ceiling: {command.FAILED}", [], [], ["boom"])]
    assert command.failed(sections) == [f"ceiling: {command.FAILED}"]


async def test_growth_at_l_shows_the_p99_at_each_smaller_scale_and_the_ratio_to_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    labels = [label for label, _, _ in growth.endpoints()]

    def results(p99: float) -> dict[str, tuple[LoadResult, int]]:
        return {label: (LoadResult(10.0, p99 / 2, p99, 0, 100, requests=10), 100) for label in labels}

    p99s = iter([10.0, 11.0, 15.0])  # S, M, L

    async def measured(_ctx: BenchContext) -> dict[str, tuple[LoadResult, int]]:
        return results(next(p99s))

    monkeypatch.setattr(growth, "measure", measured)
    monkeypatch.setattr(growth, "baselines", {})
    ctx = BenchContext("S", "postgresql", "", Path("."), "", {}, 1.0, 2, _no_token, None, {})
    for scale in ("S", "M"):
        ctx.scale = scale
        await growth.baseline(ctx)
    ctx.scale = "L"
    [section] = await growth.run(ctx)
    assert section.title == "3. Growth with data (scale L)"
    assert section.columns[-3:] == ["p99 at S", "p99 at M", "p99 L ÷ S"]
    assert all(row[-3:] == ["10.0", "11.0", "1.50"] for row in section.rows)
    assert len(section.rows) == len(labels)


async def _no_token(_username: str) -> str:
    return ""


async def test_postgresql_at_l_measures_growth_at_s_and_m_then_everything_at_l(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The order of ``make bench``'s PostgreSQL run, with the stack, the generator and the measures
    replaced by recorders (the real ones take most of an hour)."""
    steps: list[str] = []

    class FakeStack:
        database_url = "postgresql+asyncpg://postgres@127.0.0.1/bench_fake"
        data_dir = tmp_path
        gateway = "http://127.0.0.1:1"
        services: dict[str, str] = {}

        async def token(self, _username: str) -> str:
            return ""

        async def machine(self) -> dict[str, str]:
            return {"cores": "2"}

    @contextlib.asynccontextmanager
    async def fake_stack(*_args: object, **_kwargs: object) -> AsyncIterator[FakeStack]:
        yield FakeStack()

    async def baseline(ctx: BenchContext) -> None:
        steps.append(f"growth at {ctx.scale}")

    async def generate(scale: str, _url: str, over: str) -> Section:
        steps.append(f"generate {scale} over {over}")
        return Section(f"0. Data added for scale {scale}", ["table", "rows added"], [])

    async def measure_all(ctx: BenchContext, names: list[str]) -> list[Section]:
        steps.append(f"{','.join(names)} at {ctx.scale}")
        return []

    async def analyze(_url: str, **_kwargs: object) -> list[str]:
        steps.append("statistics")
        return ["analysed"]

    monkeypatch.setattr(command, "running_stack", fake_stack)
    monkeypatch.setattr(statistics, "analyze_when_autovacuum_off", analyze)
    monkeypatch.setattr(growth, "baseline", baseline)
    monkeypatch.setattr(command, "_generate", generate)
    monkeypatch.setattr(command, "measure_all", measure_all)
    args = command.parse(["--scale", "L", "--database", "postgresql", "--measures", "growth,workers"])
    run = await command.run_database("postgresql", args)
    assert steps == [
        "statistics",  # before anything is measured (PostgreSQL only)
        "growth at S",
        "generate M over S",
        "growth at M",
        "generate L over M",
        "growth,workers at L",
    ]
    assert run.scale == "L"
    assert [s.title for s in run.sections] == [
        "0. Planner statistics",
        "0. Data added for scale M",
        "0. Data added for scale L",
    ]
    assert run.sections[0].notes == ["analysed"]

    steps.clear()
    run = await command.run_database("sqlite", args)  # the generator fills PostgreSQL only
    assert steps == ["growth,workers at S"]
    assert run.scale == "S"
