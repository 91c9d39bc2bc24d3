"""The followers (issue 13): idempotent pages, resuming from the stored cursor, surviving a source or
the gateway being down, and a write in a source reaching the read model — against the real services."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from libs.common.auth import Role, TokenVerifier
from libs.common.database import session_scope
from libs.common.testing import Tokens, running
from services.indicators.facts.models import AgreementFact, InstitutionFact, OrderFact
from services.indicators.followers.follower import FollowError, backoff_delay
from services.indicators.followers.models import FeedCursor
from tests.cross_service.conftest import Live
from tests.cross_service.data import REGISTRY, Writer, institution_body, unique
from tests.indicators.conftest import Indicators, indicators_app_for
from tests.indicators.helpers import STATUS, eventually, fact, read_model, service_headers


async def test_a_page_applied_twice_leaves_the_same_rows(indicators: Indicators, live: Live) -> None:
    # created, then moved to another county: the feed carries an upsert, a tombstone, an upsert
    record = {"external_id": unique("IND-"), **institution_body("350206", beds_elderly_care=120)}
    created = await _bulk(live, record)
    moved = await _bulk(live, {**record, "region_code": "350203"})
    assert moved["id"] == created["id"]
    await indicators.followers["registry"].catch_up()
    first = await read_model(indicators.database)
    row = first["institution"][created["id"]]
    assert (row["region_code"], row["version"]) == ("350203", moved["version"])

    # the page read again from the start (as after a crash, or by a second replica)
    async with session_scope(indicators.database) as session:
        await session.execute(update(FeedCursor).values(cursor=None))
    again = await indicators.followers["registry"].poll_once()
    assert again.received > 0
    assert again.changed == 0
    await indicators.followers["registry"].catch_up()

    assert await read_model(indicators.database) == first


async def _bulk(live: Live, record: dict[str, Any]) -> dict[str, Any]:
    response = await live.registry.post(
        f"{REGISTRY}/institutions/bulk",
        json={"source_system": "indicators-test", "records": [record]},
        headers=live.tokens.headers(Role.province_admin, "350000"),
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    assert result["outcome"] in {"created", "updated"}, result
    return result


async def test_a_follower_resumes_from_its_stored_cursor_after_a_restart(
    indicators: Indicators, live: Live, token_verifier: TokenVerifier
) -> None:
    w = Writer(live)
    before = await w.institution("350206")
    await indicators.followers["registry"].catch_up()
    after = await w.institution("350211", beds_integrated=30)

    restarted = indicators_app_for(indicators.settings, token_verifier, indicators.hops)
    async with running(restarted):
        follower = restarted.state.followers["registry"]
        first = await follower.poll_once()
        # only what was written since the cursor: the one new institution
        assert first.received == 1
        assert (await fact(indicators.database, InstitutionFact, after["id"])).beds_integrated == 30
        assert await fact(indicators.database, InstitutionFact, before["id"]) is not None


async def test_a_follower_survives_a_source_and_the_gateway_being_down_and_catches_up(
    indicators: Indicators, live: Live, tokens: Tokens
) -> None:
    province = tokens.headers(Role.province_admin)
    hops = indicators.hops
    hops.registry.mode = "unavailable"
    indicators.followers.start(interval=0.05, backoff_initial=0.05, backoff_max=0.2)

    async def registry_status() -> dict[str, Any]:
        response = await live.gateway.get(STATUS, headers=province)
        assert response.status_code == 200, response.text
        return next(f for f in response.json()["feeds"] if f["feed"] == "registry")

    async def failing_with(code: str) -> bool:
        status = await registry_status()
        return status["last_error_code"] == code and int(status["consecutive_failures"]) >= 2

    await eventually(lambda: failing_with("upstream_error"))  # the registry's 503, through the gateway
    status = await registry_status()
    assert status["next_attempt_at"] is not None
    assert status["caught_up"] is False

    hops.registry.mode = "up"
    hops.gateway.mode = "refused"  # now the gateway itself: connection refused

    async def gateway_down() -> bool:
        status = await registry_status()
        # the token is cached, so the feed request fails; without one, the token request would
        return status["last_error_code"] in {"upstream_unavailable", "service_token_unavailable"}

    await eventually(gateway_down)
    assert (await live.gateway.get("/api/v1/indicators/status", headers=province)).status_code == 200

    hops.gateway.mode = "up"
    institution = await Writer(live).institution("350206", beds_elderly_care=88)

    async def caught_up() -> bool:
        row = await fact(indicators.database, InstitutionFact, institution["id"])
        return row is not None and bool((await registry_status())["caught_up"])

    await eventually(caught_up)
    status = await registry_status()
    assert status["consecutive_failures"] == 0
    assert status["lag_entries"] == 0
    assert status["last_error_code"] in {
        "service_token_unavailable",
        "upstream_unavailable",
    }  # kept as history


async def _failures(indicators: Indicators) -> int:
    async with session_scope(indicators.database, write=False) as session:
        row = await session.get(FeedCursor, "registry")
        return 0 if row is None else row.consecutive_failures


async def test_failed_polls_back_off_exponentially_up_to_the_cap(indicators: Indicators) -> None:
    assert [backoff_delay(n, initial=1.0, maximum=300.0) for n in range(0, 11)] == [
        0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 300.0
    ]  # fmt: skip
    assert backoff_delay(10_000, initial=1.0, maximum=300.0) == 300.0

    indicators.hops.registry.mode = "refused"
    indicators.followers.start(interval=0.01, backoff_initial=0.1, backoff_max=0.4)

    async def failed_once() -> bool:
        return await _failures(indicators) >= 1

    await eventually(failed_once)
    await asyncio.sleep(1.5)
    failures = await _failures(indicators)
    await indicators.followers.stop()
    # after the first failure it waits 0.1, 0.2, 0.4, 0.4 … s: about 5 more attempts in 1.5 s (a loop
    # without backoff, at the 0.01 s interval, would make over a hundred)
    assert 3 <= failures <= 8


async def test_a_poll_that_fails_raises_and_is_recorded(indicators: Indicators) -> None:
    indicators.hops.registry.mode = "unavailable"
    follower = indicators.followers["registry"]
    with pytest.raises(FollowError) as failed:
        await follower.poll_once()
    assert failed.value.code == "upstream_error"
    assert await follower.stored_cursor() is None


async def test_writes_in_the_registry_and_contracts_reach_the_read_model(
    indicators: Indicators, live: Live
) -> None:
    w = Writer(live)
    indicators.followers.start(interval=0.05, backoff_initial=0.05, backoff_max=0.2)
    hospital = await w.institution("350206", "medical", ownership="public", elderly_green_channel=True)
    home = await w.institution("350203", beds_elderly_care=150, residents=120)

    async def institutions_in() -> bool:
        rows = [await fact(indicators.database, InstitutionFact, i["id"]) for i in (hospital, home)]
        return all(row is not None for row in rows)

    await eventually(institutions_in)
    row = await fact(indicators.database, InstitutionFact, hospital["id"])
    assert (row.kind, row.category, row.hospital_grade, row.ownership, row.elderly_green_channel) == (
        "medical",
        hospital["category"],
        hospital["hospital_grade"],
        "public",
        True,
    )
    assert row.region_code == "350206"

    changed = await w.update_institution(home, beds_elderly_care=160)

    async def updated() -> bool:
        row = await fact(indicators.database, InstitutionFact, home["id"])
        return row is not None and row.version == changed["version"]

    await eventually(updated)
    assert (await fact(indicators.database, InstitutionFact, home["id"])).beds_elderly_care == 160

    # a cross-region agreement (湖里 hospital, 思明 home): both parties' regions are kept
    agreement = await w.agreement(hospital, home)

    async def agreement_in() -> bool:
        row = await fact(indicators.database, AgreementFact, agreement["id"])
        return row is not None and row.state == agreement["state"]

    await eventually(agreement_in)
    row = await fact(indicators.database, AgreementFact, agreement["id"])
    assert (row.medical_institution_id, row.elderly_institution_id) == (
        uuid.UUID(hospital["id"]),
        uuid.UUID(home["id"]),
    )
    assert (row.medical_region_code, row.elderly_region_code, row.region_code) == (
        "350206",
        "350203",
        "350203",
    )
    assert str(row.start_date) == agreement["start_date"]


async def test_the_indicators_read_only_the_feeds_they_need(
    indicators: Indicators, platform: tuple[FastAPI, FastAPI]
) -> None:
    gateway_app, _ = platform
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gateway_app), base_url="http://gw"
    ) as http:
        headers = await service_headers(http, indicators.settings.service_client_secret, "registry")
        wanted = await http.get(
            "/api/v1/registry/changes", params={"entity_types": "institution,filing"}, headers=headers
        )
        assert wanted.status_code == 200, wanted.text
        practitioners = await http.get(
            "/api/v1/registry/changes", params={"entity_types": "practitioner"}, headers=headers
        )
        assert practitioners.status_code == 403
        assert practitioners.json()["code"] == "entity_type_forbidden"
        listing = await http.get("/api/v1/registry/practitioners", headers=headers)
        assert listing.status_code == 403


async def test_an_order_placed_and_cancelled_in_homecare_reaches_the_read_model(
    indicators: Indicators, live: Live
) -> None:
    w = Writer(live)
    provider = await w.provider("350206")
    order = await w.order(provider, await w.recipient(provider))
    await indicators.followers["homecare"].catch_up()
    row = await fact(indicators.database, OrderFact, order["id"])
    assert (row.institution_id, row.status, row.region_code) == (
        uuid.UUID(provider["id"]),
        "submitted",
        "350206",
    )

    cancelled = await w.cancel_order(provider, order)
    await indicators.followers["homecare"].catch_up()
    row = await fact(indicators.database, OrderFact, order["id"])
    assert (row.status, row.version) == ("cancelled", cancelled["version"])
