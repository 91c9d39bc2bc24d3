"""``GET /report`` reads the facts in one statement for all the indicators (a UNION ALL of each one's
GROUP BY) plus the referral response times, not one statement per indicator (issue 16: the report at
scale L made 20+ round trips); and the union gives each indicator exactly its own statement's sums."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from libs.common.auth import Principal, Role
from libs.common.database import Database
from services.indicators.reports import service
from services.indicators.reports.catalog import DEFINITIONS
from services.indicators.reports.periods import Period
from services.indicators.reports.regions import region_of
from tests.cross_service.conftest import Live
from tests.indicators.conftest import Indicators
from tests.indicators.reports.test_reports import _clear_reference, _get, _world
from tests.indicators.reports.test_series import statements_reading_facts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
async def reference(indicators: Indicators) -> AsyncIterator[Database]:
    await _clear_reference(indicators.database)
    yield indicators.database
    await _clear_reference(indicators.database)


async def test_the_report_reads_the_facts_in_two_statements(
    reference: Database, indicators: Indicators, live: Live
) -> None:
    await _world(indicators, 22)
    counted = [d for d in DEFINITIONS.values() if d.missing is None and d.feed is None]
    for region in ("350000", "350100", "350206"):
        with statements_reading_facts(indicators.database) as statements:
            response = await _get(live, "/report", params={"period": "2025", "region": region})
        assert response.status_code == 200, response.text
        # every indicator's counts in one statement (the referrals' response times read theirs apart)
        assert len(statements) == 1, statements
        assert statements[0].count("UNION ALL") == len(counted) - 1


async def test_the_union_gives_each_indicator_its_own_statements_sums(
    reference: Database, indicators: Indicators
) -> None:
    await _world(indicators, 23)
    principal = Principal(sub="prov", role=Role.province_admin, region_code="350000")
    period = Period(2025, None)
    chosen = [d for d in DEFINITIONS.values() if d.missing is None and d.builder is not None]
    async with indicators.database.session(write=False) as session:
        for code in ("350000", "350100"):
            region = region_of(code)
            together = await service.all_county_counts(session, chosen, period, region, principal)
            for definition in chosen:
                alone = await session.execute(service._county_sums(definition, period, region, principal))
                found = {county: (num, den) for _code, county, num, den in alone.all()}
                assert together[definition.code] == service._counts(definition, region, found), (
                    definition.code
                )
