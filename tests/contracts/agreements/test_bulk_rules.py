"""A rule of `POST /agreements` holds for the same record sent to `POST /agreements/bulk` (issue 12).

Each case builds one agreement that the single-record endpoint refuses (or accepts), sends it to
`POST /agreements` as a party's admin, then the same record (with its source key) to the bulk endpoint
as the city platform: the bulk answer must reject it with the same code and field, or accept it, as
the single endpoint did. The cases walk every validation of create agreement: the body's fields, the
parties in the registry (unknown, wrong kind, inactive), and the pair rule (no second agreement while
one is being negotiated or in force; an agreement whose term has ended does not block a new one,
even before the calendar job has marked it expired).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from services.contracts.clock import ManualClock
from tests.contracts.conftest import agreement_body
from tests.contracts.flows import AGREEMENTS, admin_of, draft, signed
from tests.contracts.registry_data import RegistryData

BULK = f"{AGREEMENTS}/bulk"


@dataclass
class World:
    client: httpx.AsyncClient
    registry: RegistryData
    tokens: Tokens
    clock: ManualClock


@dataclass
class Sent:
    """One agreement body and the party whose admin sends it to the single-record endpoint."""

    body: dict[str, Any]
    actor: dict[str, Any]


Build = Callable[[World], Awaitable[Sent]]


@dataclass
class Case:
    name: str
    build: Build
    #: None: both endpoints accept the record
    code: str | None
    status: int = 422
    #: the field the error names, relative to the record (the single endpoint prefixes ``body.``, the
    #: bulk one ``records.{index}.``)
    fields: list[str] = field(default_factory=list)


def _field_case(name: str, code: str, changes: dict[str, Any], *fields: str) -> Case:
    async def build(w: World) -> Sent:
        medical, elderly = await w.registry.medical(), await w.registry.elderly()
        return Sent(agreement_body(medical, elderly, **changes), elderly)

    return Case(name, build, code, fields=list(fields))


async def _unknown_medical(w: World) -> Sent:
    elderly = await w.registry.elderly()
    return Sent(agreement_body({"id": str(uuid.uuid4())}, elderly), elderly)


async def _unknown_elderly(w: World) -> Sent:
    medical = await w.registry.medical()
    return Sent(agreement_body(medical, {"id": str(uuid.uuid4())}), medical)


async def _elderly_as_medical(w: World) -> Sent:
    other, elderly = await w.registry.elderly(), await w.registry.elderly()
    return Sent(agreement_body(other, elderly), elderly)


async def _medical_as_elderly(w: World) -> Sent:
    medical, other = await w.registry.medical(), await w.registry.medical()
    return Sent(agreement_body(medical, other), medical)


async def _inactive_medical(w: World) -> Sent:
    medical, elderly = await w.registry.medical(active=False), await w.registry.elderly()
    return Sent(agreement_body(medical, elderly), elderly)


async def _inactive_elderly(w: World) -> Sent:
    medical, elderly = await w.registry.medical(), await w.registry.elderly(active=False)
    return Sent(agreement_body(medical, elderly), medical)


async def _same_institution(w: World) -> Sent:
    elderly = await w.registry.elderly()
    return Sent(agreement_body(elderly, elderly), elderly)


async def _pair_with_a_draft(w: World) -> Sent:
    medical, elderly = await w.registry.medical(), await w.registry.elderly()
    await draft(w.client, w.tokens, medical, elderly)
    # in force from its dates if pushed signed: the draft is still being negotiated
    return Sent(agreement_body(medical, elderly, start_date="2026-01-01", end_date="2026-12-31"), elderly)


async def _pair_in_force(w: World) -> Sent:
    medical, elderly = await w.registry.medical(), await w.registry.elderly()
    await signed(w.client, w.tokens, medical, elderly, start_date="2026-03-01", end_date="2027-02-28")
    # starts after today: pushed signed it would wait for its start, a second one beside the one in force
    return Sent(agreement_body(medical, elderly, start_date="2026-06-01", end_date="2027-05-31"), elderly)


async def _pair_whose_agreement_has_ended(w: World) -> Sent:
    medical, elderly = await w.registry.medical(), await w.registry.elderly()
    w.clock.set_today(date(2026, 3, 16))
    await signed(w.client, w.tokens, medical, elderly, start_date="2025-04-01", end_date="2026-03-31")
    w.clock.set_today(date(2026, 4, 10))  # the term is over; the calendar job has not run yet
    return Sent(agreement_body(medical, elderly, start_date="2026-04-01", end_date="2027-03-31"), elderly)


async def _valid(w: World) -> Sent:
    medical, elderly = await w.registry.medical(), await w.registry.elderly()
    return Sent(agreement_body(medical, elderly), elderly)


CASES = [
    _field_case("no_services", "validation_failed", {"services": []}, "services"),
    _field_case("unknown_service", "validation_failed", {"services": ["massage"]}, "services.0"),
    _field_case("repeated_service", "validation_failed", {"services": ["medical_rounds", "medical_rounds"]}),
    _field_case("negative_visit_count", "validation_failed", {"visit_count": -1}, "visit_count"),
    _field_case("too_many_visits", "validation_failed", {"visit_count": 101}, "visit_count"),
    _field_case("unknown_visit_period", "validation_failed", {"visit_period": "year"}, "visit_period"),
    _field_case("unknown_fee_payer", "validation_failed", {"fee_payer": "nobody"}, "fee_payer"),
    _field_case("negative_fee", "validation_failed", {"fee_amount_yuan": "-1"}, "fee_amount_yuan"),
    _field_case("fee_with_fractions_of_fen", "validation_failed", {"fee_amount_yuan": "1.005"}),
    _field_case("title_with_control_character", "validation_failed", {"title": "协议\x07"}, "title"),
    _field_case("long_title", "validation_failed", {"title": "协" * 301}, "title"),
    _field_case("long_duties", "validation_failed", {"medical_duties": "责" * 4001}, "medical_duties"),
    _field_case("start_year_1800", "validation_failed", {"start_date": "1800-01-01"}, "start_date"),
    _field_case("missing_end_date", "validation_failed", {"end_date": None}, "end_date"),
    _field_case(
        "ends_before_it_starts",
        "validation_failed",
        {"start_date": "2026-05-01", "end_date": "2026-04-30"},
    ),
    _field_case(
        "contact_with_a_bad_phone",
        "validation_failed",
        {"medical_contact": {"name": "李主任", "phone": "12345"}},
        "medical_contact.phone",
    ),
    _field_case(
        "contact_without_a_name",
        "validation_failed",
        {"elderly_contact": {"name": "", "phone": "13912345678"}},
        "elderly_contact.name",
    ),
    Case("same_institution_on_both_sides", _same_institution, "validation_failed"),
    Case("unknown_medical_party", _unknown_medical, "party_not_found", fields=["medical_institution_id"]),
    Case("unknown_elderly_party", _unknown_elderly, "party_not_found", fields=["elderly_institution_id"]),
    Case(
        "elderly_care_home_as_medical_party",
        _elderly_as_medical,
        "party_wrong_kind",
        fields=["medical_institution_id"],
    ),
    Case(
        "hospital_as_elderly_party",
        _medical_as_elderly,
        "party_wrong_kind",
        fields=["elderly_institution_id"],
    ),
    Case("inactive_medical_party", _inactive_medical, "party_inactive", fields=["medical_institution_id"]),
    Case("inactive_elderly_party", _inactive_elderly, "party_inactive", fields=["elderly_institution_id"]),
    Case("pair_with_a_draft", _pair_with_a_draft, "duplicate_agreement", status=409),
    Case("pair_with_one_in_force", _pair_in_force, "duplicate_agreement", status=409),
    Case("pair_whose_agreement_has_ended", _pair_whose_agreement_has_ended, None),
    Case("valid", _valid, None),
]


def _bulk_batch(body: dict[str, Any]) -> dict[str, Any]:
    return {"source_system": "xm-ijk", "records": [{**body, "external_id": f"R-{uuid.uuid4().hex[:12]}"}]}


def _single_result(answer: dict[str, Any]) -> dict[str, Any]:
    """The result of the only record of a batch."""
    results: list[dict[str, Any]] = answer["results"]
    assert len(results) == 1, answer
    return results[0]


def _fields(errors: list[dict[str, Any]] | None, prefix: str = "") -> list[str]:
    return [e["field"].removeprefix(prefix) for e in errors or []]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_a_rule_of_create_agreement_holds_in_bulk(
    case: Case, client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, clock: ManualClock
) -> None:
    world = World(client, registry, tokens, clock)
    # two copies of the situation: the single write of one must not change what the other meets
    alone, batched = await case.build(world), await case.build(world)

    single = await client.post(AGREEMENTS, json=alone.body, headers=admin_of(tokens, alone.actor))
    if case.code is None:
        assert single.status_code == 201, single.text
    else:
        assert (single.status_code, single.json()["code"]) == (case.status, case.code), single.text
        for name in case.fields:
            assert name in _fields(single.json().get("errors"), "body."), single.text

    platform = tokens.headers(Role.city_platform, "350200", sub="client:platform-350200")
    bulk = await client.post(BULK, json=_bulk_batch(batched.body), headers=platform)
    assert bulk.status_code == 200, bulk.text
    result = _single_result(bulk.json())
    if case.code is None:
        assert result["outcome"] == "created", result
        return
    assert (result["outcome"], result["code"]) == ("rejected", case.code), result
    for name in case.fields:
        assert name in _fields(result["errors"], "records.0."), result
