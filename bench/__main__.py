"""``python -m bench``: start the platform, run the measures, write docs/PERFORMANCE.md.

    python -m bench --scale L --database sqlite,postgresql --duration 5 --out docs/PERFORMANCE.md
    python -m bench --scale S --database postgresql --duration 5    # the demo only
    python -m bench --scale M --database postgresql                 # S first, then bench.generate fills M

The first is ``make bench``.

For each database named (``--database sqlite,postgresql`` runs both, one after the other) the stack of
``make run`` starts in a throwaway database seeded with the demo (scale S). With ``--scale M`` or ``L`` the
growth measure runs at S, then ``bench.generate.generate(scale, database_url)`` fills the database step by
step (S → M → L: the growth measure runs again at each scale passed on the way) and every measure runs at
the scale asked for. The generator fills PostgreSQL only: a SQLite run stays at S. A measure that fails is
reported as failed and the command exits 1 after writing the report.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import itertools
import os
import shlex
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench import measures, statistics
from bench.context import BenchContext, Section
from bench.measures import growth
from bench.report import Run, render
from bench.stack import DEFAULT_SERVER_URL, REPO, running_stack

WRK = REPO / "var" / "tools" / "wrk" / "usr" / "bin" / "wrk"
FAILED = "failed"
SCALES = ("S", "M", "L")  # in order: a larger scale is generated over the smaller ones
# how long the indicators may take to apply a generated scale's feed entries: at L they are millions, more
# than the followers apply in that time on 2 cores (the report then says how far behind they were)
FOLLOWERS_WITHIN = 600.0


def scales_to(database: str, scale: str) -> list[str]:
    """The scales a run passes through, S first: up to ``scale`` on PostgreSQL, S only on SQLite."""
    if database != "postgresql":
        return ["S"]
    return list(SCALES[: SCALES.index(scale) + 1])


def _log(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale", choices=SCALES, default="S", help="PostgreSQL's scale (S → M → L); SQLite stays at S"
    )
    parser.add_argument(
        "--database", default="sqlite,postgresql", help="sqlite, postgresql or both, comma-separated"
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per load measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "PERFORMANCE.md")
    parser.add_argument("--measures", default="", help="only these measures, comma-separated (default: all)")
    parser.add_argument(
        "--server-url",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER_URL),
        help="the PostgreSQL server where a throwaway database is made",
    )
    parser.add_argument("--wrk", default=str(WRK) if WRK.exists() else "", help="wrk binary ('' for httpx)")
    args = parser.parse_args(argv)
    args.databases = [d.strip() for d in args.database.split(",") if d.strip()]
    unknown = [d for d in args.databases if d not in ("sqlite", "postgresql")]
    if unknown or not args.databases:
        parser.error(f"--database: sqlite and/or postgresql, not {args.database!r}")
    available = measures.names()
    args.measure_names = [m.strip() for m in args.measures.split(",") if m.strip()] or available
    missing = [m for m in args.measure_names if m not in available]
    if missing:
        parser.error(f"--measures: unknown {missing}; available {available}")
    return args


async def _generate(scale: str, database_url: str, over: str) -> Section:
    """bench.generate fills the stack's database up to ``scale``; a section says what it added."""
    generator = importlib.import_module("bench.generate")  # imported only when a scale asks for it
    started = time.monotonic()
    result = generator.generate(scale, database_url, log=_log)
    added = await result if inspect.isawaitable(result) else result
    rows = [[table, f"{count:,}"] for table, count in dict(added or {}).items()]
    notes = [f"Generated in {time.monotonic() - started:.0f} s by `bench.generate` over scale {over}."]
    waited = await generator.wait_for_followers(database_url, within=FOLLOWERS_WITHIN, log=_log)
    behind = await generator.feeds_behind(database_url)
    await generator.analyze_schema(database_url, "indicators")
    notes.append(
        f"The indicators then applied the new feed entries in {waited:.0f} s"
        if not any(behind.values())
        else f"The indicators were still behind after {waited:.0f} s (entries not yet applied: {behind}): "
        "the figures below were measured while they caught up, and the indicators' own figures are of "
        "the facts applied so far"
    )
    return Section(f"0. Data added for scale {scale}", ["table", "rows added"], rows, notes)


async def _measure(name: str, ctx: BenchContext) -> list[Section]:
    _log(f"{ctx.database} {ctx.scale}: {name}")
    try:
        return await measures.measure(name)(ctx)
    except Exception as error:  # reported, not raised: the other measures still run
        traceback.print_exc()
        return [Section(f"{name}: {FAILED}", [], [], [f"{type(error).__name__}: {error}"])]


async def measure_all(ctx: BenchContext, names: list[str]) -> list[Section]:
    """Every measure named, in turn, on the stack ``ctx`` describes; a failure becomes a section."""
    sections: list[Section] = []
    for name in names:
        sections += await _measure(name, ctx)
    return sections


def failed(sections: list[Section]) -> list[str]:
    return [s.title for s in sections if s.title.endswith(f": {FAILED}")]


async def run_database(database: str, args: argparse.Namespace) -> Run:
    started = datetime.now(UTC)
    clock = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        _log(f"{database}: starting the platform (migrations and the demo seed)")
        async with running_stack(database, Path(tmp) / "data", server_url=args.server_url) as stack:
            ctx = BenchContext(
                scale="S",
                database=database,
                database_url=stack.database_url,
                data_dir=stack.data_dir,
                gateway=stack.gateway,
                services=stack.services,
                duration=args.duration,
                connections=args.connections,
                token=stack.token,
                wrk=args.wrk or None,
                machine=await stack.machine(),
            )
            _log(f"{database}: up in {time.monotonic() - clock:.0f} s")
            data: list[Section] = []
            if database == "postgresql":
                notes = await statistics.analyze_when_autovacuum_off(
                    ctx.database_url, within=FOLLOWERS_WITHIN, log=_log
                )
                data.append(Section("0. Planner statistics", [], [], notes))
            path = scales_to(database, args.scale)
            for previous, scale in itertools.pairwise(path):
                if "growth" in args.measure_names:
                    _log(f"{database} {previous}: growth")
                    await growth.baseline(ctx)
                _log(f"{database}: generating scale {scale}")
                data.append(await _generate(scale, ctx.database_url, previous))
                ctx.scale = scale
            sections = data + await measure_all(ctx, args.measure_names)
    return Run(
        database=database,
        scale=ctx.scale,
        machine=ctx.machine,
        started=started,
        seconds=time.monotonic() - clock,
        duration=args.duration,
        connections=args.connections,
        driver="wrk" if ctx.wrk else "httpx (asyncio)",
        sections=sections,
    )


async def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    command = "python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv)
    runs: list[Run] = []
    for database in args.databases:
        runs.append(await run_database(database, args))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(render(runs, command=command), encoding="utf-8")
        _log(f"wrote {args.out}")
    failures = failed([s for run in runs for s in run.sections])
    if failures:
        _log(f"failed measures: {failures}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
