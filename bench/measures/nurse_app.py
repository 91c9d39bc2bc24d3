"""The nurse app's reads (issue 18's "done when"): the day's bundle of a nurse with 12 assignments, and
the order-event stream's delivery delay.

**Bundle.** The demo nurse 林晓燕 (厦门新开元医院) is given, through the API as her dispatcher would
(placed, assessed, accepted, assigned), enough orders tomorrow (Asia/Shanghai) for her bundle to hold 12
assignments; then ``GET /api/v1/homecare/nurse/bundle`` is read through the gateway, one request after
another for ``duration`` seconds: the body's size, p50 and p99 — and the same with ``If-None-Match`` (304,
what a phone pays when nothing changed).

**Event delay.** The nurse holds ``GET /api/v1/homecare/events`` (server-sent events) through the gateway;
her dispatcher reschedules one of her orders ``events`` times, one after the other; the delay is from the
reschedule's answer (its transaction, event included, has committed) to the event's arrival on the
stream: p50, p99, max, and any event that never came.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from bench.context import BenchContext, Section
from bench.measures.writes import (
    CREWS,
    SERVICE_GROUPS,
    Crew,
    SetupFailed,
    _bearer,
    _crew,
    _expect,
    _ms,
    claims,
)
from libs.common.clock import CHINA_TZ

BUNDLE = "/api/v1/homecare/nurse/bundle"
EVENTS = "/api/v1/homecare/events"
HC = "/api/v1/homecare"
ASSIGNMENTS = 12
#: reschedules timed on the stream (``python -m bench``; the smoke test passes fewer)
EVENTS_TIMED = 50


async def _assigned_order(
    client: httpx.AsyncClient, ctx: BenchContext, crew: Crew, start: datetime, minutes: int
) -> dict[str, Any] | None:
    """One order of ``crew`` at ``start`` assigned to its nurse; None when her slot is taken."""
    admin, assessor, nurse = (
        await ctx.token(crew.admin),
        await ctx.token(crew.assessor),
        await ctx.token(crew.nurse),
    )
    placed = await client.post(
        f"{ctx.gateway}{HC}/orders",
        json={
            "institution_id": crew.institution_id,
            "recipient_id": crew.recipient_id,
            "item_codes": [crew.item_code],
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(minutes=minutes)).isoformat(),
        },
        headers=_bearer(admin),
    )
    order = _expect(placed, 201)
    url = f"{ctx.gateway}{HC}/orders/{order['id']}"
    groups = [crew.service_group] if crew.service_group else list(SERVICE_GROUPS)
    for group in groups:
        response = await client.post(
            f"{url}/assess", json={"service_group": group}, headers={**_bearer(assessor), "If-Match": "*"}
        )
        if response.status_code == 200:
            crew.service_group = group
            break
    else:
        raise SetupFailed(f"assess refused every service group: {response.text[:300]}")
    _expect(await client.post(f"{url}/accept", headers={**_bearer(admin), "If-Match": "*"}), 200)
    assigned = await client.post(
        f"{url}/assign",
        json={"nurse_practitioner_id": str(claims(nurse)["practitioner_id"])},
        headers={**_bearer(admin), "If-Match": "*"},
    )
    if assigned.status_code == 409 and assigned.json().get("code") == "nurse_double_booked":
        return None
    return _expect(assigned, 200)


async def _timed_gets(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], seconds: float, status: int
) -> tuple[list[float], int]:
    latencies: list[float] = []
    size = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(latencies) < 5:
        started = time.perf_counter()
        response = await client.get(url, headers=headers)
        latencies.append(time.perf_counter() - started)
        if response.status_code != status:
            raise SetupFailed(f"GET {url}: {response.status_code} {response.text[:300]}")
        size = len(response.content)
    return latencies, size


async def bundle(client: httpx.AsyncClient, ctx: BenchContext, crew: Crew) -> Section:
    nurse = _bearer(await ctx.token(crew.nurse))
    url = f"{ctx.gateway}{BUNDLE}"
    held = len(_expect(await client.get(url, headers=nurse), 200)["assignments"])
    tomorrow = datetime.now(CHINA_TZ).date() + timedelta(days=1)
    slot = datetime.combine(tomorrow, datetime.min.time(), CHINA_TZ) + timedelta(hours=6)
    added = taken = 0
    while held + added < ASSIGNMENTS and slot.hour < 23:
        if await _assigned_order(client, ctx, crew, slot, 40) is None:
            taken += 1
        else:
            added += 1
        slot += timedelta(minutes=45)
    first = await client.get(url, headers=nurse)
    body = _expect(first, 200)
    count = len(body["assignments"])
    latencies, size = await _timed_gets(client, url, nurse, ctx.duration, 200)
    unchanged, _ = await _timed_gets(
        client, url, {**nurse, "If-None-Match": first.headers["etag"]}, ctx.duration, 304
    )
    return Section(
        title=f"7. Nurse app: the day's bundle ({ASSIGNMENTS} assignments)",
        columns=["request", "assignments", "bytes", "requests", "p50 ms", "p99 ms"],
        rows=[
            [
                "GET /nurse/bundle",
                str(count),
                str(size),
                str(len(latencies)),
                _ms(latencies, 0.5),
                _ms(latencies, 0.99),
            ],
            [
                "GET /nurse/bundle, If-None-Match (304)",
                str(count),
                "0",
                str(len(unchanged)),
                _ms(unchanged, 0.5),
                _ms(unchanged, 0.99),
            ],
        ],
        notes=[
            f"Scale {ctx.scale}, {ctx.database}; the demo nurse {crew.nurse} through the gateway, one "
            f"request at a time for {ctx.duration:g} s each. Her bundle held {held} assignment(s) of the "
            f"demo; {added} orders were placed and assigned to her tomorrow beforehand ({taken} slots "
            "already hers skipped). Each 200 writes one disclosure audit record per person; a 304 writes "
            "none.",
        ],
    )


@dataclass
class _Stream:
    arrived: dict[str, float]
    ready: asyncio.Event
    news: asyncio.Event


async def _listen(client: httpx.AsyncClient, url: str, headers: dict[str, str], stream: _Stream) -> None:
    fields: dict[str, str] = {}
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code != 200:
            raise SetupFailed(f"GET {url}: {response.status_code}")
        async for line in response.aiter_lines():
            if line == "":
                if fields.get("event") == "ready":
                    stream.ready.set()
                elif "data" in fields:
                    item = json.loads(fields["data"])
                    stream.arrived.setdefault(str(item["payload"].get("order_version")), time.perf_counter())
                    stream.news.set()
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")


async def event_delay(client: httpx.AsyncClient, ctx: BenchContext, crew: Crew, events: int) -> Section:
    nurse, admin = _bearer(await ctx.token(crew.nurse)), _bearer(await ctx.token(crew.admin))
    base = (datetime.now(CHINA_TZ) + timedelta(days=40 + random.SystemRandom().randrange(3000))).replace(
        minute=0, second=0, microsecond=0
    )
    order = None
    for hour in range(0, 200, 3):
        order = await _assigned_order(client, ctx, crew, base + timedelta(hours=hour), 60)
        if order is not None:
            break
    if order is None:
        raise SetupFailed("no free slot for the stream's order")
    start = datetime.fromisoformat(order["window_start"])
    stream = _Stream({}, asyncio.Event(), asyncio.Event())
    listener = asyncio.create_task(_listen(client, f"{ctx.gateway}{EVENTS}", nurse, stream))
    sent: dict[str, float] = {}
    writes: list[float] = []
    try:
        await asyncio.wait_for(stream.ready.wait(), 10)
        for n in range(events):
            at = start + timedelta(minutes=(n % 2) * 30)  # back and forth within her own hour
            began = time.perf_counter()
            moved = await client.post(
                f"{ctx.gateway}{HC}/orders/{order['id']}/reschedule",
                json={"window_start": at.isoformat(), "window_end": (at + timedelta(minutes=30)).isoformat()},
                headers={**admin, "If-Match": "*"},
            )
            answered = time.perf_counter()
            writes.append(answered - began)
            sent[str(_expect(moved, 200)["version"])] = answered
            deadline = answered + 5
            while True:
                stream.news.clear()  # before the check: an arrival right after it still wakes the wait
                if str(moved.json()["version"]) in stream.arrived or time.perf_counter() >= deadline:
                    break
                try:
                    await asyncio.wait_for(stream.news.wait(), max(deadline - time.perf_counter(), 0))
                except TimeoutError:
                    break
    finally:
        listener.cancel()
        try:
            await listener
        except (asyncio.CancelledError, httpx.HTTPError):
            pass
    delays = [max(stream.arrived[v] - t, 0.0) for v, t in sent.items() if v in stream.arrived]
    lost = len(sent) - len(delays)
    return Section(
        title="8. Nurse app: order-event delivery (SSE through the gateway)",
        columns=["events", "p50 ms", "p99 ms", "max ms", "not received in 5 s", "write p50 ms"],
        rows=[
            [
                str(len(sent)),
                _ms(delays, 0.5),
                _ms(delays, 0.99),
                _ms(delays, 1.0),
                str(lost),
                _ms(writes, 0.5),
            ]
        ],
        notes=[
            f"Scale {ctx.scale}, {ctx.database}; the nurse's stream and her dispatcher's reschedules both "
            "through the gateway, one event at a time; the delay runs from the reschedule's answer (its "
            "transaction, event included, has committed) to the event's arrival on the stream. The homecare "
            "worker that committed wakes its streams at once; another worker's events wait for the next poll "
            "(events_poll_seconds).",
        ],
    )


async def run(ctx: BenchContext, *, events: int = EVENTS_TIMED) -> list[Section]:
    async with httpx.AsyncClient(timeout=60) as client:
        crew = await _crew(client, ctx, CREWS[0])
        return [await bundle(client, ctx, crew), await event_delay(client, ctx, crew, events)]
