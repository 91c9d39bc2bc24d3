"""The reports on the response cache (services/indicators/reports/version.py): a page is kept while the
version — ``report_data_version.counter``, moved by triggers on every table the reports read, and the
day — stays; each test writes through one path and reads the page again, which must be made afresh and
equal the ``no-cache`` page. With the counter or the day left out of the version, each fails (the
second read would be the kept page, with the old figures)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import Table, delete, event, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.common.auth import Role
from libs.common.clock import ManualClock
from libs.common.database import Database, session_scope
from libs.common.response_cache import OUTCOME_HEADER
from services.indicators.base import Base
from services.indicators.facts.apply import FACT_MODELS
from services.indicators.facts.models import AssessmentFact, CheckupFact, SigningFact
from services.indicators.followers.models import FeedCursor
from services.indicators.rebuild import clear, rebuild
from services.indicators.reports.version import data_counter
from tests.cross_service.conftest import Live
from tests.cross_service.data import Writer
from tests.indicators.conftest import Indicators
from tests.indicators.reference.helpers import XLSX, admin, targets_file
from tests.indicators.reports import world
from tests.indicators.reports.test_reports import _clear_reference, load_population, load_targets

BASE = "/api/v1/indicators"
CHINA = timezone(timedelta(hours=8))
YEAR = datetime.now(CHINA).year  # the sources date what they record today
COUNTY = "350206"
NO_CACHE = {"Cache-Control": "no-cache"}
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

#: what the reports read, each table with the triggers of migration indicators_0009
READ_TABLES = {
    *(model.__tablename__ for model in FACT_MODELS),  # type: ignore[attr-defined]
    "reference_version",
    "population",
    "target",
    "feed_cursor",
}


@pytest.fixture
async def reference(indicators: Indicators) -> AsyncIterator[Database]:
    await _clear_reference(indicators.database)
    yield indicators.database
    await _clear_reference(indicators.database)


async def _get(live: Live, path: str, headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
    response = await live.gateway.get(
        BASE + path,
        params={name.rstrip("_"): value for name, value in params.items()},  # from_: from
        headers={**live.tokens.headers(Role.province_admin, "350000"), **(headers or {})},
    )
    assert response.status_code in (200, 304), response.text
    return response


async def _report(
    live: Live, period: str = str(YEAR), headers: dict[str, str] | None = None
) -> httpx.Response:
    return await _get(live, "/report", headers, period=period, region=COUNTY)


def _figure(response: httpx.Response, code: str) -> dict[str, Any]:
    return next(f for f in response.json()["region"]["figures"] if f["indicator"] == code)


async def _kept(live: Live, period: str = str(YEAR)) -> httpx.Response:
    """The report read twice: made (miss), then answered from the cache with the same bytes."""
    first = await _report(live, period)
    again = await _report(live, period)
    assert again.headers[OUTCOME_HEADER] == "hit"
    assert again.content == first.content
    return first


async def _made_afresh(live: Live, period: str = str(YEAR)) -> httpx.Response:
    """The report after a write: made afresh (miss) and the same as a page asked with no-cache."""
    after = await _report(live, period)
    assert after.headers[OUTCOME_HEADER] == "miss"
    fresh = await _report(live, period, NO_CACHE)
    assert fresh.headers[OUTCOME_HEADER] == "bypass"
    assert after.json() == fresh.json()
    return after


async def test_a_report_is_kept_until_a_follower_applies_a_fact(indicators: Indicators, live: Live) -> None:
    w = Writer(live)
    await w.institution(COUNTY, "integrated")
    await indicators.followers.catch_up()
    first = await _kept(live)
    assert first.headers["Cache-Control"] == "private, no-cache"
    not_modified = await _report(live, headers={"If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == 304
    counted = _figure(first, "integrated_institutions")["numerator"]

    await indicators.followers.catch_up()  # polls that bring nothing: the cursors' bookkeeping only
    assert (await _report(live)).headers[OUTCOME_HEADER] == "hit"
    await w.institution(COUNTY, "integrated")  # written in the registry, not followed yet
    assert (await _report(live)).headers[OUTCOME_HEADER] == "hit"

    await indicators.followers.catch_up()
    after = await _made_afresh(live)
    assert _figure(after, "integrated_institutions")["numerator"] == counted + 1
    assert after.headers["ETag"] != first.headers["ETag"]
    assert (await _report(live, headers={"If-None-Match": first.headers["ETag"]})).status_code == 200


async def test_a_rebuild_and_a_clear_move_the_version(indicators: Indicators, live: Live) -> None:
    w = Writer(live)
    await w.institution(COUNTY, "integrated")
    await indicators.followers.catch_up()
    counted = _figure(await _kept(live), "integrated_institutions")["numerator"]
    await w.institution(COUNTY, "integrated")  # only the rebuild reads it

    async with httpx.AsyncClient(transport=indicators.hops.gateway, base_url="http://gateway") as http:
        await rebuild(indicators.settings, database=indicators.database, gateway_http=http)
    rebuilt = await _made_afresh(live)
    assert _figure(rebuilt, "integrated_institutions")["numerator"] == counted + 1

    await _kept(live)
    await clear(indicators.database)
    cleared = await _made_afresh(live)
    assert _figure(cleared, "integrated_institutions")["numerator"] == 0


async def test_a_reference_load_moves_the_version(
    reference: Database, indicators: Indicators, live: Live
) -> None:
    w = Writer(live)
    await w.institution(COUNTY, "integrated")
    await indicators.followers.catch_up()
    assert _figure(await _kept(live), "integrated_institutions")["targets"] == []

    async def load(comparison: str) -> None:
        row = ["integrated_institutions", COUNTY, "否", comparison, 0, date(YEAR, 12, 31), "test"]
        loaded = await live.gateway.post(
            f"{BASE}/targets/import",
            files={"file": ("t.xlsx", targets_file([row]), XLSX)},
            headers=admin(live.tokens),
        )
        assert loaded.status_code == 201, loaded.text

    await load("≥")
    targeted = await _made_afresh(live)
    assert [t["status"] for t in _figure(targeted, "integrated_institutions")["targets"]] == ["met"]
    evaluation = await _get(live, "/targets/evaluation", due=f"{YEAR}-12-31")
    assert evaluation.headers[OUTCOME_HEADER] == "miss"
    assert (await _get(live, "/targets/evaluation", due=f"{YEAR}-12-31")).headers[OUTCOME_HEADER] == "hit"
    await load("≤")  # the targets' next version
    again = await _get(live, "/targets/evaluation", due=f"{YEAR}-12-31")
    assert again.headers[OUTCOME_HEADER] == "miss"
    assert again.json() != evaluation.json()

    missing = _figure(await _kept(live), "public_integrated_beds_per_10k")
    assert missing["value"] is None
    await load_population(reference, {COUNTY: 1_000_000}, year=YEAR)
    per_10k = _figure(await _made_afresh(live), "public_integrated_beds_per_10k")
    assert per_10k["denominator"] == 1_000_000


@contextmanager
def clock_on(indicators: Indicators, day: date) -> Iterator[ManualClock]:
    previous = indicators.app.state.clock
    clock = ManualClock(datetime.now(UTC))
    clock.set_today(day)
    indicators.app.state.clock = clock
    try:
        yield clock
    finally:
        indicators.app.state.clock = previous


def _meta(seq: int) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "region_code": COUNTY,
        "version": 1,
        "source_seq": seq,
        "changed_at": datetime(2024, 1, 5, tzinfo=UTC),
    }


async def _residents_live(database: Database) -> None:
    """A contract due on 2024-06-15 and never renewed (the residents feed delivered it)."""
    async with session_scope(database) as session:
        session.add(FeedCursor(feed="residents", last_seq=1, entries_applied=1, consecutive_failures=0))
        session.add(
            SigningFact(
                **_meta(1),
                person_id=uuid.uuid4(),
                team_id=uuid.uuid4(),
                institution_id=uuid.uuid4(),
                status="active",
                origin="new",
                start_date=date(2023, 6, 16),
                end_date=date(2024, 6, 15),
                elderly_at_start=True,
            )
        )


async def _renewal_series(live: Live) -> httpx.Response:
    return await _get(
        live, "/series", indicator="family_doctor_renewal_rate", region=COUNTY, to="2024", from_="2024"
    )


async def test_the_next_day_moves_the_version(indicators: Indicators, live: Live) -> None:
    await _residents_live(indicators.database)
    with clock_on(indicators, date(2024, 6, 15)) as clock:
        running = _figure(await _kept(live, "2024Q2"), "family_doctor_renewal_rate")
        assert running["denominator"] == 0  # its end date has not passed: not due yet
        series = await _renewal_series(live)
        assert (await _renewal_series(live)).headers[OUTCOME_HEADER] == "hit"

        clock.set_today(date(2024, 6, 16))
        due = _figure(await _made_afresh(live, "2024Q2"), "family_doctor_renewal_rate")
        assert (due["numerator"], due["denominator"], due["value"]) == (0, 1, 0.0)
        moved = await _renewal_series(live)
        assert moved.headers[OUTCOME_HEADER] == "miss"
        assert moved.json()["points"] != series.json()["points"]


# ------------------------------------------------------------------------------ the triggers, table by table
async def _fill_every_table(indicators: Indicators) -> None:
    await world.store(indicators.database, world.build(1))
    await _residents_live(indicators.database)
    async with session_scope(indicators.database) as session:
        session.add(
            CheckupFact(
                **_meta(2),
                person_id=uuid.uuid4(),
                institution_id=uuid.uuid4(),
                year=2024,
                first_date=date(2024, 3, 1),
                last_date=date(2024, 3, 2),
                standard=True,
                standard_date=date(2024, 3, 2),
            )
        )
        session.add(
            AssessmentFact(
                **_meta(3),
                person_id=uuid.uuid4(),
                institution_id=uuid.uuid4(),
                assessed_date=date(2024, 3, 1),
                scale_version="2022",
                level=2,
            )
        )
    await load_population(indicators.database, {COUNTY: 1_000_000}, year=2024)
    await load_targets(
        indicators.database,
        [
            {
                "indicator": "integrated_institutions",
                "region_code": COUNTY,
                "each_county": False,
                "comparison": "gte",
                "value": 1,
                "due_date": date(2024, 12, 31),
            }
        ],
    )


async def _counter(database: Database) -> int:
    async with session_scope(database, write=False) as session:
        return await data_counter(session)


async def _write(database: Database, statement: Any) -> int:
    """The counter's move by ``statement``, committed alone."""
    before = await _counter(database)
    async with session_scope(database) as session:
        await session.execute(statement)
    return await _counter(database) - before


