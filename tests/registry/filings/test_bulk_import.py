"""``POST /filings/bulk``: past 备案 filings with their original dates and states (issue 14).

Expectations from the rules (shared/domain/rules.md "Institutions and 备案": a 即办 filing takes effect
when the document set is complete, can be corrected or revoked later with the history kept; an accepted
filing gives an elderly-care home its medical unit) and the bulk protocol (libs/common/bulk.py: per-record
outcomes, replay changes nothing, batch limit), plus the history's date rules (no date in the future,
revoked not before accepted, not before the institution opened)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from libs.common.auth import Role
from libs.common.testing import Tokens
from tests.registry.factories import FILINGS, INSTITUTIONS, create_institution, hospital_body

BULK = f"{FILINGS}/bulk"
HULI, SIMING = "350206", "350203"
DOCUMENTS = ["application_form", "premises_proof", "staff_qualifications", "rules"]
ACCEPTED = "2019-03-01T10:00:00+08:00"
REVOKED = "2019-09-17T15:30:00+08:00"
#: the fields of POST /filings (a single write)
FILING_BODY = {
    "institution_id",
    "unit_kind",
    "unit_name",
    "person_in_charge",
    "doctors",
    "nurses",
    "documents",
}


def record(external_id: str, institution_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_id": external_id,
        "institution_id": institution_id,
        "unit_kind": "infirmary",
        "unit_name": "湖里区测试护理院医务室",
        "person_in_charge": "王医生",
        "doctors": 1,
        "nurses": 2,
        "documents": DOCUMENTS,
        "accepted_at": ACCEPTED,
        "filing_no": f"YB3502062019{uuid.uuid4().int % 10**6:06d}",
    }
    body.update(overrides)
    return body


def province(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(Role.province_admin, "350000")


async def post(
    client: httpx.AsyncClient, headers: dict[str, str], *records: dict[str, Any], source: str = "xm-legacy"
) -> httpx.Response:
    return await client.post(BULK, json={"source_system": source, "records": list(records)}, headers=headers)


async def institution_flag(client: httpx.AsyncClient, tokens: Tokens, institution_id: str) -> bool:
    response = await client.get(f"{INSTITUTIONS}/{institution_id}", headers=province(tokens))
    return bool(response.json()["has_medical_unit"])


async def test_a_past_accepted_filing_keeps_its_dates_and_number_and_gives_the_home_its_unit(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    home = await create_institution(client, tokens)
    sent = record("BA-1", home["id"], filing_no="YB350206201900007")
    response = await post(client, province(tokens), sent)
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["outcome"] == "created", result
    filing = (await client.get(f"{FILINGS}/{result['id']}", headers=province(tokens))).json()
    assert filing["state"] == "accepted"
    assert filing["filing_no"] == "YB350206201900007"
    assert datetime.fromisoformat(filing["accepted_at"]) == datetime.fromisoformat(ACCEPTED)
    history = (await client.get(f"{FILINGS}/{result['id']}/history", headers=province(tokens))).json()
    assert [(e["action"], e["to_state"]) for e in history] == [("submit", "accepted")]
    assert datetime.fromisoformat(history[0]["occurred_at"]) == datetime.fromisoformat(ACCEPTED)
    assert await institution_flag(client, tokens, home["id"]) is True


async def test_a_revoked_filing_keeps_both_steps_on_their_dates_and_leaves_no_unit(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    home = await create_institution(client, tokens)
    sent = record(
        "BA-2", home["id"], state="revoked", revoked_at=REVOKED, revoke_reason="现场核查：医师执业地点未变更"
    )
    result = (await post(client, province(tokens), sent)).json()["results"][0]
    assert result["outcome"] == "created", result
    filing = (await client.get(f"{FILINGS}/{result['id']}", headers=province(tokens))).json()
    assert filing["state"] == "revoked"
    assert filing["state_reason"] == "现场核查：医师执业地点未变更"
    assert datetime.fromisoformat(filing["revoked_at"]) == datetime.fromisoformat(REVOKED)
    assert filing["allowed_actions"] == []
    history = (await client.get(f"{FILINGS}/{result['id']}/history", headers=province(tokens))).json()
    assert [(e["action"], datetime.fromisoformat(e["occurred_at"])) for e in history] == [
        ("submit", datetime.fromisoformat(ACCEPTED)),
        ("revoke", datetime.fromisoformat(REVOKED)),
    ]
    assert await institution_flag(client, tokens, home["id"]) is False


async def test_replaying_the_batch_finds_every_record_unchanged_and_writes_nothing(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    home, other = await create_institution(client, tokens), await create_institution(client, tokens)
    records = [
        record("R-1", home["id"]),
        record("R-2", other["id"], state="revoked", revoked_at=REVOKED, revoke_reason="撤销理由"),
    ]
    first = await post(client, province(tokens), *records)
    assert first.json()["counts"]["created"] == 2, first.text
    feed_before = await client.get(
        "/api/v1/registry/changes", params={"limit": 1000}, headers=province(tokens)
    )
    replay = await post(client, province(tokens), *records)
    assert replay.json()["counts"] == {"created": 0, "updated": 0, "unchanged": 2, "rejected": 0}
    assert [r["id"] for r in replay.json()["results"]] == [r["id"] for r in first.json()["results"]]
    feed_after = await client.get(
        "/api/v1/registry/changes", params={"limit": 1000}, headers=province(tokens)
    )
    assert len(feed_after.json()["items"]) == len(feed_before.json()["items"])


async def test_the_feed_carries_the_original_dates_in_write_order(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    home, other = await create_institution(client, tokens), await create_institution(client, tokens)
    response = await post(
        client,
        province(tokens),
        record("F-1", home["id"]),
        record("F-2", other["id"], state="revoked", revoked_at=REVOKED, revoke_reason="撤销理由"),
    )
    ids = [r["id"] for r in response.json()["results"]]
    feed = await client.get("/api/v1/registry/changes", params={"limit": 1000}, headers=province(tokens))
    entries = [e for e in feed.json()["items"] if e["entity_type"] == "filing" and e["entity_id"] in ids]
    assert [e["entity_id"] for e in entries] == ids
    first, second = (e["data"] for e in entries)
    assert datetime.fromisoformat(first["accepted_at"]) == datetime.fromisoformat(ACCEPTED)
    assert first["state"] == "accepted"
    assert first["revoked_at"] is None
    assert second["state"] == "revoked"
    assert datetime.fromisoformat(second["revoked_at"]) == datetime.fromisoformat(REVOKED)
    assert "external_id" not in first
    assert "source_system" not in first


async def test_a_later_batch_revokes_an_imported_filing_on_its_date(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    home = await create_institution(client, tokens)
    sent = record("L-1", home["id"])
    created = (await post(client, province(tokens), sent)).json()["results"][0]
    revoked = await post(
        client, province(tokens), {**sent, "state": "revoked", "revoked_at": REVOKED, "revoke_reason": "撤销"}
    )
    result = revoked.json()["results"][0]
    assert (result["outcome"], result["id"], result["version"]) == ("updated", created["id"], 2)
    assert await institution_flag(client, tokens, home["id"]) is False
    back = await post(client, province(tokens), sent)
    assert back.json()["results"][0]["code"] == "illegal_transition"


async def test_dates_in_the_future_out_of_order_or_before_the_home_opened_are_refused(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    home = await create_institution(client, tokens)  # opened 2015-06-01
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    response = await post(
        client,
        province(tokens),
        record("D-1", home["id"], accepted_at=tomorrow),
        record("D-2", home["id"], state="revoked", revoked_at=tomorrow, revoke_reason="撤销理由"),
        record(
            "D-3",
            home["id"],
            accepted_at="2020-05-01T09:00:00+08:00",
            state="revoked",
            revoked_at="2020-04-30T09:00:00+08:00",
            revoke_reason="撤销理由",
        ),
        record("D-4", home["id"], accepted_at="2015-05-31T09:00:00+08:00"),
    )
    results = response.json()["results"]
    assert [r["code"] for r in results] == [
        "date_in_future",
        "date_in_future",
        "dates_out_of_order",
        "before_institution_opened",
    ]
    assert results[0]["errors"][0]["field"] == "records.0.accepted_at"
    assert results[2]["errors"][0]["field"] == "records.2.revoked_at"
    listed = await client.get(FILINGS, params={"institution_id": home["id"]}, headers=province(tokens))
    assert listed.json()["items"] == []


async def test_the_single_writes_rules_refuse_a_record_alone(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    home = await create_institution(client, tokens)
    hospital = await create_institution(client, tokens, hospital_body())
    inactive = await create_institution(client, tokens)
    deactivated = await client.post(
        f"{INSTITUTIONS}/{inactive['id']}/deactivate",
        json={"reason": "停业"},
        headers={**tokens.headers(Role.county_admin, HULI), "If-Match": f'"{inactive["version"]}"'},
    )
    assert deactivated.status_code == 200, deactivated.text
    taken = record("T-1", home["id"])
    response = await post(
        client,
        province(tokens),
        record("S-1", home["id"], documents=["application_form"]),
        record("S-2", hospital["id"]),
        record("S-3", inactive["id"]),
        record("S-4", str(uuid.uuid4())),
        record("S-5", home["id"], state="revoked"),
        record("S-6", home["id"], state="draft"),
        taken,
        {**record("S-7", home["id"]), "filing_no": taken["filing_no"]},
    )
    results = response.json()["results"]
    assert [r["code"] for r in results] == [
        "filing_incomplete",
        "filing_not_allowed",
        "institution_inactive",
        "institution_not_found",
        "validation_failed",
        "validation_failed",
        None,
        "duplicate_in_batch",
    ]
    again = await post(
        client, province(tokens), {**record("S-8", home["id"]), "filing_no": taken["filing_no"]}
    )
    assert again.json()["results"][0]["code"] == "filing_no_taken"


async def test_an_imported_filings_number_and_acceptance_time_are_fixed(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    home = await create_institution(client, tokens)
    sent = record("X-1", home["id"])
    await post(client, province(tokens), sent)
    response = await post(client, province(tokens), {**sent, "accepted_at": "2019-03-02T10:00:00+08:00"})
    result = response.json()["results"][0]
    assert result["code"] == "filing_history_fixed"
    assert result["errors"][0]["field"] == "records.0.accepted_at"


async def test_scope_a_county_imports_its_own_homes_only_and_institutions_may_not_import(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    huli_home = await create_institution(client, tokens)
    siming_home = await create_institution(client, tokens, region_code=SIMING, lat=24.45, lng=118.08)
    response = await post(
        client,
        tokens.headers(Role.county_admin, SIMING),
        record("C-1", siming_home["id"]),
        record("C-2", huli_home["id"]),
    )
    assert [r["outcome"] for r in response.json()["results"]] == ["created", "rejected"]
    assert response.json()["results"][1]["code"] == "institution_not_found"
    city = await post(client, tokens.headers(Role.city_admin, "350100"), record("C-3", huli_home["id"]))
    assert city.json()["results"][0]["code"] == "institution_not_found"
    own = tokens.headers(Role.institution_admin, HULI, institution_id=uuid.UUID(huli_home["id"]))
    refused = await post(client, own, record("C-4", huli_home["id"]))
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


async def test_a_batch_above_the_limit_is_refused_whole(client: httpx.AsyncClient, tokens: Tokens) -> None:
    home = await create_institution(client, tokens)
    records = [record(f"B-{i}", home["id"]) for i in range(1001)]
    response = await post(client, province(tokens), *records)
    assert response.status_code == 422
    assert response.json()["code"] == "batch_too_large"
    listed = await client.get(FILINGS, params={"institution_id": home["id"]}, headers=province(tokens))
    assert listed.json()["items"] == []


async def test_a_revocation_through_the_single_path_records_when_it_happened(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    home = await create_institution(client, tokens)
    created = await client.post(
        FILINGS,
        json={k: v for k, v in record("-", home["id"]).items() if k in FILING_BODY},
        headers=tokens.headers(Role.county_admin, HULI),
    )
    assert created.status_code == 201, created.text
    assert created.json()["revoked_at"] is None
    before = datetime.now(UTC)
    revoked = await client.post(
        f"{FILINGS}/{created.json()['id']}/revoke",
        json={"reason": "现场核查不符合备案条件"},
        headers={**tokens.headers(Role.county_admin, HULI), "If-Match": created.headers["etag"]},
    )
    assert revoked.status_code == 200, revoked.text
    assert datetime.fromisoformat(revoked.json()["revoked_at"]) >= before - timedelta(seconds=1)
