"""``GET /series`` over several periods: each point is the figure the report gives for that period (the
report is checked against indicators.md in test_reports.py), and the whole range is read from the read
model in ONE statement per indicator, not one per period."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from libs.common.database import Database
from services.indicators.reports.catalog import DEFINITIONS
from tests.cross_service.conftest import Live
from tests.indicators.conftest import Indicators
from tests.indicators.reports.test_reports import _clear_reference, _get, _world, load_population

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
FACT_TABLES = re.compile(
    r"\b(institution|filing|agreement|round_visit|home_bed|care_order|resident_signing|resident_checkup"
    r"|resident_assessment)\b"
)
COUNTIES = ("350102", "350104", "350203", "350206", "350128")


@pytest.fixture
async def reference(indicators: Indicators) -> AsyncIterator[Database]:
    await _clear_reference(indicators.database)
    yield indicators.database
    await _clear_reference(indicators.database)


@contextmanager
def statements_reading_facts(database: Database) -> Iterator[list[str]]:
    """The SQL statements run meanwhile that read a fact table."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if FACT_TABLES.search(statement):
            seen.append(statement)

    engines = {id(e): e.sync_engine for e in (database.engine, database.read_engine)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def _point(figure: dict[str, Any]) -> tuple[Any, ...]:
    return (
        figure["numerator"],
        figure["denominator"],
        figure["value"],
        figure["status"],
        figure["missing_reason"],
    )


@pytest.mark.parametrize(
    ("by", "first", "last", "labels"),
    [
        ("year", "2023", "2026", ["2023", "2024", "2025", "2026"]),
        ("quarter", "2024Q4", "2026Q1", ["2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"]),
    ],
)
async def test_a_series_over_several_periods_equals_the_report_of_each_period_in_one_statement(
    reference: Database,
    indicators: Indicators,
    live: Live,
    by: str,
    first: str,
    last: str,
    labels: list[str],
) -> None:
    await _world(indicators, 21)
    # 2025 only: the per-10k figure is computed there and missing in the other years
    await load_population(reference, {c: 100_000 + int(c[-2:]) * 1_000 for c in COUNTIES}, 2025)
    reports = {
        (region, label): {
            f["indicator"]: f
            for f in (await _get(live, "/report", params={"period": label, "region": region})).json()[
                "region"
            ]["figures"]
        }
        for region in ("350000", "350100", "350206")
        for label in labels
    }
    for code, definition in DEFINITIONS.items():
        for region in ("350000", "350100", "350206"):
            params = {"indicator": code, "region": region, "by": by, "from": first, "to": last}
            with statements_reading_facts(indicators.database) as statements:
                response = await _get(live, "/series", params=params)
            assert response.status_code == 200, response.text
            points = response.json()["points"]
            assert [p["period"] for p in points] == labels
            for point in points:
                assert _point(point) == _point(reports[(region, point["period"])][code]), (
                    code,
                    region,
                    point,
                )
            # the residents' figures are missing here (their feed delivered nothing): no statement either
            missing = definition.missing or definition.feed
            assert len(statements) == (0 if missing else 1), (code, statements)

    counted = [p for p in (await _get(live, "/series", params={
        "indicator": "homecare_orders", "region": "350000", "by": by, "from": first, "to": last
    })).json()["points"]]  # fmt: skip
    assert len({p["numerator"] for p in counted}) > 1  # the fixture's orders fall in different periods
