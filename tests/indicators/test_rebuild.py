"""``python -m services.indicators.rebuild``: dropping the read model and re-reading every feed from
nothing gives the same read model."""

from __future__ import annotations

import httpx

from libs.common.database import session_scope
from services.indicators.followers.models import FeedCursor
from services.indicators.rebuild import rebuild
from tests.cross_service.conftest import Live
from tests.cross_service.data import Writer
from tests.indicators.conftest import Indicators
from tests.indicators.helpers import read_model


async def test_a_rebuild_yields_the_same_read_model(indicators: Indicators, live: Live) -> None:
    w = Writer(live)
    hospital = await w.institution("350206", "medical", beds_medical=80)
    home = await w.institution("350206", beds_elderly_care=60)
    await w.agreement(hospital, home)
    await w.update_institution(home, beds_elderly_care=70)
    await indicators.followers.catch_up()
    followed = await read_model(indicators.database)
    assert hospital["id"] in followed["institution"]
    assert followed["agreement"]

    async with httpx.AsyncClient(transport=indicators.hops.gateway, base_url="http://gateway") as http:
        counts = await rebuild(indicators.settings, database=indicators.database, gateway_http=http)

    assert set(counts) == {"registry", "contracts", "homecare", "residents"}
    assert await read_model(indicators.database) == followed
    async with session_scope(indicators.database, write=False) as session:
        row = await session.get(FeedCursor, "registry")
        assert row is not None
        assert row.caught_up
        assert row.entries_applied == counts["registry"]
