"""Every residents endpoint that reads or writes one record by id keeps it to the caller's scope: a
record made in 湖里 (350206) by one primary-care institution is invisible to an official of another
county (思明) or city (福州), to another city's platform and to the users of another institution: reads and
writes answer 404 (a write to a record the caller cannot see is not answered 403, which would reveal it).

Outsiders and helpers are shared with the other services (``tests/scope_matrix.py``). Table-driven: a
by-id endpoint without a row in :data:`RECORD_OF` fails ``test_every_by_id_endpoint_has_a_row``; each
kind of record is made by ``scoped_record`` (tests/residents/world.py). Only callers whose role may call
the endpoint at all (the expected table in ``test_access_matrix``) are tried.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from tests.access_matrix import concrete
from tests.residents.test_access_matrix import MATRIX
from tests.residents.world import RES, World, scoped_record
from tests.scope_matrix import OUTSIDERS, by_id_operations, example_body, outsider_headers

#: by-id endpoint → the kind of record its path names (what the test creates in 湖里 before calling it)
RECORD_OF: dict[tuple[str, str], str] = {
    ("GET", "/persons/{person_id}"): "person",
    ("PATCH", "/persons/{person_id}"): "person",
    ("GET", "/teams/{team_id}"): "team",
    ("PATCH", "/teams/{team_id}"): "team",
    ("POST", "/teams/{team_id}/members"): "team",
    ("DELETE", "/teams/{team_id}/members/{practitioner_id}"): "team",
    ("POST", "/teams/{team_id}/deactivate"): "team",
    ("GET", "/packages/{package_id}"): "package",
    ("POST", "/packages/{package_id}/revise"): "package",
    ("POST", "/packages/{package_id}/retire"): "package",
    ("GET", "/signings/{signing_id}"): "signing",
    ("POST", "/signings/{signing_id}/renew"): "signing",
    ("POST", "/signings/{signing_id}/terminate"): "signing",
    ("GET", "/checkups/{checkup_id}"): "checkup",
    ("GET", "/assessments/{assessment_id}"): "assessment",
    ("GET", "/persons/{person_id}/assessments/latest"): "assessed_person",
    ("GET", "/care-services/{care_service_id}"): "care_service",
}
#: the path parameter that names a record of each kind
PATH_KEY = {
    "person": "person_id",
    "team": "team_id",
    "package": "package_id",
    "signing": "signing_id",
    "checkup": "checkup_id",
    "assessment": "assessment_id",
    "assessed_person": "person_id",
    "care_service": "care_service_id",
}


#: by-id endpoints no user role may call (homecare's service token only, which sees every person as every
#: internal caller does): there is no outsider to try (tests/residents/persons/test_identity_check.py)
SERVICE_ONLY = {("POST", "/persons/{person_id}/identity-check")}


def test_every_by_id_endpoint_has_a_row(residents_app: FastAPI) -> None:
    assert by_id_operations(MATRIX, RES) == set(RECORD_OF) | SERVICE_ONLY


@pytest.mark.parametrize(
    ("method", "path"), sorted(RECORD_OF), ids=[f"{m} {p}" for m, p in sorted(RECORD_OF)]
)
async def test_a_record_of_another_region_or_institution_is_out_of_reach(
    world: World, residents_app: FastAPI, method: str, path: str
) -> None:
    kind = RECORD_OF[(method, path)]
    inst = await world.primary_care()
    url = RES + concrete(path, {PATH_KEY[kind]: await scoped_record(world, inst, kind)})
    allowed = MATRIX[(method, RES + path)]
    tried = 0
    for label, role, region in OUTSIDERS:
        if not allowed[role]:
            continue
        tried += 1
        headers = {**outsider_headers(world.tokens, role, region), "If-Match": "*"}
        response = await world.client.request(
            method, url, json=example_body(residents_app, method, RES + path), headers=headers
        )
        assert response.status_code == 404, (label, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), label
    assert tried, "no outsider may call this endpoint at all: drop the row"
