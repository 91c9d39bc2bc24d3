"""Every registry endpoint that names a record by id keeps it to the caller's scope: an institution in 湖里
(350206), its 备案 filing, its practitioner and its 示范 application (with an attachment) are invisible to
an official of another county (思明) or city (福州), to another city's platform and to the users of another
institution — reads and writes answer 404 (scope rules in ``tests/scope_matrix.py``; root README: a write
to a record the caller cannot see is not answered 403). A read by the province answers 200, so the 404 is
the scope's.

示范 applications: every role holds the read permission (demonstration README "read (all)"), but the same
README scopes them — "Out-of-scope applications are 404 for reads and transitions alike" — so reads are
tried here like writes. Only the list of *named* ones is public (the nation publishes it; no id in its
path). Batches are the province's, one for all of Fujian: they carry no region (:data:`UNSCOPED`).

Table-driven: a by-id endpoint in none of :data:`RECORD_OF`, :data:`UNSCOPED` and :data:`PROVINCE_ONLY`
fails ``test_every_by_id_endpoint_has_a_row``.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.registry.demonstration.flow import Flow
from tests.registry.factories import create_institution, practitioner_body
from tests.registry.filings.test_router import filing_body
from tests.registry.test_access_matrix import MATRIX
from tests.scope_matrix import HULI, assert_outsiders_get_404, by_id_operations, example_body

R = "/api/v1/registry"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
INSTITUTION = "/institutions/{institution_id}"
FILING = "/filings/{filing_id}"
PRACTITIONER = "/practitioners/{practitioner_id}"
APPLICATION = "/demonstration-applications/{application_id}"

#: by-id endpoint → the record its path names (made in 湖里 before the call)
RECORD_OF: dict[tuple[str, str], str] = {
    ("GET", INSTITUTION): "institution",
    ("PATCH", INSTITUTION): "institution",
    ("POST", f"{INSTITUTION}/deactivate"): "institution",
    ("POST", f"{INSTITUTION}/reactivate"): "institution",
    ("GET", f"{INSTITUTION}/history"): "institution",
    ("GET", f"{INSTITUTION}/year-stats"): "institution",
    ("PUT", f"{INSTITUTION}/year-stats/{{year}}"): "institution",
    ("GET", FILING): "filing",
    ("PATCH", FILING): "filing",
    ("GET", f"{FILING}/history"): "filing",
    **{("POST", f"{FILING}/{a}"): "filing" for a in ("submit", "correct", "resubmit", "reject", "revoke")},
    ("GET", PRACTITIONER): "practitioner",
    ("PATCH", PRACTITIONER): "practitioner",
    ("POST", f"{PRACTITIONER}/deactivate"): "practitioner",
    ("POST", f"{PRACTITIONER}/reactivate"): "practitioner",
    ("GET", APPLICATION): "application",
    ("PATCH", APPLICATION): "application",
    ("GET", f"{APPLICATION}/criteria"): "application",
    ("GET", f"{APPLICATION}/trail"): "application",
    ("POST", f"{APPLICATION}/attachments"): "application",
    ("GET", f"{APPLICATION}/attachments/{{attachment_id}}/content"): "application",
    ("DELETE", f"{APPLICATION}/attachments/{{attachment_id}}"): "application",
    **{
        ("POST", f"{APPLICATION}/{action}"): "application"
        for action in ("submit", "county-recommend", "city-recommend", "return", "decline")
    },
}
#: by-id endpoints only the province may call: its scope is all of Fujian, so no caller is an outsider
#: (who may call them at all is the access table's business)
PROVINCE_ONLY: set[tuple[str, str]] = {
    ("PUT", f"{APPLICATION}/province-review"),
    *(
        ("POST", f"{APPLICATION}/{action}")
        for action in ("province-approve", "send-to-nation", "national-result", "name", "reassess", "revoke")
    ),
}
#: by-id endpoints of records without a region, with the reason
UNSCOPED: dict[tuple[str, str], str] = {
    **{
        (method, f"/demonstration-batches/{{batch_id}}{tail}"): "a batch is the province's, for all Fujian"
        for method, tail in [("GET", ""), ("PATCH", "")]
    },
    **{
        ("GET", f"/demonstration-batches/{{batch_id}}/recommendation-summary{tail}"): (
            "the batch is province-wide; the summary's city is a query parameter (not a record id)"
        )
        for tail in ("", ".xlsx")
    },
}
UPLOADS = {("POST", f"{APPLICATION}/attachments")}


def test_every_by_id_endpoint_has_a_row() -> None:
    assert by_id_operations(MATRIX, R) == set(RECORD_OF) | set(UNSCOPED) | PROVINCE_ONLY
    assert len(RECORD_OF) + len(UNSCOPED) + len(PROVINCE_ONLY) == len(by_id_operations(MATRIX, R))
    for operation in PROVINCE_ONLY:
        assert [role for role, ok in MATRIX[operation[0], R + operation[1]].items() if ok] == [
            Role.province_admin
        ]


async def _record(flow: Flow, kind: str) -> dict[str, str]:
    client, tokens = flow.client, flow.tokens
    if kind == "application":
        batch = await flow.batch()
        institution_id = await flow.institution(region=HULI)
        application = await flow.apply_institution(batch["id"], institution_id)
        attached = await client.post(
            f"{R}/demonstration-applications/{application['id']}/attachments",
            files={"file": ("自评报告.pdf", PDF, "application/pdf")},
            data={"title": "自评报告", "item": "basic_conditions"},
            headers=flow.applicant(application),
        )
        assert attached.status_code == 201, attached.text
        return {"application_id": application["id"], "attachment_id": attached.json()["id"]}
    institution = await create_institution(client, tokens, region_code=HULI)
    if kind == "institution":
        return {"institution_id": institution["id"], "year": "2024"}
    county = tokens.headers(Role.county_admin, HULI)
    if kind == "filing":
        made = await client.post(f"{R}/filings", json=filing_body(institution["id"]), headers=county)
        assert made.status_code == 201, made.text
        return {"filing_id": made.json()["id"]}
    assert kind == "practitioner"
    made = await client.post(f"{R}/practitioners", json=practitioner_body(institution["id"]), headers=county)
    assert made.status_code == 201, made.text
    return {"practitioner_id": made.json()["id"]}


@pytest.mark.parametrize(
    ("method", "path"), sorted(RECORD_OF), ids=[f"{m} {p}" for m, p in sorted(RECORD_OF)]
)
async def test_a_record_of_another_region_or_institution_is_out_of_reach(
    flow: Flow, tokens: Tokens, registry_app: FastAPI, method: str, path: str
) -> None:
    values = await _record(flow, RECORD_OF[(method, path)])
    url = R + path.format(**values)
    kwargs: dict[str, Any] = {}
    if (method, path) in UPLOADS:
        kwargs["files"] = {"file": ("自评报告.pdf", PDF, "application/pdf")}
        kwargs["data"] = {"title": "自评报告"}
    else:
        kwargs["json"] = example_body(registry_app, method, R + path)
    tried = await assert_outsiders_get_404(
        flow.client, tokens, MATRIX[(method, R + path)], method, url, **kwargs
    )
    assert tried, "no outsider may call this endpoint at all: drop the row"
    if method == "GET":
        seen = await flow.client.get(url, headers=tokens.headers(Role.province_admin, "350000"))
        assert seen.status_code == 200, seen.text
