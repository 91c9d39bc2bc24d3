"""One vocabulary (issue 12, STYLE.md "Shared protocols"): a person's 居民身份证号 is ``id_number``
everywhere (homecare recipients, contracts referrals). The practitioner API's old name ``id_card`` keeps
working for one version (until API 2.0.0): accepted in create, PATCH and lookup, emitted beside
``id_number`` (masked alike), and marked ``deprecated`` in OpenAPI. Both names given with different values
is refused (422 ``renamed_field_conflict``)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.openapi.document import service_document
from tests.registry.factories import PRACTITIONERS, create_institution, hospital_body, practitioner_body

CONFLICT = "renamed_field_conflict"
HULI = "350206"
NUMBER = "11010519491231002X"
OTHER = "360426199101010071"


def county(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(Role.county_admin, HULI)


def body(institution_id: str, **numbers: str) -> dict[str, Any]:
    """A practitioner body carrying exactly the ID-number names given."""
    base = practitioner_body(institution_id, **numbers)
    for name in ("id_card", "id_number"):
        if name not in numbers:
            base.pop(name, None)
    return base


@pytest.fixture
async def hospital(client: httpx.AsyncClient, tokens: Tokens) -> dict[str, Any]:
    return await create_institution(client, tokens, hospital_body())


def assert_conflict(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert CONFLICT in {e["code"] for e in response.json()["errors"]}


@pytest.mark.parametrize(
    "numbers",
    [{"id_number": NUMBER}, {"id_card": NUMBER}, {"id_number": NUMBER, "id_card": NUMBER}],
    ids=["new name", "old name", "both agreeing"],
)
async def test_create_accepts_either_name_and_answers_both(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any], numbers: dict[str, str]
) -> None:
    created = await client.post(PRACTITIONERS, json=body(hospital["id"], **numbers), headers=county(tokens))
    assert created.status_code == 201, created.text
    # a county admin sees the number masked, under both names
    assert created.json()["id_number"] == created.json()["id_card"] == "110105********002X"
    found = await client.post(f"{PRACTITIONERS}/lookup", json={"id_number": NUMBER}, headers=county(tokens))
    assert [p["id"] for p in found.json()] == [created.json()["id"]]


async def test_create_refuses_old_and_new_names_that_differ(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any]
) -> None:
    response = await client.post(
        PRACTITIONERS, json=body(hospital["id"], id_number=NUMBER, id_card=OTHER), headers=county(tokens)
    )
    assert_conflict(response)


@pytest.mark.parametrize("name", ["id_number", "id_card"])
async def test_patch_changes_the_number_under_either_name(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any], name: str
) -> None:
    created = (
        await client.post(PRACTITIONERS, json=body(hospital["id"], id_number=NUMBER), headers=county(tokens))
    ).json()
    response = await client.patch(
        f"{PRACTITIONERS}/{created['id']}",
        json={name: OTHER},
        headers={**county(tokens), "If-Match": f'"{created["version"]}"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["id_number"] == response.json()["id_card"] == "360426********0071"
    conflict = await client.patch(
        f"{PRACTITIONERS}/{created['id']}",
        json={"id_number": NUMBER, "id_card": OTHER},
        headers={**county(tokens), "If-Match": f'"{response.json()["version"]}"'},
    )
    assert_conflict(conflict)


@pytest.mark.parametrize("name", ["id_number", "id_card"])
async def test_lookup_takes_either_name(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any], name: str
) -> None:
    created = (
        await client.post(PRACTITIONERS, json=body(hospital["id"], id_number=NUMBER), headers=county(tokens))
    ).json()
    found = await client.post(f"{PRACTITIONERS}/lookup", json={name: NUMBER.lower()}, headers=county(tokens))
    assert found.status_code == 200, found.text
    assert [p["id"] for p in found.json()] == [created["id"]]


async def test_lookup_refuses_a_conflict_and_a_missing_number(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    conflict = await client.post(
        f"{PRACTITIONERS}/lookup", json={"id_number": NUMBER, "id_card": OTHER}, headers=county(tokens)
    )
    assert_conflict(conflict)
    missing = await client.post(f"{PRACTITIONERS}/lookup", json={}, headers=county(tokens))
    assert missing.status_code == 422
    assert "missing" in {e["code"] for e in missing.json()["errors"]}


@pytest.mark.parametrize(
    "schema", ["PractitionerCreate", "PractitionerUpdate", "PractitionerLookup", "PractitionerRead"]
)
def test_openapi_lists_both_names_and_marks_id_card_deprecated(schema: str) -> None:
    properties = service_document("registry")["components"]["schemas"][schema]["properties"]
    assert not properties["id_number"].get("deprecated", False)
    assert properties["id_card"]["deprecated"] is True
    assert "id_number" in properties["id_card"]["description"]
    assert "2.0.0" in properties["id_card"]["description"]
