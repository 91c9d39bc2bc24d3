"""PostgreSQL cut off under load (through a TCP proxy: every connection reset, new ones refused, for
three seconds) and restored: requests fail cleanly with a 503 problem during the outage — no hang, no
500 — and succeed after it without restarting any service (the pool's pre-ping replaces dead
connections). Writes retried with their Idempotency-Key exist exactly once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from libs.common.auth import Role
from libs.common.testing import TestDatabases
from tests.faults.processes import processes
from tests.faults.tcp_proxy import TcpProxy
from tests.faults.workload import Ledger, names_found

pytestmark = [pytest.mark.e2e, pytest.mark.postgres_only]

HULI = "350206"
OUTAGE_SECONDS = 3.0


async def test_requests_fail_cleanly_during_a_database_outage_and_succeed_after_it(
    tmp_path: Path, test_databases: TestDatabases
) -> None:
    assert test_databases.postgres_url is not None
    server = make_url(test_databases.postgres_url)
    proxy = TcpProxy(server.host or "127.0.0.1", server.port or 5432)
    await proxy.start()
    through_proxy = server.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
    ledger = Ledger()
    during: list[tuple[int, str, float]] = []  # status, code, seconds of requests sent in the outage
    outage = asyncio.Event()
    stop = asyncio.Event()
    try:
        with processes(
            tmp_path, database_url=test_databases.postgres_url, schema_prefix="outage"
        ) as platform:
            platform.set_env("registry", "DATABASE_URL", through_proxy)
            await platform.start("gateway")
            await platform.start("registry")
            headers = platform.tokens.headers(Role.county_admin, HULI)
            async with httpx.AsyncClient(base_url=platform.urls["gateway"], timeout=30) as client:

                async def worker(writes: bool) -> None:
                    while not stop.is_set():
                        started = time.monotonic()
                        response = (
                            await ledger.write(client, headers, ledger.new_key())
                            if writes
                            else await ledger.read(client, headers)
                        )
                        if outage.is_set() and response is not None and response.status_code >= 500:
                            code = response.json().get("code", "")
                            during.append((response.status_code, code, time.monotonic() - started))
                        await asyncio.sleep(0.02)

                workers = [asyncio.create_task(worker(writes=i % 2 == 0)) for i in range(6)]
                await asyncio.sleep(2)
                outage.set()
                await proxy.cut()
                await asyncio.sleep(OUTAGE_SECONDS)
                await proxy.start()  # the same port: the services reconnect by themselves
                outage.clear()
                await asyncio.sleep(3)
                stop.set()
                await asyncio.gather(*workers)

                after: list[int] = []
                for _ in range(10):
                    response = await ledger.write(client, headers, ledger.new_key())
                    assert response is not None
                    after.append(response.status_code)
                    listed = await ledger.read(client, headers)
                    assert listed is not None
                    after.append(listed.status_code)
                for key in ledger.unacknowledged():
                    retried = await ledger.write(client, headers, key)
                    assert retried is not None
                    assert retried.status_code == 201, retried.text
                names = await names_found(client, headers, ledger.prefix)
    finally:
        await proxy.close()

    print(
        f"\ndatabase outage {OUTAGE_SECONDS:.0f}s: {ledger.requests} requests, "
        f"statuses {dict(ledger.statuses)}, "
        f"transport errors {ledger.transport_errors}, answered in the outage {len(during)} "
        f"(slowest {max((s for *_, s in during), default=0):.2f}s), writes acknowledged "
        f"{len(ledger.acknowledged)}, found {len(names)}"
    )
    assert during, "no request met the outage"
    assert all(status == 503 and code == "database_unavailable" for status, code, _ in during), during
    assert max(seconds for *_, seconds in during) < 10
    assert ledger.transport_errors == 0
    assert set(after) <= {200, 201}, after
    assert len(ledger.acknowledged) == len(ledger.bodies)
    assert sorted(names) == sorted(body["name"] for body in ledger.bodies.values())