async def test_every_write_of_every_read_table_moves_the_counter(
    reference: Database, indicators: Indicators
) -> None:
    await _fill_every_table(indicators)
    tables = Base.metadata.tables
    # the reference versions last: removing one removes its rows (ON DELETE CASCADE)
    for name in sorted(READ_TABLES - {"feed_cursor"}, key=lambda n: n == "reference_version"):
        table: Table = tables[name]
        async with session_scope(indicators.database, write=False) as session:
            row = (await session.execute(select(table).limit(1))).mappings().first()
        assert row is not None, name
        key = [c == row[c.name] for c in table.primary_key.columns]
        column = next(c for c in table.columns if not c.primary_key)
        same = update(table).where(*key).values({column.name: row[column.name]})
        assert await _write(indicators.database, same) > 0, name
        assert await _write(indicators.database, delete(table).where(*key)) > 0, name
        assert await _write(indicators.database, insert(table).values(dict(row))) > 0, name

    # feed_cursor: what the reports read of it (a feed's row, whether its last_seq is set), not the
    # bookkeeping of every poll
    cursor: Table = FeedCursor.__table__  # type: ignore[assignment]
    residents = update(cursor).where(cursor.c.feed == "residents")
    database = indicators.database
    assert await _write(database, residents.values(last_attempt_at=datetime.now(UTC), caught_up=True)) == 0
    assert await _write(database, residents.values(last_seq=2)) == 0
    assert await _write(database, residents.values(last_seq=None)) > 0
    assert await _write(database, residents.values(last_seq=3)) > 0
    assert await _write(database, delete(cursor).where(cursor.c.feed == "residents")) > 0
    new = insert(cursor).values(feed="residents", entries_applied=0, consecutive_failures=0)
    assert await _write(database, new) > 0


