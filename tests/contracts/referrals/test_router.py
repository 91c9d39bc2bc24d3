"""双向转诊: eligibility, sides, transitions, one open referral per resident (also concurrently),
personal data, green-channel response times."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from libs.common.auth import Role
from libs.common.identifiers import id_number_check_char
from libs.common.testing import Tokens, live_client
from services.contracts.clock import ManualClock
from tests.contracts.conftest import LIVE_REGION
from tests.contracts.flows import admin_of, signed
from tests.contracts.registry_data import RegistryData

REFERRALS = "/api/v1/contracts/referrals"


def with_check(body: str) -> str:
    """A 17-digit ID body completed with its GB 11643 check character."""
    return body + id_number_check_char(body)


ID_NUMBER = "11010519491231002X"
OTHER_ID_NUMBER = with_check("11010519500101003")


def referral_body(
    agreement: dict[str, Any], *, direction: str = "up", id_number: str = ID_NUMBER
) -> dict[str, Any]:
    return {
        "agreement_id": agreement["id"],
        "direction": direction,
        "urgency": "emergency",
        "reason": "夜间突发胸闷，需急诊评估",
        "resident": {"name": "张三丰", "id_number": id_number, "phone": "13700001111"},
    }


async def _active(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, **overrides: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    medical, elderly = await registry.medical(), await registry.elderly()
    agreement = await signed(client, tokens, medical, elderly, start_date="2026-03-01", **overrides)
    return medical, elderly, agreement


async def _move(
    client: httpx.AsyncClient, referral: dict[str, Any], action: str, headers: dict[str, str], **body: Any
) -> httpx.Response:
    return await client.post(
        f"{REFERRALS}/{referral['id']}/{action}",
        json=body or None,
        headers={**headers, "If-Match": f'"{referral["version"]}"'},
    )


async def test_elderly_care_side_refers_up_and_sees_resident_masked(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly, agreement = await _active(client, registry, tokens)
    response = await client.post(REFERRALS, json=referral_body(agreement), headers=admin_of(tokens, elderly))
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["state"], body["from_institution_id"], body["to_institution_id"]) == (
        "requested",
        elderly["id"],
        medical["id"],
    )
    assert body["resident"] == {
        "name": "张*丰",
        "id_number": "110105********002X",
        "phone": "137****1111",
        "masked": True,
    }
    assert body["allowed_actions"] == ["accept", "decline", "cancel"]


async def test_referral_needs_an_active_agreement_with_referral_or_green_channel(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    _, elderly, rounds_only = await _active(client, registry, tokens, services=["medical_rounds"])
    response = await client.post(
        REFERRALS, json=referral_body(rounds_only), headers=admin_of(tokens, elderly)
    )
    assert (response.status_code, response.json()["code"]) == (422, "agreement_not_eligible")
    medical = await registry.medical()
    future = await signed(client, tokens, medical, elderly, start_date="2026-06-01")
    response = await client.post(REFERRALS, json=referral_body(future), headers=admin_of(tokens, elderly))
    assert (response.status_code, response.json()["code"]) == (422, "agreement_not_eligible")
    other_medical = await registry.medical()
    green_only = await signed(
        client, tokens, other_medical, elderly, start_date="2026-03-01", services=["emergency_green_channel"]
    )
    response = await client.post(REFERRALS, json=referral_body(green_only), headers=admin_of(tokens, elderly))
    assert response.status_code == 201


async def test_only_the_sending_side_may_request(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly, agreement = await _active(client, registry, tokens)
    up_by_hospital = await client.post(
        REFERRALS, json=referral_body(agreement), headers=admin_of(tokens, medical)
    )
    assert (up_by_hospital.status_code, up_by_hospital.json()["code"]) == (403, "wrong_side")
    down = await client.post(
        REFERRALS, json=referral_body(agreement, direction="down"), headers=admin_of(tokens, medical)
    )
    assert down.status_code == 201
    assert down.json()["to_institution_id"] == elderly["id"]


async def test_full_path_and_illegal_moves(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly, agreement = await _active(client, registry, tokens)
    referral = (
        await client.post(REFERRALS, json=referral_body(agreement), headers=admin_of(tokens, elderly))
    ).json()
    premature = await _move(client, referral, "admit", admin_of(tokens, medical))
    assert premature.status_code == 409
    assert premature.json()["extra"]["allowed"] == ["accept", "decline", "cancel"]
    by_sender = await _move(client, referral, "accept", admin_of(tokens, elderly))
    assert (by_sender.status_code, by_sender.json()["code"]) == (403, "wrong_side")
    accepted = await _move(client, referral, "accept", admin_of(tokens, medical))
    assert accepted.json()["state"] == "accepted"
    admitted = await _move(client, accepted.json(), "admit", admin_of(tokens, medical))
    assert admitted.json()["allowed_actions"] == ["return"]
    cancel_late = await _move(client, admitted.json(), "cancel", admin_of(tokens, elderly), reason="家属要求")
    assert cancel_late.status_code == 409
    returned = await _move(client, admitted.json(), "return", admin_of(tokens, medical))
    body = returned.json()
    assert (body["state"], body["allowed_actions"]) == ("returned", [])
    assert body["requested_at"] <= body["accepted_at"] <= body["admitted_at"] <= body["returned_at"]


async def test_decline_and_cancel_need_a_reason_and_close_the_referral(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly, agreement = await _active(client, registry, tokens)
    first = (
        await client.post(REFERRALS, json=referral_body(agreement), headers=admin_of(tokens, elderly))
    ).json()
    no_reason = await _move(client, first, "decline", admin_of(tokens, medical))
    assert no_reason.status_code == 422
    declined = await _move(client, first, "decline", admin_of(tokens, medical), reason="床位已满")
    assert (declined.json()["state"], declined.json()["close_reason"]) == ("declined", "床位已满")
    second = (
        await client.post(REFERRALS, json=referral_body(agreement), headers=admin_of(tokens, elderly))
    ).json()
    cancelled = await _move(client, second, "cancel", admin_of(tokens, elderly), reason="病情缓解")
    assert cancelled.json()["state"] == "cancelled"


async def test_second_open_referral_for_the_same_resident_is_409(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly, agreement = await _active(client, registry, tokens)
    first = await client.post(REFERRALS, json=referral_body(agreement), headers=admin_of(tokens, elderly))
    assert first.status_code == 201
    # the same person, typed with a lower-case x: the blind index normalises it
    again = referral_body(agreement, id_number=ID_NUMBER.lower())
    second = await client.post(REFERRALS, json=again, headers=admin_of(tokens, elderly))
    assert (second.status_code, second.json()["code"]) == (409, "open_referral_exists")
    other = await client.post(
        REFERRALS, json=referral_body(agreement, id_number=OTHER_ID_NUMBER), headers=admin_of(tokens, elderly)
    )
    assert other.status_code == 201
    closed = await _move(client, first.json(), "cancel", admin_of(tokens, elderly), reason="误报")
    assert closed.status_code == 200
    third = await client.post(REFERRALS, json=referral_body(agreement), headers=admin_of(tokens, elderly))
    assert third.status_code == 201


async def test_concurrent_requests_for_one_resident_open_exactly_one_referral(
    live_registry: RegistryData, tokens: Tokens, contracts_app: FastAPI
) -> None:
    medical, elderly = await live_registry.medical(LIVE_REGION), await live_registry.elderly(LIVE_REGION)
    id_number = _unique_id_number()
    async with live_client(contracts_app) as client:
        agreement = await signed(client, tokens, medical, elderly, start_date="2026-03-01")
        body = referral_body(agreement, id_number=id_number)
        responses = await asyncio.gather(
            *(client.post(REFERRALS, json=body, headers=admin_of(tokens, elderly)) for _ in range(6))
        )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409, 409, 409, 409, 409], [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"open_referral_exists"}


_SEQUENCE = itertools.count(100)


def _unique_id_number() -> str:
    """A valid ID number unique to this run (random sequence digits, check character computed)."""
    return with_check("350702" + "19400101" + f"{next(_SEQUENCE):03d}")


async def test_only_the_two_institutions_see_the_resident_whole(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly, agreement = await _active(client, registry, tokens)
    referral = (
        await client.post(REFERRALS, json=referral_body(agreement), headers=admin_of(tokens, elderly))
    ).json()
    for headers, whole in (
        (admin_of(tokens, medical), True),
        (tokens.headers(Role.institution_staff, "350206", institution_id=uuid.UUID(elderly["id"])), True),
        (tokens.headers(Role.county_admin, "350206"), False),
        (tokens.headers(Role.province_admin, "350000"), False),
    ):
        resident = (await client.get(f"{REFERRALS}/{referral['id']}", headers=headers)).json()["resident"]
        assert (resident["id_number"] == ID_NUMBER) is whole
        assert resident["masked"] is not whole
    stranger = await registry.elderly()
    hidden = await client.get(f"{REFERRALS}/{referral['id']}", headers=admin_of(tokens, stranger))
    assert hidden.status_code == 404


async def test_find_referrals_by_resident_id_number(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly, agreement = await _active(client, registry, tokens)
    await client.post(REFERRALS, json=referral_body(agreement), headers=admin_of(tokens, elderly))
    found = await client.get(
        REFERRALS, params={"resident_id_number": ID_NUMBER}, headers=admin_of(tokens, medical)
    )
    assert [item["agreement_id"] for item in found.json()["items"]] == [agreement["id"]]
    none = await client.get(
        REFERRALS, params={"resident_id_number": OTHER_ID_NUMBER}, headers=admin_of(tokens, medical)
    )
    assert none.json()["items"] == []


async def test_green_channel_response_times_by_region(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, clock: ManualClock
) -> None:
    medical = await registry.medical("350702")
    elderly = await registry.elderly("350702")
    other_county = await registry.elderly("350703")
    agreement = await signed(client, tokens, medical, elderly, start_date="2026-03-01")
    other_agreement = await signed(client, tokens, medical, other_county, start_date="2026-03-01")
    clock.set_today(date(2026, 3, 20))

    async def referral(
        agreement: dict[str, Any], sender: dict[str, Any], accept: int, admit: int | None
    ) -> None:
        created = await client.post(
            REFERRALS,
            json=referral_body(agreement, id_number=_unique_id_number()),
            headers=admin_of(tokens, sender),
        )
        assert created.status_code == 201, created.text
        clock.advance(timedelta(minutes=accept))
        accepted = (await _move(client, created.json(), "accept", admin_of(tokens, medical))).json()
        if admit is not None:
            clock.advance(timedelta(minutes=admit))
            await _move(client, accepted, "admit", admin_of(tokens, medical))

    await referral(agreement, elderly, 10, 30)
    await referral(agreement, elderly, 20, 50)
    await referral(agreement, elderly, 60, None)
    await referral(other_agreement, other_county, 5, 5)
    response = await client.get(
        f"{REFERRALS}/stats",
        params={"period_start": "2026-03-20", "period_end": "2026-03-20"},
        headers=tokens.headers(Role.city_admin, "350700"),
    )
    assert response.status_code == 200, response.text
    regions = {r["region_code"]: r for r in response.json()["regions"]}
    assert regions["350702"] == {
        "region_code": "350702",
        "region_name": regions["350702"]["region_name"],
        "requested": 3,
        "accepted": 3,
        "admitted": 2,
        "returned": 0,
        "declined": 0,
        "avg_minutes_to_accept": 30.0,
        "median_minutes_to_accept": 20.0,
        "avg_minutes_to_admit": 40.0,
        "median_minutes_to_admit": 40.0,
    }
    assert regions["350703"]["median_minutes_to_accept"] == 5.0
    by_city = await client.get(
        f"{REFERRALS}/stats",
        params={"period_start": "2026-03-20", "period_end": "2026-03-20", "group_by": "city"},
        headers=tokens.headers(Role.province_admin, "350000"),
    )
    city = {r["region_code"]: r for r in by_city.json()["regions"]}["350700"]
    assert (city["requested"], city["median_minutes_to_accept"], city["avg_minutes_to_accept"]) == (
        4,
        15.0,
        23.8,
    )
    outside = await client.get(
        f"{REFERRALS}/stats",
        params={"period_start": "2026-03-21", "period_end": "2026-03-31"},
        headers=tokens.headers(Role.city_admin, "350700"),
    )
    assert outside.json()["regions"] == []


async def test_inbox_and_outbox_of_an_institution(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    """box=received: referrals this institution is asked to take (it is the receiving side);
    box=sent: those it referred out; a region official has no side, so both boxes are empty."""
    medical, elderly, agreement = await _active(client, registry, tokens)
    up = await client.post(REFERRALS, json=referral_body(agreement), headers=admin_of(tokens, elderly))
    down = await client.post(
        REFERRALS,
        json=referral_body(agreement, direction="down", id_number=OTHER_ID_NUMBER),
        headers=admin_of(tokens, medical),
    )
    assert (up.status_code, down.status_code) == (201, 201)

    async def box(headers: dict[str, str], which: str) -> list[str]:
        response = await client.get(
            REFERRALS, params={"box": which, "agreement_id": agreement["id"]}, headers=headers
        )
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await box(admin_of(tokens, medical), "received") == [up.json()["id"]]
    assert await box(admin_of(tokens, medical), "sent") == [down.json()["id"]]
    assert await box(admin_of(tokens, elderly), "received") == [down.json()["id"]]
    assert await box(admin_of(tokens, elderly), "sent") == [up.json()["id"]]
    county = tokens.headers(Role.county_admin, agreement["region_code"])
    assert await box(county, "received") == []
    assert (
        len(
            (await client.get(REFERRALS, params={"agreement_id": agreement["id"]}, headers=county)).json()[
                "items"
            ]
        )
        == 2
    )
    wrong = await client.get(REFERRALS, params={"box": "inbox"}, headers=admin_of(tokens, medical))
    assert wrong.status_code == 422
