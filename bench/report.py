"""docs/PERFORMANCE.md: one part per database run, one table per measure's section.

Figures are those of one run on one machine; every ratio is computed within the run (both sides measured
minutes apart on the same stack), which is what makes them comparable across machines. Nothing here
judges a figure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bench.context import Section
from bench.load import LoadResult


@dataclass
class Run:
    database: str
    scale: str
    machine: dict[str, str]
    started: datetime
    seconds: float
    duration: float
    connections: int
    driver: str
    sections: list[Section] = field(default_factory=list)


DATABASE_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def rps(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def ms(value: float) -> str:
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}" if denominator else "—"


def percent(numerator: float, denominator: float) -> str:
    return f"{100 * numerator / denominator:.0f}%" if denominator else "—"


def load_cells(result: LoadResult) -> list[str]:
    """requests/s, p50 ms, p99 ms, errors — the columns every load table starts with; no request completed
    within the time (a slow endpoint, a tiny duration) leaves the times blank."""
    if not result.requests:
        return ["0", "—", "—", str(result.errors)]
    return [rps(result.requests_per_second), ms(result.p50_ms), ms(result.p99_ms), str(result.errors)]


LOAD_COLUMNS = ["requests/s", "p50 ms", "p99 ms", "errors"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(section: Section) -> list[str]:
    lines = [f"### {section.title}", ""]
    if section.rows:
        lines.append("| " + " | ".join(_cell(c) for c in section.columns) + " |")
        lines.append("|" + "|".join("---" for _ in section.columns) + "|")
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in section.rows]
        lines.append("")
    lines += [f"- {note}" for note in section.notes]
    if section.notes:
        lines.append("")
    return lines


def render(runs: list[Run], *, command: str) -> str:
    lines = [
        "# 性能报告 (performance at province scale, issue 16)",
        "",
        f"Written by `{command}` — do not edit by hand; re-run the command (`make bench`) instead.",
        "`make bench` is `python -m bench --scale L --database sqlite,postgresql --duration 5 --out "
        "docs/PERFORMANCE.md`: SQLite at scale S, then PostgreSQL at S, M and L in one throwaway database "
        "(growth measured at each scale, every measure at L); about 50 minutes on 2 cores (the parts' "
        "times added: each database's start and measures ~4 min, M 4 min, L 11 min, and at most 10 "
        "minutes a scale waiting for the indicators' followers to apply the new feed entries).",
        "Each figure comes from one run on the machine named below, on loopback, with the load driver",
        "competing with the services for the same cores; ratios are computed within one run. Benchmarks",
        "are not tests: nothing in the suite asserts a time (tests/bench/ only checks that this report is",
        "written with every section).",
        "",
    ]
    for run in runs:
        label = DATABASE_LABELS.get(run.database, run.database)
        lines += [
            f"## {label}, scale {run.scale}",
            "",
            f"Run {run.started:%Y-%m-%d %H:%M} UTC, {run.seconds:.0f} s in all; {run.duration:g} s per load "
            f"measurement, {run.connections} connections, load driver {run.driver}.",
            "",
            "| machine | |",
            "|---|---|",
            *(f"| {_cell(key)} | {_cell(value)} |" for key, value in run.machine.items()),
            "",
        ]
        for section in run.sections:
            lines += table(section)
    return "\n".join(lines).rstrip() + "\n"
