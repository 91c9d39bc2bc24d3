"""A bounded mixed load on loopback through the gateway: county staff writing institutions with
Idempotency-Keys (retrying with the same key, as the mobile apps do), officials listing, and a city
platform pushing bulk upserts — 20 concurrent clients for about 12 seconds. Afterwards every
acknowledged write is looked up through the API: zero lost, zero duplicated, zero 5xx. The figures are
printed for docs/RELIABILITY.md; no time is asserted.

(The issue names nurses' visit records; the registry's institution writes stand in for them here: they
go through the same idempotent write path, session and gateway.)"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import TestDatabases
from tests.faults.processes import processes
from tests.faults.workload import Ledger, names_found
from tests.registry.factories import INSTITUTIONS, institution_body, unique_uscc

pytestmark = pytest.mark.e2e

SECONDS = 12.0
WRITERS, READERS, PLATFORMS = 10, 8, 2
BULK_RECORDS = 10


async def test_mixed_load_loses_no_acknowledged_write_and_gives_no_5xx(
    tmp_path: Path, test_databases: TestDatabases
) -> None:
    ledger = Ledger()
    bulk_statuses: Counter[int] = Counter()
    bulk_created: dict[str, str] = {}  # name → id acknowledged by a bulk push
    latencies: list[float] = []
    with processes(
        tmp_path, database_url=test_databases.postgres_url or "", schema_prefix="load"
    ) as platform:
        await platform.start("gateway")
        await platform.start("registry")
        county = platform.tokens.headers(Role.county_admin, "350206")
        official = platform.tokens.headers(Role.city_admin, "350200")
        city_platform = platform.tokens.headers(Role.city_platform, "350200", sub="client:xm_city_platform")
        deadline = time.monotonic() + SECONDS
        limits = httpx.Limits(max_connections=WRITERS + READERS + PLATFORMS)
        async with httpx.AsyncClient(base_url=platform.urls["gateway"], timeout=30, limits=limits) as client:

            async def writer() -> None:
                while time.monotonic() < deadline:
                    key = ledger.new_key()
                    for _attempt in range(5):  # a retry reuses the key
                        started = time.monotonic()
                        response = await ledger.write(client, county, key)
                        latencies.append(time.monotonic() - started)
                        if response is not None and response.status_code < 500:
                            break

            async def reader() -> None:
                while time.monotonic() < deadline:
                    started = time.monotonic()
                    await ledger.read(client, official)
                    latencies.append(time.monotonic() - started)

            async def pusher() -> None:
                while time.monotonic() < deadline:
                    batch = uuid.uuid4().hex[:8]
                    records = [
                        {
                            "external_id": f"{batch}-{n}",
                            **institution_body(name=f"{ledger.prefix}平台{batch}-{n}", uscc=unique_uscc()),
                        }
                        for n in range(BULK_RECORDS)
                    ]
                    started = time.monotonic()
                    ledger.requests += 1
                    response = await client.post(
                        f"{INSTITUTIONS}/bulk",
                        json={"source_system": "load-test", "records": records},
                        headers=city_platform,
                    )
                    latencies.append(time.monotonic() - started)
                    bulk_statuses[response.status_code] += 1
                    ledger.statuses[response.status_code] += 1
                    if response.status_code == 200:
                        for record, result in zip(records, response.json()["results"], strict=True):
                            if result["status"] == "created":
                                bulk_created[record["name"]] = result["id"]

            started = time.monotonic()
            await asyncio.gather(
                *(writer() for _ in range(WRITERS)),
                *(reader() for _ in range(READERS)),
                *(pusher() for _ in range(PLATFORMS)),
            )
            elapsed = time.monotonic() - started
            found = await names_found(client, county, ledger.prefix)

    single_names = {ledger.bodies[key]["name"] for key in ledger.acknowledged}
    latencies.sort()
    print(
        f"\nmixed load: {WRITERS + READERS + PLATFORMS} clients, {elapsed:.1f}s, {ledger.requests} requests "
        f"({ledger.requests / elapsed:.0f}/s), statuses {dict(ledger.statuses)}, transport errors "
        f"{ledger.transport_errors}; p50 {latencies[len(latencies) // 2] * 1000:.0f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.0f} ms; single writes acknowledged "
        f"{len(ledger.acknowledged)}, bulk records created {len(bulk_created)}, found {len(found)}"
    )
    assert ledger.server_errors == 0
    assert ledger.transport_errors == 0
    assert sorted(found) == sorted(single_names | set(bulk_created))  # none lost, none twice
    assert len(found) == len(ledger.acknowledged) + len(bulk_created)
