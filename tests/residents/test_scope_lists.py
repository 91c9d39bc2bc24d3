"""Every residents list shows a caller only the records of its scope: a primary-care institution with a
record in 湖里 350206, one in 思明 350203 and one in 福州 仓山 350104. 湖里's county admin lists only
湖里's, 厦门's city admin and platform both Xiamen ones but not 福州's, the province all three, the 湖里
institution's users only their institution's (viewers in ``tests/scope_matrix.py``).

Table-driven: a cursor-paged list without a row in :data:`LISTS` fails ``test_every_list_has_a_row``.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.residents.checkups.records import owed_params
from tests.residents.test_access_matrix import MATRIX
from tests.residents.world import RES, World, scoped_record
from tests.scope_matrix import REGIONS, assert_lists_keep_to_scope, paged_lists

#: list → the kind of record it lists
LISTS: dict[str, str] = {
    "/persons": "person",
    "/teams": "team",
    "/packages": "package",
    "/signings": "signing",
    "/checkups": "checkup",
    "/assessments": "assessment",
    "/care-services": "care_service",
    "/care-services/owed": "assessment",
}
#: the item field naming the record, where it is not ``id``
ID_KEY: dict[str, str] = {"/care-services/owed": "assessment_id"}
#: the query a list needs (the owed list: the window of today, where the records are owed)
PARAMS: dict[str, dict[str, str]] = {"/care-services/owed": owed_params()}


def test_every_list_has_a_row(residents_app: FastAPI) -> None:
    assert paged_lists(residents_app, RES) == set(LISTS)


@pytest.mark.parametrize("path", sorted(LISTS))
async def test_a_list_shows_only_the_callers_scope(world: World, path: str) -> None:
    records: dict[str, str] = {}
    institution: dict[str, str] = {}
    for label, region in REGIONS.items():
        inst = await world.primary_care(region_code=region)
        records[label] = await scoped_record(world, inst, LISTS[path])
        if label == "huli":
            institution = {"id": str(inst.id), "region_code": region}
    row = MATRIX[("GET", RES + path)]
    await assert_lists_keep_to_scope(
        world.client,
        world.tokens,
        row,
        RES + path,
        records,
        institution,
        params=PARAMS.get(path),
        id_key=ID_KEY.get(path, "id"),
    )
