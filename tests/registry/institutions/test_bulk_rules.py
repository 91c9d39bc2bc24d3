"""Every rule of ``POST /institutions`` holds for the same record sent in bulk (issue 12).

Each case is a body the single endpoint refuses; the same body with an ``external_id`` in
``POST /institutions/bulk`` must be rejected with the same code and the same field errors (the bulk names
a field ``records.N.x`` where the single endpoint says ``body.x``). Expected codes come from the rules
(the schema's validations, scope, USCC uniqueness), the comparison from the single endpoint's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.registry.factories import INSTITUTIONS, hospital_body, institution_body

BULK = f"{INSTITUTIONS}/bulk"
XIAMEN = "350200"

Case = Callable[[], dict[str, Any]]

# rule → (body, expected code of the single endpoint)
CASES: dict[str, tuple[Case, str]] = {
    "unknown kind": (lambda: institution_body(kind="nonsense"), "validation_failed"),
    "category not of its kind": (lambda: institution_body(category="hospital"), "validation_failed"),
    "hospital grade on a care home": (
        lambda: institution_body(hospital_grade="grade_3a"),
        "validation_failed",
    ),
    "integrated without its model": (
        lambda: institution_body(kind="integrated", category="nursing_home"),
        "validation_failed",
    ),
    "integrated model on a care home": (
        lambda: institution_body(integrated_model="medical_runs_care"),
        "validation_failed",
    ),
    "care-home ownership on a hospital": (
        lambda: hospital_body(elderly_care_ownership="private"),
        "validation_failed",
    ),
    "licence number without its type": (lambda: institution_body(licence_no="PDY0001"), "validation_failed"),
    "latitude without longitude": (lambda: institution_body(lng=None), "validation_failed"),
    "more disabled than residents": (lambda: institution_body(residents=3), "validation_failed"),
    "bad phone": (lambda: institution_body(contact_phone="12345"), "validation_failed"),
    "a city code, not a county": (lambda: institution_body(region_code="350200"), "validation_failed"),
    "a code outside Fujian": (lambda: institution_body(region_code="110101"), "validation_failed"),
    "bad WS 218 kind code": (lambda: institution_body(ws218_kind_code="a1"), "validation_failed"),
    "bad USCC check digit": (
        lambda: {**institution_body(), "uscc": _wrong_check_char(institution_body()["uscc"])},
        "validation_failed",
    ),
    "national 示范 year is read-only": (
        lambda: institution_body(national_demonstration_year=2024),
        "validation_failed",
    ),
    "missing name": (
        lambda: {k: v for k, v in institution_body().items() if k != "name"},
        "validation_failed",
    ),
    "unknown field": (lambda: institution_body(colour="red"), "validation_failed"),
    "county outside the caller's city": (lambda: institution_body(region_code="350104"), "out_of_scope"),
}


def _wrong_check_char(uscc: str) -> str:
    """The USCC with a check character that is not its own (a fixed "0" is right for 1 in 31 codes)."""
    return uscc[:-1] + ("1" if uscc[-1] == "0" else "0")


def _admin(tokens: Tokens) -> dict[str, str]:
    """Who registers institutions one by one: the county's administration (湖里)."""
    return tokens.headers(Role.county_admin, "350206")


def _platform(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(Role.city_platform, XIAMEN, sub="client:xm_city_platform")


def _errors(errors: list[dict[str, Any]] | None, record: str) -> set[tuple[str, str]]:
    """(field within the record, code): ``body.x`` / ``records.0.x`` → ``x``; the record itself → ``""``."""
    return {
        ("" if e["field"] == record else e["field"].removeprefix(record + "."), e["code"])
        for e in errors or []
    }


async def _both(client: httpx.AsyncClient, tokens: Tokens, body: dict[str, Any]) -> tuple[Any, Any]:
    single = await client.post(INSTITUTIONS, json=body, headers=_admin(tokens))
    bulk = await client.post(
        BULK,
        json={"source_system": "xm-ijiankang", "records": [{"external_id": "RULE-1", **body}]},
        headers=_platform(tokens),
    )
    assert bulk.status_code == 200, bulk.text
    return single, bulk.json()["results"][0]


@pytest.mark.parametrize("rule", list(CASES))
async def test_a_rule_of_create_holds_in_bulk(client: httpx.AsyncClient, tokens: Tokens, rule: str) -> None:
    make, code = CASES[rule]
    body = make()
    single, result = await _both(client, tokens, body)
    assert single.status_code in (403, 409, 422), single.text
    assert single.json()["code"] == code
    assert (result["outcome"], result["code"]) == ("rejected", code), result
    assert result["id"] is None
    if code == "validation_failed":
        assert _errors(result["errors"], "records.0") == _errors(single.json()["errors"], "body")


async def test_a_uscc_registered_elsewhere_is_refused_alike(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    taken = institution_body()
    assert (await client.post(INSTITUTIONS, json=taken, headers=_admin(tokens))).status_code == 201
    body = institution_body(name="另一家机构", uscc=taken["uscc"])
    single, result = await _both(client, tokens, body)
    assert (single.status_code, single.json()["code"]) == (409, "uscc_taken")
    assert (result["outcome"], result["code"]) == ("rejected", "uscc_taken")
    assert _errors(result["errors"], "records.0") == _errors(single.json()["errors"], "body")


async def test_a_valid_record_is_taken_by_both(client: httpx.AsyncClient, tokens: Tokens) -> None:
    """The control: what the rules let through, both paths take (two bodies: one USCC is written once)."""
    single = await client.post(INSTITUTIONS, json=institution_body(), headers=_admin(tokens))
    assert single.status_code == 201, single.text
    bulk = await client.post(
        BULK,
        json={"source_system": "xm-ijiankang", "records": [{"external_id": "OK-1", **institution_body()}]},
        headers=_platform(tokens),
    )
    result = bulk.json()["results"][0]
    assert (result["outcome"], result["version"], result["code"]) == ("created", 1, None)


async def test_an_update_that_breaks_the_whole_is_refused_as_patch_refuses_it(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    body = institution_body(name="先建后改")
    created = await client.post(
        BULK,
        json={"source_system": "xm-ijiankang", "records": [{"external_id": "U-1", **body}]},
        headers=_platform(tokens),
    )
    institution_id = created.json()["results"][0]["id"]
    current = await client.get(f"{INSTITUTIONS}/{institution_id}", headers=_admin(tokens))
    patched = await client.patch(
        f"{INSTITUTIONS}/{institution_id}",
        json={"kind": "medical"},
        headers={**_admin(tokens), "If-Match": current.headers["ETag"]},
    )
    assert patched.status_code == 422
    bulk = await client.post(
        BULK,
        json={
            "source_system": "xm-ijiankang",
            "records": [{"external_id": "U-1", **body, "kind": "medical"}],
        },
        headers=_platform(tokens),
    )
    result = bulk.json()["results"][0]
    assert result["outcome"] == "rejected"
    after = await client.get(f"{INSTITUTIONS}/{institution_id}", headers=_admin(tokens))
    assert after.json()["version"] == current.json()["version"]
