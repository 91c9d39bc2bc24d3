"""The list filter ``?status=`` selects by *effective* status (README: reads report the stored state refined
by today's date, Asia/Shanghai): a signed agreement is 待生效 before its start date, in force from its start
date through its end date (both days included), expired after its end date; other states are as stored."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx

from libs.common.auth import Role
from libs.common.testing import Tokens
from services.contracts.clock import ManualClock
from tests.contracts.conftest import TODAY
from tests.contracts.flows import AGREEMENTS, admin_of, draft, signed, transition
from tests.contracts.registry_data import RegistryData


async def _listed(
    client: httpx.AsyncClient, tokens: Tokens, medical: dict[str, Any], status: str
) -> set[str]:
    response = await client.get(
        AGREEMENTS,
        params={"status": status, "institution_id": medical["id"], "limit": 200},
        headers=tokens.headers(Role.province_admin, "350000"),
    )
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


async def test_status_filter_follows_the_calendar_at_its_boundaries(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, clock: ManualClock
) -> None:
    assert date(2026, 3, 16) == TODAY
    medical = await registry.medical()
    # signed a year ago: still stored as active, but its end date (yesterday) has passed
    clock.set_today(date(2025, 3, 10))
    ended_yesterday = await signed(
        client, tokens, medical, await registry.elderly(), start_date="2025-03-01", end_date="2026-03-15"
    )
    ends_today = await signed(
        client, tokens, medical, await registry.elderly(), start_date="2025-03-17", end_date="2026-03-16"
    )
    clock.set_today(TODAY)
    starts_today = await signed(
        client, tokens, medical, await registry.elderly(), start_date="2026-03-16", end_date="2027-03-15"
    )
    starts_tomorrow = await signed(
        client, tokens, medical, await registry.elderly(), start_date="2026-03-17", end_date="2027-03-16"
    )
    drafted = await draft(client, tokens, medical, await registry.elderly(), start_date="2026-04-01")
    submitting = await registry.elderly()
    submitted = await transition(
        client, await draft(client, tokens, medical, submitting), "submit", admin_of(tokens, submitting)
    )
    assert submitted.status_code == 200, submitted.text
    assert ended_yesterday["state"] == "active"  # stored; the calendar job has not run

    assert await _listed(client, tokens, medical, "active") == {ends_today["id"], starts_today["id"]}
    assert await _listed(client, tokens, medical, "expired") == {ended_yesterday["id"]}
    assert await _listed(client, tokens, medical, "countersigned") == {starts_tomorrow["id"]}
    assert await _listed(client, tokens, medical, "draft") == {drafted["id"]}
    assert await _listed(client, tokens, medical, "submitted") == {submitted.json()["id"]}
