"""Every contracts endpoint that names an agreement or a referral by id keeps it to the caller's scope:
an agreement between two 湖里 (350206) institutions (its region is the elderly-care party's county), and a
referral under it, are invisible to an official of another county (思明) or city (福州), to another city's
platform and to the users of another institution — reads and writes answer 404 (scope rules in
``tests/scope_matrix.py``). A read by the province answers 200, so the 404 is the scope's.

Table-driven: a by-id endpoint without a row in :data:`RECORD_OF` fails
``test_every_by_id_endpoint_has_a_row``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.contracts.flows import AGREEMENTS, admin_of, signed
from tests.contracts.referrals.test_router import REFERRALS, referral_body
from tests.contracts.registry_data import RegistryData
from tests.contracts.test_access_matrix import MATRIX
from tests.scope_matrix import HULI, assert_outsiders_get_404, by_id_operations, example_body

C = "/api/v1/contracts"
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MARCH = "period_start=2026-03-01&period_end=2026-03-31"

#: by-id endpoint → the record its path names (made in 湖里 before the call); "agreement" is signed and
#: in force with a signed PDF uploaded
RECORD_OF: dict[tuple[str, str], str] = {
    **{
        (method, f"/agreements/{{agreement_id}}{tail}"): "agreement"
        for method, tail in [
            ("GET", ""),
            ("PATCH", ""),
            *(
                ("POST", f"/{action}")
                for action in "submit countersign terminate renew file document visits".split()
            ),
            ("GET", "/document"),
            ("GET", "/print"),
            ("GET", "/visits"),
            ("GET", "/visits/shortfall"),
        ]
    },
    ("GET", "/referrals/{referral_id}"): "referral",
    **{
        ("POST", f"/referrals/{{referral_id}}/{action}"): "referral"
        for action in ("accept", "admit", "return", "decline", "cancel")
    },
}
#: query strings an endpoint needs to get past validation
QUERY = {("GET", "/agreements/{agreement_id}/visits/shortfall"): MARCH}
#: multipart uploads
UPLOADS = {("POST", "/agreements/{agreement_id}/document")}


def test_every_by_id_endpoint_has_a_row() -> None:
    assert by_id_operations(MATRIX, C) == set(RECORD_OF)


async def _record(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, kind: str
) -> dict[str, str]:
    medical, elderly = await registry.medical(HULI), await registry.elderly(HULI)
    agreement = await signed(client, tokens, medical, elderly, start_date="2026-03-01")
    uploaded = await client.post(
        f"{AGREEMENTS}/{agreement['id']}/document",
        files={"file": ("协议.pdf", PDF, "application/pdf")},
        headers={**admin_of(tokens, medical), "If-Match": f'"{agreement["version"]}"'},
    )
    assert uploaded.status_code == 200, uploaded.text
    if kind == "agreement":
        return {"agreement_id": agreement["id"]}
    assert kind == "referral"
    made = await client.post(REFERRALS, json=referral_body(agreement), headers=admin_of(tokens, elderly))
    assert made.status_code == 201, made.text
    return {"referral_id": made.json()["id"]}


@pytest.mark.parametrize(
    ("method", "path"), sorted(RECORD_OF), ids=[f"{m} {p}" for m, p in sorted(RECORD_OF)]
)
async def test_a_record_of_another_region_or_institution_is_out_of_reach(
    client: httpx.AsyncClient,
    registry: RegistryData,
    tokens: Tokens,
    contracts_app: FastAPI,
    method: str,
    path: str,
) -> None:
    values = await _record(client, registry, tokens, RECORD_OF[(method, path)])
    url = C + path.format(**values) + (f"?{QUERY[(method, path)]}" if (method, path) in QUERY else "")
    kwargs: dict[str, Any] = {}
    if (method, path) in UPLOADS:
        kwargs["files"] = {"file": ("协议.pdf", PDF, "application/pdf")}
    else:
        kwargs["json"] = example_body(contracts_app, method, C + path)
    tried = await assert_outsiders_get_404(client, tokens, MATRIX[(method, C + path)], method, url, **kwargs)
    assert tried, "no outsider may call this endpoint at all: drop the row"
    if method == "GET":
        seen = await client.get(url, headers=tokens.headers(Role.province_admin, "350000"))
        assert seen.status_code == 200, seen.text
