"""The county's 待备案 list, ``GET /agreements?awaiting_filing=true`` (issue 15: the county's "agreements
awaiting 备案" page).

Expected from the rules, not from the code: 备案 is the county health bureau's record of a *signed*
agreement, made once (contracts README: ``POST /agreements/{id}/file`` for countersigned, active or
expired agreements not yet filed); it belongs to the elderly-care party's county (ARCHITECTURE.md: an
agreement belongs to its elderly-care party's county; README *Cross-region agreements*: the medical party's
county reads the agreement but may not file it). So the list holds signed, unfiled agreements; a draft, a
submitted, a terminated or a filed one is not waiting; the home's county sees its cross-county agreement
there, the hospital's county does not (it still reads it in the plain list); a party sees its own.
"""

from __future__ import annotations

from typing import Any

import httpx

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.contracts.flows import AGREEMENTS, admin_of, draft, signed, transition
from tests.contracts.registry_data import RegistryData

SIMING, HULI, XIAMEN = "350203", "350206", "350200"


async def _ids(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> set[str]:
    ids: set[str] = set()
    cursor: str | None = None
    while True:
        query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(AGREEMENTS, params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        ids |= {item["id"] for item in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


async def test_the_county_lists_its_signed_agreements_not_yet_filed(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    huli_hospital, siming_hospital = await registry.medical(HULI), await registry.medical(SIMING)
    homes = [await registry.elderly(HULI) for _ in range(6)]
    integrated = await registry.integrated(HULI)
    huli = tokens.headers(Role.county_admin, HULI)

    active = await signed(client, tokens, huli_hospital, homes[0], start_date="2026-03-01")
    waiting_to_start = await signed(client, tokens, huli_hospital, homes[1], start_date="2026-05-01")
    cross_county = await signed(client, tokens, siming_hospital, homes[2], start_date="2026-03-01")
    with_integrated = await signed(client, tokens, huli_hospital, integrated, start_date="2026-03-01")
    filed = await signed(client, tokens, huli_hospital, homes[3], start_date="2026-03-01")
    assert (await transition(client, filed, "file", huli, json={"note": "予以备案"})).status_code == 200
    terminated = await signed(client, tokens, huli_hospital, homes[4], start_date="2026-03-01")
    ended = await transition(
        client, terminated, "terminate", admin_of(tokens, homes[4]), json={"reason": "停业"}
    )
    assert ended.status_code == 200, ended.text
    drafted = await draft(client, tokens, huli_hospital, homes[5])
    submitted = await transition(
        client, await draft(client, tokens, siming_hospital, homes[5]), "submit", admin_of(tokens, homes[5])
    )
    assert submitted.status_code == 200, submitted.text

    waiting = {active["id"], waiting_to_start["id"], cross_county["id"], with_integrated["id"]}
    assert await _ids(client, huli, awaiting_filing="true") == waiting
    # the plain list still holds everything of the county
    assert await _ids(client, huli) >= waiting | {filed["id"], terminated["id"], drafted["id"]}
    # combined with the effective status
    assert await _ids(client, huli, awaiting_filing="true", status="countersigned") == {
        waiting_to_start["id"]
    }

    # the hospital's county reads the cross-county agreement but does not file it: not waiting there
    siming = tokens.headers(Role.county_admin, SIMING)
    assert cross_county["id"] in await _ids(client, siming)
    assert await _ids(client, siming, awaiting_filing="true") == set()
    # the city sees what its counties file
    assert await _ids(client, tokens.headers(Role.city_admin, XIAMEN), awaiting_filing="true") == waiting
    # a party sees its own agreements waiting
    assert await _ids(client, admin_of(tokens, huli_hospital), awaiting_filing="true") == {
        active["id"],
        waiting_to_start["id"],
        with_integrated["id"],
    }
    assert await _ids(client, admin_of(tokens, homes[3]), awaiting_filing="true") == set()


async def test_filing_takes_the_agreement_off_the_list(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    agreement = await signed(client, tokens, await registry.medical(HULI), await registry.elderly(HULI))
    huli = tokens.headers(Role.county_admin, HULI)
    assert await _ids(client, huli, awaiting_filing="true") == {agreement["id"]}
    assert (await transition(client, agreement, "file", huli, json={})).status_code == 200
    assert await _ids(client, huli, awaiting_filing="true") == set()
