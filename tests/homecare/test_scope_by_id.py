"""Every homecare endpoint that reads or writes one record by id keeps it to the caller's scope: a record
made in 湖里 (350206) by one provider is invisible to an official of another county (思明) or city (福州),
to another city's platform and to the users of another institution: reads and writes answer 404 (root
README "Where this departs from the agreed design": a write to a record the caller cannot see is not
answered 403, which would reveal it).

Table-driven: a by-id endpoint without a row in :data:`RECORD_OF` fails
``test_every_by_id_endpoint_has_a_row``. Only callers whose role may call the endpoint at all (the expected
table in ``test_access_matrix``) are tried: for the others the permission check already answers 403.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI

from libs.common.auth import Role
from tests.homecare.test_access_matrix import MATRIX
from tests.homecare.world import HC, World, crew, to_status

#: by-id endpoint → the record its path names (what the test creates in 湖里 before calling it)
RECORD_OF: dict[tuple[str, str], str] = {
    ("GET", "/providers/{institution_id}"): "provider",
    ("PUT", "/providers/{institution_id}"): "provider",
    ("PUT", "/providers/{institution_id}/items/{item_code}"): "provider",
    ("GET", "/recipients/{recipient_id}"): "recipient",
    ("PATCH", "/recipients/{recipient_id}"): "recipient",
    **{
        (method, f"/orders/{{order_id}}{tail}"): "order"
        for method, tail in [
            ("GET", ""),
            ("GET", "/visit-record"),
            *(
                ("POST", f"/{action}")
                for action in (
                    "assess accept reject assign depart check-in start check-out locations complete "
                    "cancel incident rate review-flags visit-record sos complaints"
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
#: (label, role, region) of callers outside the record's scope; institution users get another institution
OUTSIDERS: list[tuple[str, Role, str]] = [
    ("siming county", Role.county_admin, "350203"),
    ("fuzhou city", Role.city_admin, "350100"),
    ("fuzhou platform", Role.city_platform, "350100"),
    ("other institution admin", Role.institution_admin, "350206"),
    ("other institution staff", Role.institution_staff, "350206"),
]


#: upserts keyed by an institution id, which is public (every role lists institutions): refusing another
#: institution's provider settings with 403 ``not_own_institution`` reveals nothing (README "creating
#: records outside its region" answers 403)
UPSERT_403: set[tuple[str, str]] = {
    ("PUT", "/providers/{institution_id}"),
    ("PUT", "/providers/{institution_id}/items/{item_code}"),
}


def test_every_by_id_endpoint_has_a_row(homecare_app: FastAPI) -> None:
    by_id = {(m, p.removeprefix(HC)) for m, p in MATRIX if "{" in p}
    assert by_id == set(RECORD_OF)


def _body(app: FastAPI, method: str, path: str) -> dict[str, Any] | None:
    """The operation's documented request example, with fresh client event ids and today's clock."""
    operation = app.openapi()["paths"][HC + path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content["schema"]
    ref = schema.get("$ref") or next((s["$ref"] for s in schema.get("anyOf", []) if "$ref" in s), None)
    examples = app.openapi()["components"]["schemas"][ref.split("/")[-1]].get("examples") if ref else None
    body = dict(examples[0]) if examples else {}
    now = datetime.now(UTC).isoformat()
    for key in ("client_event_id", "record_id", "client_record_id"):
        if key in body or key == "record_id" and path.endswith("visit-record"):
            body[key] = str(uuid.uuid4())
    for key in ("client_at", "client_created_at", "client_updated_at"):
        if key in body:
            body[key] = now
    return body


async def _record(world: World, kind: str) -> dict[str, str]:
    """Make one record of ``kind`` in 湖里 (provider, recipient, order in service, ...); its path values."""
    if kind == "provider":
        provider = await world.provider()
        return {"institution_id": str(provider.id), "item_code": "HC01"}
    c = await crew(world)
    if kind == "recipient":
        return {"recipient_id": c.recipient["id"]}
    if kind == "home_bed":
        created = await world.client.post(
            f"{HC}/home-beds",
            json={
                "recipient_id": c.recipient["id"],
                "diagnosis": "脑梗死后遗症",
                "condition_stable": True,
                "mobility": "bedridden",
                "conditions": ["stroke_or_post_surgery_rehab", "tubes"],
                "has_family_doctor_contract": True,
            },
            headers=world.admin(c.provider),
        )
        assert created.status_code == 201, created.text
        return {"home_bed_id": created.json()["id"]}
    order = await world.order(c.provider, c.recipient["id"])
    if kind == "order":
        return {"order_id": order["id"], "item_code": "HC01"}
    if kind == "complaint":
        made = await world.client.post(
            f"{HC}/orders/{order['id']}/complaints",
            json={"content": "护士迟到"},
            headers=world.admin(c.provider),
        )
        assert made.status_code == 201, made.text
        return {"complaint_id": made.json()["id"]}
    assert kind == "sos"
    await to_status(world, c, order, "in_service")
    raised = await world.client.post(
        f"{HC}/orders/{order['id']}/sos",
        json={"client_event_id": str(uuid.uuid4()), "client_at": datetime.now(UTC).isoformat()},
        headers=world.staff(c.provider, c.nurse),
    )
    assert raised.status_code == 201, raised.text
    return {"alert_id": raised.json()["id"]}


def _outsider(world: World, role: Role, region: str) -> dict[str, str]:
    if role in (Role.institution_admin, Role.institution_staff):
        return world.tokens.headers(role, region, institution_id=uuid.uuid4(), practitioner_id=uuid.uuid4())
    return world.tokens.headers(role, region)


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
        headers = {**_outsider(world, role, region), "If-Match": "*"}
        response = await world.client.request(
            method, url, json=_body(homecare_app, method, path), headers=headers
        )
        if (method, path) in UPSERT_403 and response.status_code == 403:
            assert response.json()["code"] != "permission_denied", (label, response.text)
            continue
        # writes too: a record the caller cannot see is not revealed by a 403 (root README)
        assert response.status_code == 404, (label, response.status_code, response.text)
    assert tried, "no outsider may call this endpoint at all: drop the row"
