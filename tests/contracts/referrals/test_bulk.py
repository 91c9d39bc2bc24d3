"""Historical import of 双向转诊 referrals (issue 14): ``POST /referrals/bulk`` — past referrals with
their state and the moments of the lifecycle's transitions, under the rules of ``POST /referrals`` (an
agreement with 双向转诊 or 绿色通道 in force on the day of the request, one open referral per resident,
the resident encrypted), fed with their original dates and without the resident.

"Today" is 2026-03-16, 09:00 in Shanghai (the tests' clock).
"""

from __future__ import annotations

from typing import Any

import httpx

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.contracts.agreements.test_bulk import platform
from tests.contracts.flows import admin_of
from tests.contracts.referrals.test_router import ID_NUMBER, REFERRALS, with_check
from tests.contracts.registry_data import RegistryData
from tests.contracts.visits.test_bulk import _agreements, _medical

REFERRALS_BULK = f"{REFERRALS}/bulk"
CHANGES = "/api/v1/contracts/changes"


def referral(external_id: str, agreement: str = "XY-1", **overrides: Any) -> dict[str, Any]:
    """A referral up, returned: requested 2025-05-01 22:10, accepted 22:25, admitted 23:05, back 05-12."""
    return {
        "external_id": external_id,
        "agreement_external_id": agreement,
        "direction": "up",
        "urgency": "emergency",
        "reason": "夜间突发胸闷气促",
        "resident": {"name": "张三丰", "id_number": ID_NUMBER, "phone": "13700001111"},
        "state": "returned",
        "requested_at": "2025-05-01T22:10:00+08:00",
        "accepted_at": "2025-05-01T22:25:00+08:00",
        "admitted_at": "2025-05-01T23:05:00+08:00",
        "returned_at": "2025-05-12T10:00:00+08:00",
        "requested_by": "home_nurse",
        **overrides,
    }


def opened(external_id: str, agreement: str = "XY-1", **overrides: Any) -> dict[str, Any]:
    """A referral still requested (none after it)."""
    return referral(
        external_id,
        agreement,
        state="requested",
        accepted_at=None,
        admitted_at=None,
        returned_at=None,
        **overrides,
    )


