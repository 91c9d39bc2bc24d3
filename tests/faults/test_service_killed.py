"""A service killed in the middle of a flow (SIGKILL, no shutdown): the gateway answers 502/504 within a
second, the flow resumes when the service is started again, and nothing is half-written — each write
retried with its Idempotency-Key exists exactly once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import TestDatabases
from tests.faults.processes import processes
from tests.faults.workload import Ledger, names_found

pytestmark = pytest.mark.e2e

HULI = "350206"


async def test_a_killed_service_fails_fast_and_the_flow_resumes_after_restart(
    tmp_path: Path, test_databases: TestDatabases
) -> None:
    with processes(
        tmp_path, database_url=test_databases.postgres_url or "", schema_prefix="kill"
    ) as platform:
        await platform.start("gateway")
        await platform.start("registry")
        headers = platform.tokens.headers(Role.county_admin, HULI)
        ledger = Ledger()
        async with httpx.AsyncClient(base_url=platform.urls["gateway"], timeout=10) as client:
            for _ in range(8):
                response = await ledger.write(client, headers, ledger.new_key())
                assert response is not None
                assert response.status_code == 201, response.text

            # writes in flight when the registry dies
            in_flight = [
                asyncio.create_task(ledger.write(client, headers, ledger.new_key())) for _ in range(8)
            ]
            await asyncio.sleep(0.05)
            platform.kill("registry")
            for outcome in await asyncio.gather(*in_flight):
                assert outcome is None or outcome.status_code in (201, 502, 504), outcome.text

            # while it is down: each write and read is a 502/504 problem, answered within a second
            for _ in range(6):
                started = time.monotonic()
                response = await ledger.write(client, headers, ledger.new_key())
                assert response is not None
                assert response.status_code in (502, 504), response.text
                assert response.headers["content-type"] == "application/problem+json"
                assert time.monotonic() - started < 1.0
                started = time.monotonic()
                listed = await ledger.read(client, headers)
                assert listed is not None
                assert listed.status_code in (502, 504)
                assert time.monotonic() - started < 1.0

            await platform.start("registry")
            # the client retries what was not acknowledged, with the same keys
            for key in ledger.unacknowledged():
                response = await ledger.write(client, headers, key)
                assert response is not None
                assert response.status_code == 201, response.text

            names = await names_found(client, headers, ledger.prefix)
            for institution_id in ledger.acknowledged.values():
                fetched = await client.get(f"/api/v1/registry/institutions/{institution_id}", headers=headers)
                assert fetched.status_code == 200, fetched.text
        assert len(ledger.acknowledged) == len(ledger.bodies)
        assert sorted(names) == sorted(body["name"] for body in ledger.bodies.values())  # once each
        print(
            f"\nkilled service: {ledger.requests} requests, statuses {dict(ledger.statuses)}, "
            f"transport errors {ledger.transport_errors}, "
            f"slowest failure {ledger.slowest_failure_seconds:.3f}s, "
            f"writes acknowledged {len(ledger.acknowledged)}, found {len(names)}"
        )
