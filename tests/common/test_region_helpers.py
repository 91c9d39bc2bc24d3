"""The city-level unit of a county, in SQL, answers what the rules give on the test backend.

Rules (ARCHITECTURE.md, Regions and scope): a county belongs to the city of its first four digits
(``3502xx`` → ``350200``), except 平潭 ``350128``, which is administered as a city-level unit of its own.
"""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.types import String

from libs.common import divisions
from libs.common.testing import TestDatabases

EXPECTED = {
    "350203": "350200",
    "350206": "350200",
    "350102": "350100",
    "350181": "350100",
    "350128": "350128",
}


async def test_the_sql_city_unit_of_every_county_matches_the_rules(test_databases: TestDatabases) -> None:
    counties = [d.code for d in divisions.all_divisions() if d.level is divisions.DivisionLevel.county]
    assert set(EXPECTED) <= set(counties)
    engine = create_async_engine(test_databases.url_for("region_helpers"))
    try:
        async with engine.connect() as conn:
            row = (
                await conn.execute(
                    select(*(divisions.city_unit_sql(literal(c, String(6))) for c in counties))
                )
            ).one()
    finally:
        await engine.dispose()
    in_sql = dict(zip(counties, row, strict=True))
    assert {c: in_sql[c] for c in EXPECTED} == EXPECTED
    assert in_sql == {c: divisions.city_unit_of(c) for c in counties}