async def _push(
    client: httpx.AsyncClient, tokens: Tokens, *records: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    response = await client.post(
        REFERRALS_BULK,
        json={"source_system": "xm-ijk", "records": list(records)},
        headers=headers or platform(tokens),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _codes(body: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    return [(r["code"], (r["errors"] or [{}])[0].get("field")) for r in body["results"]]


async def test_a_past_referral_is_kept_with_its_dates_its_resident_encrypted_and_fed_without_them(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    first, _ = await _agreements(client, registry, tokens)
    body = await _push(client, tokens, referral("Z-1"))
    assert body["counts"]["created"] == 1, body
    referral_id = body["results"][0]["id"]
    medical = _medical(first)
    whole = (await client.get(f"{REFERRALS}/{referral_id}", headers=admin_of(tokens, medical))).json()
    assert (whole["state"], whole["resident"]["id_number"], whole["resident"]["masked"]) == (
        "returned",
        ID_NUMBER,
        False,
    )
    assert (whole["requested_at"], whole["returned_at"]) == ("2025-05-01T14:10:00Z", "2025-05-12T02:00:00Z")
    assert (whole["from_institution_id"], whole["to_institution_id"]) == (
        first["elderly_party"]["institution_id"],
        medical["id"],
    )
    official = (
        await client.get(f"{REFERRALS}/{referral_id}", headers=tokens.headers(Role.county_admin, "350206"))
    ).json()
    assert official["resident"]["masked"] is True
    assert ID_NUMBER not in str(official)
    found = (
        await client.get(
            REFERRALS, params={"resident_id_number": ID_NUMBER}, headers=tokens.headers(Role.province_admin)
        )
    ).json()["items"]
    assert [r["id"] for r in found] == [referral_id]

    feed = (
        await client.get(CHANGES, params={"limit": 200}, headers=tokens.headers(Role.province_admin))
    ).json()["items"]
    entry = next(c for c in feed if c["entity_id"] == referral_id)
    assert entry["data"]["state"] == "returned"
    assert entry["data"]["admitted_at"].startswith("2025-05-01T15:05:00")
    for secret in (ID_NUMBER, "张三丰", "13700001111"):
        assert secret not in str(entry)

    replay = await _push(client, tokens, referral("Z-1"))
    assert replay["counts"] == {"created": 0, "updated": 0, "unchanged": 1, "rejected": 0}


async def test_moments_in_the_future_out_of_order_or_not_of_the_state_are_refused(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    await _agreements(client, registry, tokens)
    ids = [with_check(f"35020619400101{n:03d}") for n in range(1, 9)]

    def resident(n: int) -> dict[str, Any]:
        return {"resident": {"name": "李四", "id_number": ids[n]}}

    body = await _push(
        client,
        tokens,
        referral("B-1", **resident(0), returned_at="2026-03-16T10:00:00+08:00"),
        referral("B-2", **resident(1), admitted_at="2025-05-01T22:20:00+08:00"),
        referral("B-3", **resident(2), admitted_at=None),
        referral(
            "B-4",
            **resident(3),
            state="declined",
            admitted_at=None,
            returned_at=None,
            closed_at="2025-05-01T23:00:00+08:00",
            close_reason="床位已满",
        ),
        opened("B-5", **resident(4), closed_at="2025-05-01T23:00:00+08:00"),
        referral(
            "B-6",
            **resident(5),
            state="cancelled",
            admitted_at=None,
            returned_at=None,
            closed_at="2025-05-01T23:00:00+08:00",
        ),
        referral(
            "B-7",
            **resident(6),
            state="cancelled",
            admitted_at=None,
            returned_at=None,
            closed_at="2025-05-01T22:20:00+08:00",
            close_reason="家属改为自行就医",
        ),
        referral(
            "B-8",
            **resident(7),
            state="cancelled",
            admitted_at=None,
            returned_at=None,
            closed_at="2025-05-01T23:00:00+08:00",
            close_reason="家属改为自行就医",
        ),
    )
    assert _codes(body) == [
        ("history_in_future", "records.0.returned_at"),
        ("history_out_of_order", "records.1.admitted_at"),
        ("history_not_in_state", "records.2.admitted_at"),
        ("history_not_in_state", "records.3.accepted_at"),
        ("history_not_in_state", "records.4.closed_at"),
        ("history_not_in_state", "records.5.close_reason"),
        ("history_out_of_order", "records.6.closed_at"),
        (None, None),  # cancelled after it was accepted
    ]


async def test_a_referral_needs_an_agreement_in_force_with_referrals_on_its_day(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    await _agreements(client, registry, tokens)
    before = {"requested_at": "2024-12-31T10:00:00+08:00"}
    body = await _push(
        client,
        tokens,
        opened("E-1", **before),
        opened("E-2", "XY-2", requested_at="2025-07-01T10:00:00+08:00"),
        opened("E-3", "XY-9"),
        referral(
            "E-4",
            "XY-2",
            requested_at="2025-06-30T08:00:00+08:00",
            accepted_at="2025-06-30T08:10:00+08:00",
            admitted_at="2025-06-30T09:00:00+08:00",
            returned_at="2025-07-03T09:00:00+08:00",
        ),
    )
    assert _codes(body) == [
        ("agreement_not_eligible", None),
        ("agreement_not_eligible", None),
        ("agreement_not_found", None),
        (None, None),
    ]


async def test_one_open_referral_per_resident_and_updates_move_only_forward(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    await _agreements(client, registry, tokens)
    body = await _push(
        client,
        tokens,
        opened("O-1", requested_at="2025-12-01T10:00:00+08:00"),
        opened("O-2", requested_at="2025-12-02T10:00:00+08:00"),
        referral("O-3"),  # closed: the same resident may have had others before
    )
    assert _codes(body) == [(None, None), ("open_referral_exists", None), (None, None)]
    # the single path sees the imported open referral too
    accepted = referral(
        "O-1",
        state="accepted",
        requested_at="2025-12-01T10:00:00+08:00",
        accepted_at="2025-12-01T10:30:00+08:00",
        admitted_at=None,
        returned_at=None,
    )
    moved = await _push(client, tokens, accepted)
    assert (moved["counts"]["updated"], moved["results"][0]["version"]) == (1, 2)
    back = opened("O-1", requested_at="2025-12-01T10:00:00+08:00")
    assert _codes(await _push(client, tokens, back)) == [("illegal_transition", None)]
    other = await _push(
        client,
        tokens,
        opened(
            "O-4",
            requested_at="2025-12-03T10:00:00+08:00",
            # a resident of this file's own (the bulk registers its residents in the shared index)
            resident={"name": "王五", "id_number": with_check("35020619450315071")},
        ),
    )
    assert other["counts"]["created"] == 1


async def test_only_the_province_and_the_agreement_s_city_platform_import_referrals(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    first, _ = await _agreements(client, registry, tokens)
    record = referral("P-1")
    for headers in (admin_of(tokens, _medical(first)), tokens.headers(Role.city_admin, "350200")):
        refused = await client.post(
            REFERRALS_BULK, json={"source_system": "xm-ijk", "records": [record]}, headers=headers
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    fuzhou = await _push(client, tokens, record, headers=platform(tokens, "350100"))
    assert _codes(fuzhou) == [("out_of_scope", None)]
    by_id = {**record, "agreement_external_id": None, "agreement_id": first["id"]}
    fuzhou = await _push(client, tokens, by_id, headers=platform(tokens, "350100"))
    assert _codes(fuzhou) == [("out_of_scope", None)]
    province = await _push(client, tokens, by_id, headers=tokens.headers(Role.province_admin))
    assert province["counts"]["created"] == 1