_WORD = re.compile(r"[a-z_]+")


async def _triggered_tables(connection: AsyncConnection) -> set[str]:
    if connection.dialect.name == "postgresql":
        sql = (
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE NOT t.tgisinternal AND n.nspname = current_schema() "
            "AND t.tgname LIKE '%report_data_version%'"
        )
    else:
        sql = (
            "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%report_data_version%'"
        )
    return {name for (name,) in (await connection.execute(text(sql))).all()}


async def test_every_table_the_reports_read_carries_the_triggers(
    reference: Database, indicators: Indicators, live: Live
) -> None:
    await _fill_every_table(indicators)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.lower())

    engines = {indicators.database.engine.sync_engine, indicators.database.read_engine.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", seen)
    try:
        for period in ("2024", "2024Q1"):
            await _get(live, "/report", NO_CACHE, period=period)
            await _get(live, "/report", NO_CACHE, period=period, region=COUNTY)
        for code in ("family_doctor_renewal_rate", "integrated_beds", "public_integrated_beds_per_10k"):
            await _get(live, "/series", NO_CACHE, indicator=code, to="2024", from_="2023")
        await _get(live, "/targets/evaluation", NO_CACHE)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", seen)

    words = {word for statement in statements for word in _WORD.findall(statement)}
    named = (set(Base.metadata.tables) & words) - {"report_data_version"}
    assert named == READ_TABLES
    async with indicators.database.engine.connect() as connection:
        assert await _triggered_tables(connection) == READ_TABLES
