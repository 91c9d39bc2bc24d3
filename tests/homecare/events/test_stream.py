"""``GET /events`` as server-sent events (issue 18), over real HTTP on loopback: an event written after
the nurse connected reaches her (this worker's commit wakes the stream), a reconnection with
``Last-Event-ID`` misses nothing and repeats nothing, idle streams send heartbeats and end after their
lifetime, and the gateway passes the stream through as it comes (not buffered)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import TokenIssuer
from libs.common.testing import TestDatabases, make_settings, running
from services.gateway.app import create_app as create_gateway_app
from services.gateway.settings import GatewaySettings
from tests.homecare.events.sse import frames, next_event, serving_running
from tests.homecare.world import HC, World, crew, to_status

EVENTS = f"{HC}/events"


@pytest.fixture
async def homecare_url(homecare_app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    settings = homecare_app.state.settings
    monkeypatch.setattr(settings, "events_stream_seconds", 60.0)
    monkeypatch.setattr(settings, "events_heartbeat_seconds", 0.3)
    async with serving_running(homecare_app) as url:
        yield url


async def test_an_event_written_after_connecting_is_pushed(live_world: World, homecare_url: str) -> None:
    c = await crew(live_world)
    order = await live_world.order(c.provider, c.recipient["id"])
    await to_status(live_world, c, order, "accepted")
    async with (
        httpx.AsyncClient(base_url=homecare_url, timeout=10) as http,
        http.stream("GET", EVENTS, headers=live_world.staff(c.provider, c.nurse)) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = frames(response)
        ready = await next_event(stream)
        assert ready.event == "ready"
        assigned = await live_world.act(
            order["id"], "assign", live_world.admin(c.provider), {"nurse_practitioner_id": str(c.nurse)}
        )
        assert assigned.status_code == 200, assigned.text
        event = await next_event(stream, 5)
        assert event.event == "assigned"
        assert event.data is not None
        item = json.loads(event.data)
        assert item["order_id"] == order["id"]
        assert item["cursor"] == event.id


async def test_resume_from_last_event_id_misses_nothing_and_repeats_nothing(
    live_world: World, homecare_url: str
) -> None:
    c = await crew(live_world)
    orders = [await live_world.order(c.provider, c.recipient["id"], start=None) for _ in range(1)]
    order = orders[0]
    await to_status(live_world, c, order, "accepted")
    admin, nurse = live_world.admin(c.provider), live_world.staff(c.provider, c.nurse)
    assign = {"nurse_practitioner_id": str(c.nurse)}
    async with httpx.AsyncClient(base_url=homecare_url, timeout=10) as http:
        async with http.stream("GET", EVENTS, headers=nurse) as response:
            stream = frames(response)
            start = (await next_event(stream)).id
            assert (await live_world.act(order["id"], "assign", admin, assign)).status_code == 200
            assert (await live_world.act(order["id"], "unassign", admin, {})).status_code == 200
            first = [await next_event(stream, 5), await next_event(stream, 5)]
        assert [f.event for f in first] == ["assigned", "unassigned"]
        # while the nurse is away: assigned again, then cancelled
        assert (await live_world.act(order["id"], "assign", admin, assign)).status_code == 200
        assert (await live_world.act(order["id"], "cancel", admin, {})).status_code == 200
        async with http.stream(
            "GET", EVENTS, headers={**nurse, "Last-Event-ID": str(first[-1].id)}
        ) as response:
            stream = frames(response)
            ready = await next_event(stream)
            assert ready.id == first[-1].id
            missed = [await next_event(stream, 5), await next_event(stream, 5)]
        assert [f.event for f in missed] == ["assigned", "cancelled"]
        # the whole story again from where the first stream started, once each
        async with http.stream("GET", EVENTS, params={"after": start}, headers=nurse) as response:
            stream = frames(response)
            await next_event(stream)
            story = [await next_event(stream, 5) for _ in range(4)]
        assert [f.id for f in story] == [f.id for f in first + missed]
        assert len({f.id for f in story}) == 4
    feed = await live_world.client.get(f"{EVENTS}/feed", params={"after": start}, headers=nurse)
    assert [i["cursor"] for i in feed.json()["items"]] == [f.id for f in story]


async def test_an_idle_stream_beats_and_ends_after_its_lifetime(
    live_world: World, homecare_app: FastAPI, homecare_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(homecare_app.state.settings, "events_stream_seconds", 1.0)
    c = await crew(live_world)
    async with (
        httpx.AsyncClient(base_url=homecare_url, timeout=10) as http,
        http.stream("GET", EVENTS, headers=live_world.staff(c.provider, c.nurse)) as response,
    ):
        got = [frame async for frame in frames(response)]  # ends by itself
    assert got[0].event == "ready"
    assert any(f.comment == "heartbeat" for f in got)


async def test_a_forged_last_event_id_is_refused_before_the_stream_starts(
    live_world: World, homecare_url: str
) -> None:
    c = await crew(live_world)
    async with httpx.AsyncClient(base_url=homecare_url, timeout=10) as http:
        refused = await http.get(
            EVENTS, headers={**live_world.staff(c.provider, c.nurse), "Last-Event-ID": "not-a-cursor"}
        )
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_cursor"


@pytest.fixture
async def gateway_url(
    test_databases: TestDatabases, token_issuer: TokenIssuer, homecare_url: str
) -> AsyncIterator[str]:
    gateway = create_gateway_app(
        make_settings(GatewaySettings, test_databases, homecare_url=homecare_url), issuer=token_issuer
    )
    async with running(gateway), serving_running(gateway) as url:
        yield url


async def test_the_gateway_streams_the_events_through_unbuffered(live_world: World, gateway_url: str) -> None:
    c = await crew(live_world)
    order = await live_world.order(c.provider, c.recipient["id"])
    await to_status(live_world, c, order, "accepted")
    async with (
        httpx.AsyncClient(base_url=gateway_url, timeout=10) as http,
        http.stream("GET", EVENTS, headers=live_world.staff(c.provider, c.nurse)) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = frames(response)
        assert (await next_event(stream)).event == "ready"
        # heartbeats arrive one by one while nothing happens: the gateway does not hold the body back
        beat = await anext(stream)
        assert beat.comment == "heartbeat"
        assigned = await live_world.act(
            order["id"], "assign", live_world.admin(c.provider), {"nurse_practitioner_id": str(c.nurse)}
        )
        assert assigned.status_code == 200, assigned.text
        event = await next_event(stream, 5)
        assert event.event == "assigned"
