"""``GET /api/v1/indicators/status`` through the gateway: who may read it, and what it shows."""

from __future__ import annotations

import uuid

import pytest

from libs.common.auth import Role
from tests.cross_service.conftest import Live
from tests.indicators.conftest import Indicators
from tests.indicators.helpers import STATUS

INSTITUTION = uuid.uuid4()

# The status shows no record, only how fresh the read model is: every official whose reports come from
# it may read it, whatever their region; institution users and city platforms may not.
ALLOWED = [
    (Role.province_admin, "350000"),
    (Role.city_admin, "350200"),
    (Role.city_admin, "350128"),  # 平潭, a city-level unit
    (Role.county_admin, "350206"),
]
DENIED = [
    (Role.institution_admin, "350206"),
    (Role.institution_staff, "350206"),
    (Role.city_platform, "350200"),
]


@pytest.mark.parametrize(("role", "region"), ALLOWED)
async def test_officials_of_every_level_read_the_status_of_every_feed(
    indicators: Indicators, live: Live, role: Role, region: str
) -> None:
    await indicators.followers["registry"].catch_up()
    response = await live.gateway.get(STATUS, headers=live.tokens.headers(role, region))
    assert response.status_code == 200, response.text
    feeds = {feed["feed"]: feed for feed in response.json()["feeds"]}
    assert list(feeds) == ["registry", "contracts", "homecare", "residents"]
    assert feeds["registry"]["entity_types"] == ["institution", "institution_year_stat", "filing"]
    assert feeds["registry"]["caught_up"] is True
    assert feeds["registry"]["lag_entries"] == 0
    assert feeds["registry"]["lag_seconds"] is not None
    # never polled yet: nothing is claimed
    assert feeds["contracts"]["cursor"] is None
    assert feeds["contracts"]["lag_seconds"] is None
    assert feeds["contracts"]["lag_entries"] is None


@pytest.mark.parametrize(("role", "region"), DENIED)
async def test_institution_users_and_city_platforms_may_not_read_the_status(
    indicators: Indicators, live: Live, role: Role, region: str
) -> None:
    headers = live.tokens.headers(
        role, region, institution_id=INSTITUTION if role.value.startswith("institution") else None
    )
    response = await live.gateway.get(STATUS, headers=headers)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


async def test_the_status_needs_a_token(indicators: Indicators, live: Live) -> None:
    response = await live.gateway.get(STATUS)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
