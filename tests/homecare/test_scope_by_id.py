"""Every homecare endpoint that reads or writes one record by id keeps it to the caller's scope: a record
made in 湖里 (350206) by one provider is invisible to an official of another county (思明) or city (福州),
to another city's platform and to the users of another institution: reads and writes answer 404 (root
README "Where this departs from the agreed design": a write to a record the caller cannot see is not
answered 403, which would reveal it).

Outsiders and helpers are shared with the other services (``tests/scope_matrix.py``). Table-driven: a
by-id endpoint without a row in :data:`RECORD_OF` fails ``test_every_by_id_endpoint_has_a_row``. Only
callers whose role may call the endpoint at all (the expected table in ``test_access_matrix``) are tried:
for the others the permission check already answers 403.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.homecare.attachments.test_scope import NOT_A_RECORD as ATTACHMENTS_NOT_A_RECORD
from tests.homecare.attachments.test_scope import WALKED as ATTACHMENTS_WALKED
from tests.homecare.test_access_matrix import MATRIX
from tests.homecare.world import HC, World, crew, scoped_record
from tests.scope_matrix import OUTSIDERS, by_id_operations, example_body, outsider_headers

#: by-id endpoint → the record its path names (what the test creates in 湖里 before calling it)
RECORD_OF: dict[tuple[str, str], str] = {
    ("GET", "/providers/{institution_id}"): "provider",
    ("PUT", "/providers/{institution_id}"): "provider",
    ("PUT", "/providers/{institution_id}/items/{item_code}"): "provider",
    ("GET", "/recipients/{recipient_id}"): "recipient",
    ("PATCH", "/recipients/{recipient_id}"): "recipient",
    ("POST", "/recipients/{recipient_id}/elder-code"): "recipient",
    **{
        (method, f"/orders/{{order_id}}{tail}"): "order"
        for method, tail in [
            ("GET", ""),
            ("GET", "/visit-record"),
            *(
                ("POST", f"/{action}")
                for action in (
                    "assess accept reject assign depart check-in start check-out locations complete "
                    "cancel incident rate review-flags visit-record sos complaints unassign reschedule"
                ).split()
            ),
        ]
    },
    ("POST", "/sos/{alert_id}/resolve"): "sos",
    ("POST", "/complaints/{complaint_id}/resolve"): "complaint",
    ("GET", "/home-beds/{home_bed_id}"): "home_bed",
    ("GET", "/home-beds/{home_bed_id}/rounds"): "home_bed",
    **{
        ("POST", f"/home-beds/{{home_bed_id}}/{action}"): "home_bed"
        for action in ("assess", "open", "rounds", "reassess", "close", "withdraw")
    },
}
#: upserts keyed by an institution id, which is public (every role lists institutions): refusing another
#: institution's provider settings with 403 ``not_own_institution`` reveals nothing (README "creating
#: records outside its region" answers 403)
UPSERT_403: set[tuple[str, str]] = {
    ("PUT", "/providers/{institution_id}"),
    ("PUT", "/providers/{institution_id}/items/{item_code}"),
}


#: paths with a parameter that names no record of anyone's: a catalog item's record template (issue 18)
NOT_A_RECORD = {("GET", "/catalog/items/{item_code}/template")}


def test_every_by_id_endpoint_has_a_row(homecare_app: FastAPI) -> None:
    # the attachments' by-id endpoints are walked in tests/homecare/attachments/test_scope.py (they need
    # the attachment store and upload fixtures); PUT /attachments/{sha256} names content, not a record
    assert by_id_operations(MATRIX, HC) == (
        set(RECORD_OF) | ATTACHMENTS_WALKED | ATTACHMENTS_NOT_A_RECORD | NOT_A_RECORD
    )


#: the path parameter that names a record of each kind
PATH_KEY = {
    "provider": "institution_id",
    "recipient": "recipient_id",
    "home_bed": "home_bed_id",
    "order": "order_id",
    "complaint": "complaint_id",
    "sos": "alert_id",
}


async def _record(world: World, kind: str) -> dict[str, str]:
    """Make one record of ``kind`` in 湖里 (provider, recipient, order in service, ...); its path values."""
    record_id = await scoped_record(world, await crew(world), kind)
    return {PATH_KEY[kind]: record_id, "item_code": "HC01"}


@pytest.mark.parametrize(
    ("method", "path"), sorted(RECORD_OF), ids=[f"{m} {p}" for m, p in sorted(RECORD_OF)]
)
async def test_a_record_of_another_region_or_institution_is_out_of_reach(
    world: World, homecare_app: FastAPI, method: str, path: str
) -> None:
    values = await _record(world, RECORD_OF[(method, path)])
    url = HC + path.format(**values)
    allowed = MATRIX[(method, HC + path)]
    tried = 0
    for label, role, region in OUTSIDERS:
        if not allowed[role]:
            continue
        tried += 1
        headers = {**outsider_headers(world.tokens, role, region), "If-Match": "*"}
        response = await world.client.request(
            method, url, json=example_body(homecare_app, method, HC + path), headers=headers
        )
        if (method, path) in UPSERT_403 and response.status_code == 403:
            assert response.json()["code"] != "permission_denied", (label, response.text)
            continue
        # writes too: a record the caller cannot see is not revealed by a 403 (root README)
        assert response.status_code == 404, (label, response.status_code, response.text)
    assert tried, "no outsider may call this endpoint at all: drop the row"
