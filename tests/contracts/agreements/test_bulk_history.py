"""Historical import of agreements (issue 14): ``POST /agreements/bulk`` takes drafts and submitted
agreements and each agreement's past — who submitted it and when, its countersignature, activation,
expiry, termination, the agreement it renews, the county's 备案 — checked by the single path's rules and
by the dates' rules: none in the future, in the lifecycle's order, none the state cannot have.

"Today" is 2026-03-16 (09:00 in Shanghai, the tests' clock).
"""

from __future__ import annotations

from typing import Any

import httpx

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.contracts.agreements.test_bulk import BULK, batch, platform, record
from tests.contracts.flows import AGREEMENTS, admin_of, draft
from tests.contracts.registry_data import RegistryData

CHANGES = "/api/v1/contracts/changes"


async def _push(
    client: httpx.AsyncClient, tokens: Tokens, *records: dict[str, Any], city: str = "350200"
) -> dict[str, Any]:
    response = await client.post(BULK, json=batch(*records), headers=platform(tokens, city))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _codes(body: dict[str, Any]) -> list[tuple[str | None, str | None]]:
    return [(r["code"], (r["errors"] or [{}])[0].get("field")) for r in body["results"]]


async def test_an_agreement_s_history_is_kept_and_fed_with_its_original_dates(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical("350206"), await registry.elderly("350206")
    old = record(
        medical,
        elderly,
        "H-1",
        start_date="2024-01-01",
        end_date="2024-12-31",
        submitted_by_institution_id=elderly["id"],
        submitted_at="2023-12-10T10:00:00+08:00",
        countersigned_at="2023-12-15T10:00:00+08:00",
        activated_at="2024-01-01T00:00:00+08:00",
        expired_at="2025-01-01T00:05:00+08:00",
        filed_at="2023-12-20T15:00:00+08:00",
        filed_by="huli_admin",
        filing_note="材料齐全",
    )
    current = record(
        medical,
        elderly,
        "H-2",
        start_date="2025-01-01",
        end_date="2026-04-10",
        renews_external_id="H-1",
        submitted_by_institution_id=medical["id"],
        submitted_at="2024-12-01T09:00:00+08:00",
        countersigned_at="2024-12-05T09:00:00+08:00",
        activated_at="2025-01-01T00:00:00+08:00",
    )
    renewal = record(
        medical,
        elderly,
        "H-3",
        status="submitted",
        start_date="2026-04-11",
        end_date="2027-04-10",
        renews_external_id="H-2",
        submitted_by_institution_id=elderly["id"],
        submitted_at="2026-03-10T11:00:00+08:00",
    )
    other = await registry.elderly("350206")
    drafted = record(medical, other, "H-4", status="draft", start_date="2026-05-01", end_date="2027-04-30")
    body = await _push(client, tokens, old, current, renewal, drafted)
    assert [r["outcome"] for r in body["results"]] == ["created"] * 4, body
    ids = [r["id"] for r in body["results"]]

    read = [(await client.get(f"{AGREEMENTS}/{i}", headers=platform(tokens))).json() for i in ids]
    assert [a["state"] for a in read] == ["expired", "active", "submitted", "draft"]
    assert read[0]["countersigned_at"] == "2023-12-15T02:00:00Z"
    assert read[0]["filed_at"] == "2023-12-20T07:00:00Z"
    assert (read[0]["filed_by"], read[0]["filing_note"]) == ("huli_admin", "材料齐全")
    assert read[0]["expired_at"] == "2024-12-31T16:05:00Z"
    assert read[1]["renews_id"] == ids[0]
    assert read[1]["activated_at"] == "2024-12-31T16:00:00Z"
    assert (read[2]["renews_id"], read[2]["submitted_by_institution_id"]) == (ids[1], elderly["id"])
    assert read[2]["submitted_at"] == "2026-03-10T03:00:00Z"
    assert read[2]["countersigned_at"] is None
    assert (read[3]["submitted_at"], read[3]["filed_by"]) == (None, None)

    # the other party countersigns the submitted renewal as if it had been submitted in the console
    countersign = await client.post(
        f"{AGREEMENTS}/{ids[2]}/countersign",
        headers={**admin_of(tokens, elderly), "If-Match": '"1"'},
    )
    assert countersign.json()["code"] == "countersign_by_other_party"

    # the feed carries the original dates, in the order written
    feed = (await client.get(CHANGES, params={"limit": 200}, headers=platform(tokens))).json()["items"]
    mine = [c for c in feed if c["entity_id"] in ids]
    assert [c["entity_id"] for c in mine] == ids
    assert mine[0]["data"]["countersigned_at"].startswith("2023-12-15T02:00:00")
    assert mine[0]["data"]["filed_at"].startswith("2023-12-20T07:00:00")
    assert mine[1]["data"]["renews_id"] == ids[0]

    replay = await _push(client, tokens, old, current, renewal, drafted)
    assert replay["counts"] == {"created": 0, "updated": 0, "unchanged": 4, "rejected": 0}


async def test_dates_in_the_future_out_of_order_or_not_of_the_state_are_refused(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical = await registry.medical("350206")
    homes = [await registry.elderly("350206") for _ in range(9)]
    signed = {"start_date": "2025-01-01", "end_date": "2025-12-31"}
    records = [
        record(medical, homes[0], "F-1", countersigned_at="2026-03-16T10:00:00+08:00"),
        record(
            medical,
            homes[1],
            "F-2",
            submitted_at="2025-12-10T10:00:00+08:00",
            countersigned_at="2025-12-01T10:00:00+08:00",
        ),
        record(medical, homes[2], "F-3", **signed, activated_at="2024-12-31T10:00:00+08:00"),
        record(medical, homes[3], "F-4", **signed, expired_at="2025-12-31T10:00:00+08:00"),
        record(
            medical,
            homes[4],
            "F-5",
            status="draft",
            start_date="2026-05-01",
            end_date="2027-04-30",
            countersigned_at="2026-03-01T10:00:00+08:00",
        ),
        record(
            medical,
            homes[5],
            "F-6",
            status="draft",
            start_date="2026-05-01",
            end_date="2027-04-30",
            filed_at="2026-03-01T10:00:00+08:00",
            filed_by="huli_admin",
        ),
        record(
            medical,
            homes[6],
            "F-7",
            countersigned_at="2025-12-20T10:00:00+08:00",
            filed_at="2025-12-10T10:00:00+08:00",
            filed_by="huli_admin",
        ),
        record(
            medical,
            homes[7],
            "F-8",
            status="terminated",
            termination_reason="养老机构停业",
            terminated_on="2026-02-01",
            terminated_at="2026-02-10T10:00:00+08:00",
        ),
        record(medical, homes[8], "F-9", expired_at="2026-03-01T10:00:00+08:00"),
    ]
    body = await _push(client, tokens, *records)
    assert _codes(body) == [
        ("history_in_future", "records.0.countersigned_at"),
        ("history_out_of_order", "records.1.countersigned_at"),
        ("history_out_of_order", "records.2.activated_at"),
        ("history_out_of_order", "records.3.expired_at"),
        ("history_not_in_state", "records.4.countersigned_at"),
        ("not_fileable", None),
        ("history_out_of_order", "records.6.filed_at"),
        ("history_out_of_order", "records.7.terminated_on"),
        ("history_not_in_state", "records.8.expired_at"),
    ]
    assert body["counts"]["rejected"] == 9


async def test_drafts_and_submissions_obey_the_single_path(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical = await registry.medical("350206")
    homes = [await registry.elderly("350206") for _ in range(4)]
    stranger = await registry.medical("350206")
    await draft(client, tokens, medical, homes[3])
    future = {"start_date": "2026-05-01", "end_date": "2027-04-30"}
    body = await _push(
        client,
        tokens,
        record(medical, homes[0], "G-1", status="submitted", **future),
        record(
            medical,
            homes[1],
            "G-2",
            status="submitted",
            **future,
            submitted_by_institution_id=stranger["id"],
        ),
        record(
            medical,
            homes[2],
            "G-3",
            status="submitted",
            start_date="2025-01-01",
            end_date="2025-12-31",
            submitted_by_institution_id=homes[2]["id"],
        ),
        record(medical, homes[3], "G-4", status="draft", **future),
    )
    assert _codes(body) == [
        ("validation_failed", "records.0"),
        ("party_not_in_agreement", "records.1.submitted_by_institution_id"),
        ("term_over", None),
        ("duplicate_agreement", None),
    ]


async def test_a_renewal_names_a_renewable_agreement_of_its_pair_once(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly, other = (
        await registry.medical("350206"),
        await registry.elderly("350206"),
        await registry.elderly("350206"),
    )
    base = await _push(
        client,
        tokens,
        record(medical, elderly, "R-1", start_date="2025-06-01", end_date="2026-05-31"),
        record(
            medical,
            other,
            "R-2",
            status="terminated",
            start_date="2025-01-01",
            end_date="2025-12-31",
            termination_reason="养老机构停业",
            terminated_on="2025-06-30",
        ),
    )
    assert base["counts"]["created"] == 2
    nxt = {"status": "submitted", "submitted_by_institution_id": medical["id"]}
    body = await _push(
        client,
        tokens,
        record(
            medical,
            elderly,
            "R-3",
            **nxt,
            start_date="2026-06-01",
            end_date="2027-05-31",
            renews_external_id="R-0",
        ),
        record(
            medical,
            elderly,
            "R-4",
            **nxt,
            start_date="2026-06-01",
            end_date="2027-05-31",
            renews_external_id="R-2",
        ),
        record(
            medical,
            other,
            "R-5",
            **nxt,
            start_date="2026-06-01",
            end_date="2027-05-31",
            renews_external_id="R-2",
        ),
        record(
            medical,
            elderly,
            "R-6",
            **nxt,
            start_date="2026-05-01",
            end_date="2027-04-30",
            renews_external_id="R-1",
        ),
        record(
            medical,
            elderly,
            "R-7",
            **nxt,
            start_date="2026-06-01",
            end_date="2027-05-31",
            renews_external_id="R-1",
        ),
    )
    assert _codes(body) == [
        ("renews_not_found", "records.0.renews_external_id"),
        ("renewal_pair_mismatch", "records.1.renews_external_id"),
        ("illegal_transition", None),
        ("renewal_overlaps", None),
        (None, None),
    ]
    again = await _push(
        client,
        tokens,
        record(
            medical,
            elderly,
            "R-8",
            status="draft",
            start_date="2026-06-01",
            end_date="2027-05-31",
            renews_external_id="R-1",
        ),
    )
    assert _codes(again) == [("already_renewed", None)]


async def test_an_update_never_takes_an_agreement_back_nor_refiles_it(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical("350206"), await registry.elderly("350206")
    filed = {"filed_at": "2026-01-10T10:00:00+08:00", "filed_by": "huli_admin"}
    signed = record(medical, elderly, "U-1", countersigned_at="2025-12-20T10:00:00+08:00", **filed)
    assert (await _push(client, tokens, signed))["counts"]["created"] == 1
    back = {**signed, "status": "draft"}
    for key in ("countersigned_at", "filed_at", "filed_by"):
        back.pop(key)
    refiled = {**signed, "filed_at": "2026-02-10T10:00:00+08:00"}
    assert _codes(await _push(client, tokens, back)) == [("illegal_transition", None)]
    assert _codes(await _push(client, tokens, refiled)) == [("already_filed", None)]
    # a moment not given keeps what the agreement holds
    edited = {**signed, "visit_count": 2}
    edited.pop("filed_at")
    edited.pop("filed_by")
    updated = await _push(client, tokens, edited)
    assert updated["counts"]["updated"] == 1
    one = (await client.get(f"{AGREEMENTS}/{updated['results'][0]['id']}", headers=platform(tokens))).json()
    assert (one["filed_at"], one["countersigned_at"]) == ("2026-01-10T02:00:00Z", "2025-12-20T02:00:00Z")


async def test_only_the_province_and_platforms_in_their_city_import(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await registry.medical("350206"), await registry.elderly("350206")
    body = batch(
        record(medical, elderly, "S-1", status="draft", start_date="2026-05-01", end_date="2027-04-30")
    )
    refused = await client.post(BULK, json=body, headers=admin_of(tokens, elderly))
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    county = await client.post(BULK, json=body, headers=tokens.headers(Role.county_admin, "350206"))
    assert county.status_code == 403
    fuzhou = (await client.post(BULK, json=body, headers=platform(tokens, "350100"))).json()
    assert _codes(fuzhou) == [("out_of_scope", None)]
    province = (await client.post(BULK, json=body, headers=tokens.headers(Role.province_admin))).json()
    assert province["counts"]["created"] == 1
