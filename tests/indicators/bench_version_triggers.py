"""What the reports' version triggers (migration indicators_0009) cost a batch write (measured, not
asserted; 16t).

Run: ``.venv/bin/python -m tests.indicators.bench_version_triggers [--postgres] [--rows N]``

A scratch indicators database migrated to head; ``N`` ``round_visit`` rows written as the followers write
a page (``facts/apply.py``: one transaction per 500 rows, an executemany INSERT, an executemany UPDATE by
key), then all deleted at once (the rebuild's ``clear``): twice with the triggers, then twice with the
table's triggers dropped (SQLite) or disabled (PostgreSQL). Wall time and process CPU per step (on
PostgreSQL the triggers run in the server: wall is the figure).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, text, update

from libs.common.database import Database, session_scope
from libs.common.migrations import upgrade_head
from services.indicators import models  # noqa: F401  (every table on Base.metadata)
from services.indicators.facts.models import RoundVisitFact
from services.indicators.settings import IndicatorsSettings
from tests.bench_database import bench_database

PAGE = 500


def _rows(count: int) -> list[dict[str, Any]]:
    moment = datetime.now(UTC)
    return [
        {
            "id": uuid.uuid4(),
            "region_code": "350206",
            "version": 1,
            "source_seq": n,
            "changed_at": moment,
            "applied_at": moment,
            "agreement_id": uuid.uuid4(),
            "medical_institution_id": uuid.uuid4(),
            "elderly_institution_id": uuid.uuid4(),
            "visit_date": date(2025, 3, 1),
            "residents_seen": 3,
        }
        for n in range(count)
    ]


async def _round(database: Database, count: int, label: str) -> None:
    table: Table = RoundVisitFact.__table__  # type: ignore[assignment]
    rows = _rows(count)
    by_key = update(table).where(table.c.id == bindparam("row_id")).values(source_seq=bindparam("seq"))
    steps: list[tuple[str, Any, list[dict[str, Any]]]] = [
        ("insert", insert(table), rows),
        ("update", by_key, [{"row_id": r["id"], "seq": r["source_seq"] + 1} for r in rows]),
    ]
    found = []
    for name, statement, params in steps:
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, count, PAGE):
            async with session_scope(database) as session:
                await session.execute(statement, params[start : start + PAGE])
        found.append(f"{name} {time.perf_counter() - wall:.2f} s / {time.process_time() - cpu:.2f} s CPU")
    wall, cpu = time.perf_counter(), time.process_time()
    async with session_scope(database) as session:
        await session.execute(delete(table))
    found.append(f"delete all {time.perf_counter() - wall:.2f} s / {time.process_time() - cpu:.2f} s CPU")
    print(f"  {label:<17} " + "; ".join(found))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    async with bench_database("indicators", postgres=args.postgres) as kwargs:
        settings = IndicatorsSettings(**kwargs)
        await asyncio.to_thread(upgrade_head, settings)
        database = Database(settings)
        try:
            for _ in range(2):
                await _round(database, args.rows, "with triggers")
            async with session_scope(database) as session:
                if args.postgres:
                    await session.execute(text("ALTER TABLE round_visit DISABLE TRIGGER USER"))
                else:
                    for operation in ("insert", "update", "delete"):
                        await session.execute(
                            text(f"DROP TRIGGER round_visit_report_data_version_{operation}")
                        )
            for _ in range(2):
                await _round(database, args.rows, "without triggers")
        finally:
            await database.dispose()


if __name__ == "__main__":
    asyncio.run(main())
