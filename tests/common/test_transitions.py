"""The transition mechanism itself (libs/common/transitions.py), on a throwaway ticket service.

What the platform promises of a state machine (/work/shared/ARCHITECTURE.md, API conventions): it moves
only by explicit transition endpoints; an illegal transition answers 409 with the allowed ones; a change
carries optimistic concurrency (``ETag`` with a version; ``If-Match`` required, 428 without it, 412 when
stale); permission and scope come first (401/403; a record outside the caller's scope is 404, its
existence not revealed). The ticket service declares only a table (tests/common/transitions_app.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from libs.common.auth import Role, TokenVerifier
from libs.common.database import Database
from libs.common.models import PlatformBase
from libs.common.testing import TestDatabases, Tokens, make_settings, rolled_back_client, running
from tests.common.transitions_app import (
    TRANSITIONS,
    TransitionsBase,
    TransitionsSettings,
    create_transitions_app,
)

TICKETS = "/api/v1/transitions_sample/tickets"
COUNTY, OTHER_COUNTY, CITY = "350206", "350203", "350200"  # 湖里区, 思明区 (both of 厦门市), 厦门市


@pytest.fixture(scope="module")
async def transitions_app(
    test_databases: TestDatabases, token_verifier: TokenVerifier
) -> AsyncIterator[FastAPI]:
    settings = make_settings(TransitionsSettings, test_databases, migrate_on_start=False)
    app = create_transitions_app(settings, token_verifier)
    async with running(app):
        database: Database = app.state.database
        async with database.engine.begin() as conn:
            if not database.is_sqlite:
                await conn.execute(text('CREATE SCHEMA IF NOT EXISTS "transitions_sample"'))
            await conn.run_sync(TransitionsBase.metadata.create_all)
            await conn.run_sync(PlatformBase.metadata.create_all)
        yield app


@pytest.fixture
async def client(transitions_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with rolled_back_client(transitions_app) as client:
        yield client


def county(tokens: Tokens, code: str = COUNTY) -> dict[str, str]:
    return tokens.headers(Role.county_admin, code)


def city(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(Role.city_admin, CITY)


async def new_ticket(client: httpx.AsyncClient, tokens: Tokens) -> dict[str, Any]:
    response = await client.post(TICKETS, json={"region_code": COUNTY}, headers=county(tokens))
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    assert (ticket["state"], response.headers["ETag"]) == ("draft", f'"{ticket["version"]}"')
    return ticket


async def move(
    client: httpx.AsyncClient,
    ticket: dict[str, Any],
    action: str,
    headers: dict[str, str],
    *,
    if_match: str | None = "current",
    json: Any = None,
) -> httpx.Response:
    extra = (
        {}
        if if_match is None
        else {"If-Match": f'"{ticket["version"]}"' if if_match == "current" else if_match}
    )
    return await client.post(f"{TICKETS}/{ticket['id']}/{action}", json=json, headers={**headers, **extra})


# ------------------------------------------------------------------------------------ the routes made


def test_each_row_of_the_table_becomes_a_route_with_the_transition_protocol(transitions_app: FastAPI) -> None:
    document = transitions_app.openapi()
    path = "/api/v1/transitions_sample/tickets/{ticket_id}"
    for action, operation_id in [
        ("submit", "sample_submit_ticket"),
        ("approve", "sample_approve_ticket"),
        ("return", "sample_return_ticket"),
    ]:
        operation = document["paths"][f"{path}/{action}"]["post"]
        assert operation["operationId"] == operation_id
        parameters = {(p["in"], p["name"]) for p in operation["parameters"]}
        assert parameters == {("path", "ticket_id"), ("header", "If-Match")}
        # the declared answers: 409 (illegal), 412 / 428 (If-Match), 404 (scope), 401 / 403, 422
        assert {"200", "401", "403", "404", "409", "412", "422", "428"} <= set(operation["responses"])
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/TicketRead"
        }
    assert "requestBody" not in document["paths"][f"{path}/submit"]["post"]
    body = document["paths"][f"{path}/return"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ReturnBody"}
    assert len(TRANSITIONS.rows) == 3


# ------------------------------------------------------------------------- moving, and the new version


async def test_a_transition_answers_the_new_state_and_version_with_its_etag(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    ticket = await new_ticket(client, tokens)
    submitted = await move(client, ticket, "submit", county(tokens))
    assert submitted.status_code == 200, submitted.text
    body = submitted.json()
    assert body["state"] == "submitted"
    assert body["version"] == ticket["version"] + 1
    assert submitted.headers["ETag"] == f'"{body["version"]}"'

    returned = await move(client, body, "return", city(tokens), json={"reason": "材料不全"})
    assert returned.status_code == 200, returned.text
    assert (returned.json()["state"], returned.json()["return_reason"]) == ("draft", "材料不全")
    assert returned.json()["version"] == body["version"] + 1

    stored = await client.get(f"{TICKETS}/{ticket['id']}", headers=county(tokens))
    assert (stored.json()["state"], stored.headers["ETag"]) == ("draft", returned.headers["ETag"])


# -------------------------------------------------------------------------------------- If-Match


async def test_if_match_is_required_428_and_nothing_moves(client: httpx.AsyncClient, tokens: Tokens) -> None:
    ticket = await new_ticket(client, tokens)
    response = await move(client, ticket, "submit", county(tokens), if_match=None)
    assert response.status_code == 428
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "if_match_required"
    stored = await client.get(f"{TICKETS}/{ticket['id']}", headers=county(tokens))
    assert (stored.json()["state"], stored.json()["version"]) == ("draft", ticket["version"])


async def test_a_stale_if_match_is_412_with_the_current_version(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    ticket = await new_ticket(client, tokens)
    assert (await move(client, ticket, "submit", county(tokens))).status_code == 200
    stale = await move(client, ticket, "approve", city(tokens))  # the version read before the submit
    assert stale.status_code == 412
    problem = stale.json()
    assert problem["code"] == "version_mismatch"
    assert problem["extra"]["current_etag"] == f'"{ticket["version"] + 1}"'
    stored = await client.get(f"{TICKETS}/{ticket['id']}", headers=county(tokens))
    assert stored.json()["state"] == "submitted"


@pytest.mark.parametrize("if_match", ["*", 'W/"{v}"', '"999", "{v}"'])
async def test_if_match_naming_the_current_version_moves(
    client: httpx.AsyncClient, tokens: Tokens, if_match: str
) -> None:
    ticket = await new_ticket(client, tokens)
    response = await move(
        client, ticket, "submit", county(tokens), if_match=if_match.format(v=ticket["version"])
    )
    assert response.status_code == 200, response.text


# ------------------------------------------------------------------------------ illegal transitions


async def test_an_action_the_state_does_not_allow_is_409_with_the_allowed_actions(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    ticket = await new_ticket(client, tokens)
    response = await move(client, ticket, "approve", city(tokens))  # a draft is not yet submitted
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "illegal_transition"
    assert (problem["extra"]["state"], problem["extra"]["action"], problem["extra"]["allowed"]) == (
        "draft",
        "approve",
        ["submit"],
    )

    submitted = (await move(client, ticket, "submit", county(tokens))).json()
    approved = (await move(client, submitted, "approve", city(tokens))).json()
    again = await move(client, approved, "return", city(tokens), json={"reason": "再议"})
    assert again.status_code == 409
    assert (again.json()["extra"]["state"], again.json()["extra"]["allowed"]) == ("approved", [])


# ----------------------------------------------------------------------- permission, scope, bodies


async def test_each_transition_has_its_own_permission(client: httpx.AsyncClient, tokens: Tokens) -> None:
    ticket = await new_ticket(client, tokens)
    # the city reviews but does not submit; the county submits but does not review
    denied = await move(client, ticket, "submit", city(tokens))
    assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
    submitted = (await move(client, ticket, "submit", county(tokens))).json()
    denied = await move(client, submitted, "approve", county(tokens))
    assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
    # a reader with no transition at all
    province = tokens.headers(Role.province_admin, "350000")
    assert (await move(client, submitted, "return", province, json={"reason": "x"})).status_code == 403
    assert (await move(client, submitted, "approve", city(tokens))).status_code == 200


async def test_permission_is_checked_before_anything_is_loaded(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    unknown = {"id": str(uuid.uuid4()), "version": 1}
    assert (await move(client, unknown, "approve", county(tokens))).status_code == 403
    assert (await client.post(f"{TICKETS}/{unknown['id']}/submit")).status_code == 401
    # with the permission, an unknown ticket is 404 (even without If-Match: nothing to compare it to)
    missing = await move(client, unknown, "submit", county(tokens), if_match=None)
    assert (missing.status_code, missing.json()["code"]) == (404, "ticket_not_found")


async def test_a_ticket_outside_the_callers_scope_is_404_not_403(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    ticket = await new_ticket(client, tokens)
    elsewhere = await move(client, ticket, "submit", county(tokens, OTHER_COUNTY))
    assert (elsewhere.status_code, elsewhere.json()["code"]) == (404, "ticket_not_found")
    stored = await client.get(f"{TICKETS}/{ticket['id']}", headers=county(tokens))
    assert stored.json()["state"] == "draft"


async def test_a_rows_body_is_validated_422(client: httpx.AsyncClient, tokens: Tokens) -> None:
    ticket = await new_ticket(client, tokens)
    submitted = (await move(client, ticket, "submit", county(tokens))).json()
    for body in (None, {}, {"reason": ""}, {"reason": "x", "extra": 1}):
        response = await move(client, submitted, "return", city(tokens), json=body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_failed"
    stored = await client.get(f"{TICKETS}/{ticket['id']}", headers=county(tokens))
    assert stored.json()["state"] == "submitted"
