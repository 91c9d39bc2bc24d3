"""The contract every measure follows.

A measure is a module of :mod:`bench.measures` with ``async def run(ctx: BenchContext) -> list[Section]``:
it reads the running stack described by the context and returns the report's sections (one table each).
Nothing in a section is asserted by tests: figures are reported, ratios are computed within one run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class BenchContext:
    scale: str  # "S" | "M" | "L"
    database: str  # "sqlite" | "postgresql"
    database_url: str  # the URL deploy/local/run.py was given ("" on SQLite)
    data_dir: Path  # run.py's --data-dir (SQLite files live there)
    gateway: str  # "http://127.0.0.1:PORT"
    services: dict[str, str]  # "registry" -> "http://127.0.0.1:PORT" (direct, no gateway)
    duration: float  # seconds per load measurement
    connections: int
    token: Callable[
        [str], Awaitable[str]
    ]  # demo username ("prov_admin", "xinkaiyuan_nurse", …) -> access token
    wrk: str | None  # path of a wrk binary when available
    machine: dict[str, str]  # cpu, cores, python, database version …


@dataclass
class Section:
    title: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
