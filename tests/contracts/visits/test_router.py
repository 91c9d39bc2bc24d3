"""巡诊 visits and the shortfall arithmetic (agreed frequency vs the province minimum of 4 a month)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest

from libs.common.auth import Role
from libs.common.testing import Tokens
from services.contracts.clock import ManualClock
from tests.contracts.flows import AGREEMENTS, admin_of, signed, transition
from tests.contracts.registry_data import RegistryData

DOCTOR = uuid.uuid4()
MARCH = {"period_start": "2026-03-01", "period_end": "2026-03-31"}


def visit_body(day: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "visit_date": day,
        "practitioner_ids": [str(DOCTOR)],
        "residents_seen": 12,
        "resident_refs": ["B-101", "B-102"],
        "services": ["medical_rounds"],
        "findings": "2 人血压偏高，已调整用药",
    }
    body.update(overrides)
    return body


def staff_of(tokens: Tokens, institution: dict[str, Any]) -> dict[str, str]:
    return tokens.headers(
        Role.institution_staff,
        institution["region_code"],
        institution_id=uuid.UUID(institution["id"]),
        practitioner_id=DOCTOR,
    )


async def _log(
    client: httpx.AsyncClient, agreement: dict[str, Any], headers: dict[str, str], day: str
) -> None:
    response = await client.post(
        f"{AGREEMENTS}/{agreement['id']}/visits", json=visit_body(day), headers=headers
    )
    assert response.status_code == 201, response.text


async def test_medical_staff_log_a_visit_with_homebound_prescription(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    agreement = await signed(client, tokens, medical, elderly, start_date="2026-03-01")
    order = {
        "resident_ref": "B-102",
        "authorisation_ref": "SQ-2026-017",
        "authorised_on": "2026-03-10",
        "prescription": "苯磺酸氨氯地平片 5mg 每日一次",
    }
    response = await client.post(
        f"{AGREEMENTS}/{agreement['id']}/visits",
        json=visit_body("2026-03-12", homebound_orders=[order]),
        headers=staff_of(tokens, medical),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["homebound_orders"] == [order]
    assert body["service_labels"] == ["医疗巡诊"]
    listed = await client.get(f"{AGREEMENTS}/{agreement['id']}/visits", headers=admin_of(tokens, elderly))
    assert [v["id"] for v in listed.json()["items"]] == [body["id"]]


async def test_elderly_care_side_cannot_log_visits(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    agreement = await signed(client, tokens, medical, elderly, start_date="2026-03-01")
    response = await client.post(
        f"{AGREEMENTS}/{agreement['id']}/visits",
        json=visit_body("2026-03-12"),
        headers=staff_of(tokens, elderly),
    )
    assert (response.status_code, response.json()["code"]) == (403, "not_medical_party")


@pytest.mark.parametrize("day", ["2026-02-28", "2026-03-17"])
async def test_visit_outside_the_term_or_in_the_future_is_422(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, day: str
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    agreement = await signed(client, tokens, medical, elderly, start_date="2026-03-01")
    response = await client.post(
        f"{AGREEMENTS}/{agreement['id']}/visits", json=visit_body(day), headers=staff_of(tokens, medical)
    )
    assert (response.status_code, response.json()["code"]) == (422, "visit_outside_term")


async def test_service_not_in_the_agreement_is_422(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    agreement = await signed(client, tokens, medical, elderly, start_date="2026-03-01")
    response = await client.post(
        f"{AGREEMENTS}/{agreement['id']}/visits",
        json=visit_body("2026-03-12", services=["hospice"]),
        headers=staff_of(tokens, medical),
    )
    assert (response.status_code, response.json()["code"]) == (422, "service_not_agreed")


async def test_shortfall_weekly_agreement_over_a_whole_month(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, clock: ManualClock
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    agreement = await signed(client, tokens, medical, elderly, start_date="2026-01-01", end_date="2026-12-31")
    for day in ("2026-03-02", "2026-03-09", "2026-03-16"):
        await _log(client, agreement, staff_of(tokens, medical), day)
    clock.set_today(date(2026, 4, 10))
    response = await client.get(
        f"{AGREEMENTS}/{agreement['id']}/visits/shortfall", params=MARCH, headers=admin_of(tokens, elderly)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # 31 days in force; 1 a week → 31/7 = 4.43; the minimum 4 a month → 4 × 31 / (365/12) = 4.08
    assert (body["days_in_force"], body["agreed"], body["province_minimum"]) == (31, 4.43, 4.08)
    assert (body["required"], body["done"], body["shortfall"], body["falling_short"]) == (4.43, 3, 1.43, True)


async def test_shortfall_monthly_agreement_below_the_province_minimum_owes_the_minimum(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, clock: ManualClock
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    agreement = await signed(
        client, tokens, medical, elderly, start_date="2026-03-20", visit_count=2, visit_period="month"
    )
    for day in ("2026-03-20", "2026-03-25", "2026-03-28", "2026-03-30"):
        clock.set_today(date(2026, 3, 31))
        await _log(client, agreement, staff_of(tokens, medical), day)
    response = await client.get(
        f"{AGREEMENTS}/{agreement['id']}/visits/shortfall", params=MARCH, headers=admin_of(tokens, medical)
    )
    body = response.json()
    # in force 20–31 March: 12 days; 2 a month → 0.79; minimum 4 a month → 1.58; 4 done
    assert (body["days_in_force"], body["agreed"], body["province_minimum"]) == (12, 0.79, 1.58)
    assert (body["required"], body["done"], body["shortfall"], body["falling_short"]) == (1.58, 4, 0.0, False)


async def test_shortfall_stops_counting_at_termination_and_at_today(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, clock: ManualClock
) -> None:
    medical, elderly = await registry.medical(), await registry.elderly()
    agreement = await signed(client, tokens, medical, elderly, start_date="2026-01-01", visit_count=7)
    clock.set_today(date(2026, 3, 10))
    terminated = await transition(
        client, agreement, "terminate", admin_of(tokens, medical), json={"reason": "停业"}
    )
    assert terminated.status_code == 200
    clock.set_today(date(2026, 4, 30))
    body = (
        await client.get(
            f"{AGREEMENTS}/{agreement['id']}/visits/shortfall",
            params=MARCH,
            headers=admin_of(tokens, medical),
        )
    ).json()
    assert (body["days_in_force"], body["required"]) == (10, 10.0)  # 1–10 March, 7 a week
    clock.set_today(date(2026, 3, 5))
    body = (
        await client.get(
            f"{AGREEMENTS}/{agreement['id']}/visits/shortfall",
            params=MARCH,
            headers=admin_of(tokens, medical),
        )
    ).json()
    assert (body["period_end"], body["days_in_force"]) == ("2026-03-05", 5)


async def test_region_report_sums_agreements_and_counts_those_falling_short(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, clock: ManualClock
) -> None:
    medical = await registry.medical("350781")
    first, second = await registry.elderly("350781"), await registry.elderly("350781")
    elsewhere = await registry.elderly("350782")
    weekly = await signed(client, tokens, medical, first, start_date="2026-01-01")
    twice_weekly = await signed(client, tokens, medical, second, start_date="2026-01-01", visit_count=2)
    in_the_next_county = await signed(client, tokens, medical, elsewhere, start_date="2026-01-01")
    for day in ("2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30"):
        clock.set_today(date(2026, 3, 31))
        await _log(client, weekly, staff_of(tokens, medical), day)
        await _log(client, twice_weekly, staff_of(tokens, medical), day)
    clock.set_today(date(2026, 4, 10))
    response = await client.get(
        "/api/v1/contracts/visits/shortfall", params=MARCH, headers=tokens.headers(Role.city_admin, "350700")
    )
    assert response.status_code == 200, response.text
    regions = {r["region_code"]: r for r in response.json()["regions"]}
    # weekly: owes 4.43, did 5 → fine; twice weekly: owes 8.86, did 5 → short by 3.86
    assert regions["350781"]["agreements"] == 2
    assert (regions["350781"]["required"], regions["350781"]["done"]) == (13.29, 10)
    assert (regions["350781"]["shortfall"], regions["350781"]["falling_short"]) == (3.86, 1)
    assert (regions["350782"]["done"], regions["350782"]["falling_short"]) == (0, 1)
    listed = await client.get(
        "/api/v1/contracts/visits/shortfall/agreements",
        params={**MARCH, "only_falling_short": "true"},
        headers=tokens.headers(Role.county_admin, "350781"),
    )
    # the county reads its hospital's agreement with a home of the next county too (either party's county)
    assert [item["agreement_id"] for item in listed.json()["items"]] == sorted(
        [twice_weekly["id"], in_the_next_county["id"]]
    )
    # ... and counts it as its own in its report by county; the city counted it once, in the home's county
    county = await client.get(
        "/api/v1/contracts/visits/shortfall",
        params=MARCH,
        headers=tokens.headers(Role.county_admin, "350781"),
    )
    assert [(r["region_code"], r["agreements"], r["falling_short"]) for r in county.json()["regions"]] == [
        ("350781", 3, 2)
    ]
    assert regions["350782"]["agreements"] == 1
    by_city = await client.get(
        "/api/v1/contracts/visits/shortfall",
        params={**MARCH, "group_by": "city"},
        headers=tokens.headers(Role.province_admin, "350000"),
    )
    city = {r["region_code"]: r for r in by_city.json()["regions"]}["350700"]
    assert (city["agreements"], city["falling_short"]) == (3, 2)


async def test_shortfall_narrowed_to_a_region_keeps_agreements_with_either_party_there(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, clock: ManualClock
) -> None:
    """The console's region switcher: a city official narrows the shortfall list and summary to one of
    its counties; an agreement belongs to a region when either party's county lies in it (as the
    agreements list's region_code)."""
    medical = await registry.medical("350781")
    home_here, home_next_door = await registry.elderly("350781"), await registry.elderly("350782")
    local = await signed(client, tokens, medical, home_here, start_date="2026-01-01")
    across = await signed(client, tokens, medical, home_next_door, start_date="2026-01-01")
    other_city = await signed(
        client,
        tokens,
        await registry.medical("350203"),
        await registry.elderly("350203"),
        start_date="2026-01-01",
    )
    clock.set_today(date(2026, 4, 10))
    city = tokens.headers(Role.city_admin, "350700")

    async def listed(region_code: str) -> list[str]:
        response = await client.get(
            "/api/v1/contracts/visits/shortfall/agreements",
            params={**MARCH, "region_code": region_code},
            headers=city,
        )
        assert response.status_code == 200, response.text
        return [item["agreement_id"] for item in response.json()["items"]]

    assert await listed("350782") == [across["id"]]
    assert await listed("350781") == sorted([local["id"], across["id"]])
    assert await listed("350700") == sorted([local["id"], across["id"]])
    # a region outside the caller's scope narrows to nothing (its scope still applies)
    province_wide = tokens.headers(Role.province_admin, "350000")
    outside = await client.get(
        "/api/v1/contracts/visits/shortfall/agreements",
        params={**MARCH, "region_code": "350203"},
        headers=city,
    )
    assert outside.json()["items"] == []
    everywhere = await client.get(
        "/api/v1/contracts/visits/shortfall/agreements",
        params={**MARCH, "region_code": "350203"},
        headers=province_wide,
    )
    assert [item["agreement_id"] for item in everywhere.json()["items"]] == [other_city["id"]]

    summary = await client.get(
        "/api/v1/contracts/visits/shortfall", params={**MARCH, "region_code": "350782"}, headers=city
    )
    assert summary.status_code == 200, summary.text
    # the one agreement touching 350782 counts, for the city, in its home's county
    assert [(r["region_code"], r["agreements"]) for r in summary.json()["regions"]] == [("350782", 1)]

    unknown = await client.get(
        "/api/v1/contracts/visits/shortfall/agreements",
        params={**MARCH, "region_code": "359999"},
        headers=city,
    )
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_region"


