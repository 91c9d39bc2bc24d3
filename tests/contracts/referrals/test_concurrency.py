"""One open referral per resident when the resident already has referral history: races on state that
already exists, with requests that really commit (PostgreSQL only)."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from fastapi import FastAPI

from libs.common.testing import Tokens, live_client
from tests.contracts.conftest import LIVE_REGION
from tests.contracts.flows import admin_of, signed
from tests.contracts.referrals.test_router import REFERRALS, referral_body, with_check
from tests.contracts.registry_data import RegistryData

_SEQUENCE = itertools.count(100)


def _unique_id_number() -> str:
    """A valid ID number unique to this module (its own birth date; check character computed)."""
    return with_check("350702" + "19410202" + f"{next(_SEQUENCE):03d}")


@pytest.mark.postgres_only
async def test_burst_for_a_resident_with_a_closed_referral_opens_exactly_one(
    live_registry: RegistryData, tokens: Tokens, contracts_app: FastAPI
) -> None:
    """The resident's earlier referral is closed (cancelled) and another resident's is open under the
    same agreement; six concurrent requests for the resident open exactly one referral (rules.md:
    one open referral per resident at a time)."""
    medical, elderly = await live_registry.medical(LIVE_REGION), await live_registry.elderly(LIVE_REGION)
    resident, neighbour = _unique_id_number(), _unique_id_number()
    elderly_admin = admin_of(tokens, elderly)
    async with live_client(contracts_app) as client:
        agreement = await signed(client, tokens, medical, elderly, start_date="2026-03-01")
        earlier = await client.post(
            REFERRALS, json=referral_body(agreement, id_number=resident), headers=elderly_admin
        )
        assert earlier.status_code == 201, earlier.text
        cancelled = await client.post(
            f"{REFERRALS}/{earlier.json()['id']}/cancel",
            json={"reason": "病情缓解"},
            headers={**elderly_admin, "If-Match": f'"{earlier.json()["version"]}"'},
        )
        assert cancelled.status_code == 200, cancelled.text
        other = await client.post(
            REFERRALS, json=referral_body(agreement, id_number=neighbour), headers=elderly_admin
        )
        assert other.status_code == 201, other.text

        body = referral_body(agreement, id_number=resident)
        responses = await asyncio.gather(
            *(client.post(REFERRALS, json=body, headers=elderly_admin) for _ in range(6))
        )
        codes = sorted(r.status_code for r in responses)
        assert codes == [201, 409, 409, 409, 409, 409], [r.text for r in responses]
        assert {r.json()["code"] for r in responses if r.status_code == 409} == {"open_referral_exists"}

        found = await client.get(REFERRALS, params={"resident_id_number": resident}, headers=elderly_admin)
    states = sorted(item["state"] for item in found.json()["items"])
    assert states == ["cancelled", "requested"], found.text
