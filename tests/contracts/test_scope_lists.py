"""Every contracts list shows a caller only the records of its scope: an agreement (with a referral) in
湖里 350206, one in 思明 350203 and one in 福州 仓山 350104 (both parties in that county; an agreement's
region is its elderly-care party's county). 湖里's county admin lists only 湖里's, 厦门's city admin and
platform both Xiamen ones but not 福州's, the province all three, the 湖里 institution's users only theirs
(viewers in ``tests/scope_matrix.py``).

Table-driven: a cursor-paged list without a row in :data:`LISTS` fails ``test_every_list_has_a_row``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from libs.common.testing import Tokens
from tests.contracts.flows import admin_of, signed
from tests.contracts.referrals.test_router import REFERRALS, referral_body, with_check
from tests.contracts.registry_data import RegistryData
from tests.contracts.test_access_matrix import MATRIX
from tests.scope_matrix import REGIONS, assert_lists_keep_to_scope, paged_lists

C = "/api/v1/contracts"
#: list → (the record it lists, the item field naming it, query parameters it needs)
LISTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "/agreements": ("agreement", "id", {}),
    "/referrals": ("referral", "id", {}),
    "/visits/shortfall/agreements": (
        "agreement",
        "agreement_id",
        {"period_start": "2026-03-01", "period_end": "2026-03-15"},
    ),
}
#: lists kept out of this table, with the reason
ELSEWHERE = {
    # the visits of one agreement: scoped by the agreement (test_scope_by_id.py)
    "/agreements/{agreement_id}/visits",
}


def test_every_list_has_a_row(contracts_app: FastAPI) -> None:
    assert paged_lists(contracts_app, C) == set(LISTS) | ELSEWHERE


async def _world(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> tuple[dict[str, dict[str, str]], dict[str, Any]]:
    """{record kind: {region label: id}} and the 湖里 elderly-care institution."""
    records: dict[str, dict[str, str]] = {"agreement": {}, "referral": {}}
    huli_elderly: dict[str, Any] = {}
    for n, (label, region) in enumerate(REGIONS.items()):
        medical, elderly = await registry.medical(region), await registry.elderly(region)
        agreement = await signed(client, tokens, medical, elderly, start_date="2026-03-01")
        referral = await client.post(
            REFERRALS,
            json=referral_body(agreement, id_number=with_check(f"{region}19400101{n:03d}")),
            headers=admin_of(tokens, elderly),
        )
        assert referral.status_code == 201, referral.text
        records["agreement"][label] = agreement["id"]
        records["referral"][label] = referral.json()["id"]
        if label == "huli":
            huli_elderly = elderly
    return records, huli_elderly


@pytest.mark.parametrize("path", sorted(LISTS))
async def test_a_list_shows_only_the_callers_scope(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, path: str
) -> None:
    records, institution = await _world(client, registry, tokens)
    kind, id_key, params = LISTS[path]
    row = MATRIX[("GET", C + path)]
    await assert_lists_keep_to_scope(
        client, tokens, row, C + path, records[kind], institution, params, id_key
    )
