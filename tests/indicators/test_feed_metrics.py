"""The followers' lag in the indicators' ``/metrics`` (services/indicators/followers/metrics.py): the
numbers of ``GET /api/v1/indicators/status``, per feed, read at each scrape; and the source's change-feed
head, from which Prometheus computes the entries behind."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from libs.common.auth import Role
from libs.common.testing import live_client
from tests.cross_service.conftest import Live
from tests.indicators.conftest import Indicators
from tests.indicators.helpers import STATUS


async def _samples(client: httpx.AsyncClient) -> dict[tuple[str, str], Sample]:
    """``(metric name, feed or service)`` → its sample."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        (s.name, s.labels.get("feed") or s.labels["service"]): s
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
        if s.name.startswith(("yiyang_feed_", "yiyang_changes_head_seq"))
    }


async def test_feed_lag_follows_the_status_and_the_head_of_the_source(
    indicators: Indicators, live: Live
) -> None:
    async with live_client(indicators.app) as metrics_client:
        before = await _samples(metrics_client)
        # never polled: no lag is claimed, nothing applied, not caught up
        assert ("yiyang_feed_seconds_behind", "registry") not in before
        assert before[("yiyang_feed_applied_seq", "registry")].value == 0
        assert before[("yiyang_feed_caught_up", "registry")].value == 0

        await indicators.followers["registry"].catch_up()
        status = await live.gateway.get(STATUS, headers=live.tokens.headers(Role.province_admin))
        after = await _samples(metrics_client)
    feeds = {feed["feed"]: feed for feed in status.json()["feeds"]}
    registry = feeds["registry"]
    assert after[("yiyang_feed_caught_up", "registry")].value == 1
    assert after[("yiyang_feed_applied_seq", "registry")].value == (registry["last_seq"] or 0)
    assert after[("yiyang_feed_consecutive_failures", "registry")].value == 0
    assert 0 <= after[("yiyang_feed_seconds_behind", "registry")].value <= registry["lag_seconds"] + 60
    assert ("yiyang_feed_last_success_timestamp_seconds", "registry") in after
    assert ("yiyang_feed_seconds_behind", "contracts") not in after  # still never polled

    head = await _samples(live.registry)
    # the registry's head is at or past what the indicators applied (other entity types may follow)
    assert (
        head[("yiyang_changes_head_seq", "registry")].value
        >= after[("yiyang_feed_applied_seq", "registry")].value
    )
