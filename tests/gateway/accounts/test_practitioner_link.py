"""A staff account is linked only to a practitioner of its own institution (issue 11, finding 9): the
gateway asks the real registry (in-process) before it writes; an unknown practitioner is 422
``practitioner_not_found``, another institution's is 422 ``practitioner_of_other_institution``, and a
registry that does not answer is 502 — nothing is written in any of these cases."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from libs.common.auth import Role, TokenIssuer
from libs.common.testing import TestDatabases, Tokens, rolled_back_client, running
from services.gateway.app import create_app
from tests.gateway.accounts.test_router import USERS, body
from tests.gateway.conftest import add_user, gateway_settings
from tests.registry.factories import create_institution, practitioner_body

PRACTITIONERS = "/api/v1/registry/practitioners"


async def _institution_with_nurse(registry: httpx.AsyncClient, tokens: Tokens) -> tuple[uuid.UUID, uuid.UUID]:
    institution = await create_institution(registry, tokens, region_code="350206")
    response = await registry.post(
        PRACTITIONERS,
        json=practitioner_body(institution["id"], practice_certificate_no=f"C{uuid.uuid4().hex[:10]}"),
        headers=tokens.headers(Role.county_admin, "350206"),
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(institution["id"]), uuid.UUID(response.json()["id"])


def _admin(tokens: Tokens, institution_id: uuid.UUID) -> dict[str, str]:
    return tokens.headers(Role.institution_admin, "350206", institution_id=institution_id)


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


async def _staff(gateway_app: FastAPI, institution_id: uuid.UUID) -> Any:
    return await add_user(
        gateway_app.state.database,
        f"staff_{uuid.uuid4().hex[:10]}",
        Role.institution_staff,
        "350206",
        institution_id=institution_id,
    )


async def test_staff_is_created_linked_to_a_practitioner_of_its_institution(
    client: httpx.AsyncClient, registry_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    institution, nurse = await _institution_with_nurse(registry_client, tokens)
    response = await client.post(
        USERS,
        json=body(Role.institution_staff, practitioner_id=str(nurse)),
        headers=_admin(tokens, institution),
    )
    assert response.status_code == 201, response.text
    assert response.json()["practitioner_id"] == str(nurse)


async def test_creating_staff_linked_to_an_unknown_or_foreign_practitioner_is_422(
    client: httpx.AsyncClient, registry_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    institution, _ = await _institution_with_nurse(registry_client, tokens)
    _, foreign_nurse = await _institution_with_nurse(registry_client, tokens)
    made_up = await client.post(
        USERS,
        json=body(Role.institution_staff, practitioner_id=str(uuid.uuid4())),
        headers=_admin(tokens, institution),
    )
    _problem(made_up, 422, "practitioner_not_found")
    assert made_up.json()["errors"][0]["field"] == "body.practitioner_id"
    data = body(Role.institution_staff, practitioner_id=str(foreign_nurse))
    foreign = await client.post(USERS, json=data, headers=_admin(tokens, institution))
    _problem(foreign, 422, "practitioner_of_other_institution")
    listed = await client.get(USERS, params={"limit": 200}, headers=_admin(tokens, institution))
    assert data["username"] not in {u["username"] for u in listed.json()["items"]}


async def test_patching_staff_to_an_unknown_or_foreign_practitioner_is_422(
    client: httpx.AsyncClient, registry_client: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    institution, own_nurse = await _institution_with_nurse(registry_client, tokens)
    _, foreign_nurse = await _institution_with_nurse(registry_client, tokens)
    staff = await _staff(gateway_app, institution)
    url = f"{USERS}/{staff.id}"
    hdrs = {**_admin(tokens, institution), "If-Match": '"1"'}
    _problem(
        await client.patch(url, json={"practitioner_id": str(uuid.uuid4())}, headers=hdrs),
        422,
        "practitioner_not_found",
    )
    _problem(
        await client.patch(url, json={"practitioner_id": str(foreign_nurse)}, headers=hdrs),
        422,
        "practitioner_of_other_institution",
    )
    unchanged = await client.get(url, headers=_admin(tokens, institution))
    assert (unchanged.json()["practitioner_id"], unchanged.headers["etag"]) == (None, '"1"')
    linked = await client.patch(url, json={"practitioner_id": str(own_nurse)}, headers=hdrs)
    assert linked.status_code == 200, linked.text
    assert linked.json()["practitioner_id"] == str(own_nurse)


async def test_linking_a_practitioner_with_the_registry_down_is_502(
    test_databases: TestDatabases, token_issuer: TokenIssuer, tokens: Tokens, closed_port_url: str
) -> None:
    institution = uuid.uuid4()
    app = create_app(
        gateway_settings(test_databases, registry_url=closed_port_url, upstream_timeout_seconds=0.5),
        issuer=token_issuer,
    )
    async with running(app), rolled_back_client(app) as client:
        staff = await _staff(app, institution)
        response = await client.patch(
            f"{USERS}/{staff.id}",
            json={"practitioner_id": str(uuid.uuid4())},
            headers={**_admin(tokens, institution), "If-Match": '"1"'},
        )
        _problem(response, 502, "upstream_unavailable")
        created = await client.post(
            USERS,
            json=body(Role.institution_staff, practitioner_id=str(uuid.uuid4())),
            headers=_admin(tokens, institution),
        )
        _problem(created, 502, "upstream_unavailable")
