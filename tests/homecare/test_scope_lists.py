"""Every homecare list shows a caller only the records of its scope: a provider (with a recipient, an
order, a complaint, a home bed or an SOS alert) in 湖里 350206, one in 思明 350203 and one in 福州 仓山
350104, each serving a recipient of its own county. 湖里's county admin lists only 湖里's, 厦门's city
admin and platform both Xiamen ones but not 福州's, the province all three, the 湖里 provider's users only
their institution's (viewers in ``tests/scope_matrix.py``).

Table-driven: a cursor-paged list without a row in :data:`LISTS` fails ``test_every_list_has_a_row``.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.homecare.test_access_matrix import MATRIX
from tests.homecare.world import HC, Crew, World, id_number, scoped_record
from tests.scope_matrix import CANGSHAN, HULI, REGIONS, SIMING, assert_lists_keep_to_scope, paged_lists

ADDRESSES = {
    HULI: "福建省厦门市湖里区江头街道台湾街 88 号",
    SIMING: "福建省厦门市思明区鹭江道 8 号",
    CANGSHAN: "福建省福州市仓山区上渡路 1 号",
}
#: list → the record it lists
LISTS: dict[str, str] = {
    "/providers": "provider",
    "/recipients": "recipient",
    "/orders": "order",
    "/complaints": "complaint",
    "/home-beds": "home_bed",
    "/sos": "sos",
}

#: the item field naming the record, where it is not ``id``
ID_KEY = {"/providers": "institution_id"}


def test_every_list_has_a_row(homecare_app: FastAPI) -> None:
    assert paged_lists(homecare_app, HC) == set(LISTS)


async def _crew(world: World, region: str) -> Crew:
    provider = await world.provider(region_code=region)
    nurse = await world.practitioner(provider, item_codes=["HC20"])
    doctor = await world.practitioner(provider, kind="doctor")
    recipient = await world.recipient(
        provider, region_code=region, id_number=id_number(region), address=ADDRESSES[region]
    )
    return Crew(provider, nurse, nurse, doctor, recipient)


@pytest.mark.parametrize("path", sorted(LISTS))
async def test_a_list_shows_only_the_callers_scope(world: World, path: str) -> None:
    records: dict[str, str] = {}
    institution: dict[str, str] = {}
    for label, region in REGIONS.items():
        c = await _crew(world, region)
        records[label] = await scoped_record(world, c, LISTS[path])
        if label == "huli":
            institution = {"id": str(c.provider.id), "region_code": region}
    row = MATRIX[("GET", HC + path)]
    await assert_lists_keep_to_scope(
        world.client, world.tokens, row, HC + path, records, institution, id_key=ID_KEY.get(path, "id")
    )
