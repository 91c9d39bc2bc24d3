"""Every registry list shows a caller only the records of its scope: an institution (with a 备案 filing, a
practitioner and a 示范 application) in 湖里 350206, one in 思明 350203 and one in 福州 仓山 350104. 湖里's
county admin lists only 湖里's, 厦门's city admin and platform both Xiamen ones but not 福州's, the province
all three, the 湖里 institution's users only their institution's (viewers in ``tests/scope_matrix.py``).

Table-driven: a cursor-paged list without a row in :data:`LISTS` or :data:`ELSEWHERE` fails
``test_every_list_has_a_row``.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.contracts.referrals.test_router import with_check
from tests.registry.demonstration.flow import Flow
from tests.registry.factories import create_institution, practitioner_body
from tests.registry.filings.test_router import filing_body
from tests.registry.test_access_matrix import MATRIX
from tests.scope_matrix import REGIONS, assert_lists_keep_to_scope, paged_lists

R = "/api/v1/registry"
#: list → the record it lists
LISTS: dict[str, str] = {
    "/institutions": "institution",
    "/filings": "filing",
    "/practitioners": "practitioner",
    "/demonstration-applications": "application",
}
#: lists kept out of this table, with the reason
ELSEWHERE: dict[str, str] = {
    "/institutions/{institution_id}/history": "one institution's trail: scoped by it (test_scope_by_id.py)",
    "/demonstration-batches": "batches are the province's, for all Fujian (no region)",
    "/demonstration-applications/named": "public: the nation publishes its named demonstrations (README)",
    "/directory/institutions": "partners across counties by design; scope: tests/registry/directory",
}


def test_every_list_has_a_row(registry_app: FastAPI) -> None:
    assert paged_lists(registry_app, R) == set(LISTS) | set(ELSEWHERE)


async def _world(flow: Flow, kind: str) -> tuple[dict[str, str], dict[str, str]]:
    """{region label: id} of three records of ``kind`` and {id, region_code} of the 湖里 one's institution."""
    client, tokens = flow.client, flow.tokens
    records: dict[str, str] = {}
    huli_institution: dict[str, str] = {}
    batch = await flow.batch() if kind == "application" else None
    for n, (label, region) in enumerate(REGIONS.items()):
        if batch is not None:
            applicant = await flow.institution(region=region)
            institution_id = str(applicant)
            record_id = (await flow.apply_institution(batch["id"], applicant, region=region))["id"]
        else:
            institution_id = (await create_institution(client, tokens, region_code=region))["id"]
            county = tokens.headers(Role.county_admin, region)
            if kind == "institution":
                record_id = institution_id
            elif kind == "filing":
                filed = await client.post(f"{R}/filings", json=filing_body(institution_id), headers=county)
                assert filed.status_code == 201, filed.text
                record_id = filed.json()["id"]
            else:
                body = practitioner_body(institution_id, id_card=with_check(f"{region}19800101{n:03d}"))
                added = await client.post(f"{R}/practitioners", json=body, headers=county)
                assert added.status_code == 201, added.text
                record_id = added.json()["id"]
        records[label] = record_id
        if label == "huli":
            huli_institution = {"id": institution_id, "region_code": region}
    return records, huli_institution


@pytest.mark.parametrize("path", sorted(LISTS))
async def test_a_list_shows_only_the_callers_scope(flow: Flow, tokens: Tokens, path: str) -> None:
    records, institution = await _world(flow, LISTS[path])
    row = MATRIX[("GET", R + path)]
    await assert_lists_keep_to_scope(flow.client, tokens, row, R + path, records, institution)