async def test_period_end_before_start_is_422(client: httpx.AsyncClient, tokens: Tokens) -> None:
    response = await client.get(
        "/api/v1/contracts/visits/shortfall",
        params={"period_start": "2026-03-10", "period_end": "2026-03-01"},
        headers=tokens.headers(Role.province_admin),
    )
    assert (response.status_code, response.json()["code"]) == (422, "period_invalid")


async def test_a_shortfall_between_0_and_1_visit_is_reported_but_not_falling_short(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, clock: ManualClock
) -> None:
    """1 a week over March owes 31/7 = 4.43 visits; 4 done leave 0.43 — less than one whole visit, so
    the agreement is not flagged as falling short (a fraction of a visit cannot be missed)."""
    medical, elderly = await registry.medical(), await registry.elderly()
    agreement = await signed(client, tokens, medical, elderly, start_date="2026-01-01", end_date="2026-12-31")
    clock.set_today(date(2026, 4, 10))
    for day in ("2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23"):
        await _log(client, agreement, staff_of(tokens, medical), day)
    response = await client.get(
        f"{AGREEMENTS}/{agreement['id']}/visits/shortfall", params=MARCH, headers=admin_of(tokens, elderly)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["required"], body["done"], body["shortfall"], body["falling_short"]) == (
        4.43,
        4,
        0.43,
        False,
    )
