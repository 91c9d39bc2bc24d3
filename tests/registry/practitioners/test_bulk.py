"""``POST /practitioners/bulk``: practitioners pushed in bulk, keyed by (source_system, external_id)
(issue 14). Expectations from identifiers.md (居民身份证号 GB 11643: check character, a real birth date;
personal data stored encrypted, shown masked), ARCHITECTURE (scope, audit, feed without personal data) and
the bulk protocol (libs/common/bulk.py)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from demo.registry import make_id_card
from libs.common.auth import Role
from libs.common.models import AuditRecord
from libs.common.testing import Tokens
from tests.registry.factories import (
    INSTITUTIONS,
    PRACTITIONERS,
    create_institution,
    hospital_body,
    practitioner_body,
)

BULK = f"{PRACTITIONERS}/bulk"
HULI, SIMING, XIAMEN = "350206", "350203", "350200"


def record(external_id: str, institution_id: str, **overrides: Any) -> dict[str, Any]:
    body = practitioner_body(institution_id)
    body["id_number"] = body.pop("id_card")
    return {"external_id": external_id, **body, **overrides}


def province(tokens: Tokens) -> dict[str, str]:
    return tokens.headers(Role.province_admin, "350000")


async def post(
    client: httpx.AsyncClient, headers: dict[str, str], *records: dict[str, Any], source: str = "xm-hr"
) -> httpx.Response:
    return await client.post(BULK, json={"source_system": source, "records": list(records)}, headers=headers)


@pytest.fixture
async def hospital(client: httpx.AsyncClient, tokens: Tokens) -> dict[str, Any]:
    return await create_institution(client, tokens, hospital_body())


async def test_created_then_replayed_unchanged_then_updated(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any]
) -> None:
    records = [
        record("P-1", hospital["id"]),
        record("P-2", hospital["id"], name="陈测试", kind="doctor", title="attending_physician"),
    ]
    first = await post(client, province(tokens), *records)
    assert first.status_code == 200, first.text
    assert first.json()["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    feed_before = await client.get(
        "/api/v1/registry/changes", params={"limit": 1000}, headers=province(tokens)
    )
    replay = await post(client, province(tokens), *records)
    assert replay.json()["counts"]["unchanged"] == 2
    assert [r["id"] for r in replay.json()["results"]] == [r["id"] for r in first.json()["results"]]
    feed_after = await client.get(
        "/api/v1/registry/changes", params={"limit": 1000}, headers=province(tokens)
    )
    assert len(feed_after.json()["items"]) == len(feed_before.json()["items"])
    moved_on = await post(
        client, province(tokens), {**records[0], "title": "associate_chief_nurse", "phone": "13700000000"}
    )
    result = moved_on.json()["results"][0]
    assert (result["outcome"], result["version"]) == ("updated", 2)
    fetched = await client.get(f"{PRACTITIONERS}/{result['id']}", headers=province(tokens))
    assert fetched.json()["title"] == "associate_chief_nurse"
    assert fetched.json()["phone"] == "137****0000"


async def test_personal_data_is_encrypted_blind_indexed_masked_and_kept_out_of_feed_and_audit(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any], registry_app: FastAPI
) -> None:
    created = (await post(client, province(tokens), record("E-1", hospital["id"]))).json()["results"][0]
    found = await client.post(
        f"{PRACTITIONERS}/lookup", json={"id_number": "11010519491231002X"}, headers=province(tokens)
    )
    assert created["id"] in [p["id"] for p in found.json()]
    shown = await client.get(f"{PRACTITIONERS}/{created['id']}", headers=province(tokens))
    assert shown.json()["id_number"] != "11010519491231002X"
    assert shown.json()["id_number"].endswith("002X")
    feed = await client.get("/api/v1/registry/changes", params={"limit": 1000}, headers=province(tokens))
    entries = [e for e in feed.json()["items"] if e["entity_id"] == created["id"]]
    assert len(entries) == 1
    assert entries[0]["entity_type"] == "practitioner"
    assert "id_number" not in entries[0]["data"]
    assert "11010519491231002X" not in str(entries[0])
    async with registry_app.state.database.session(write=False) as session:
        rows = (
            await session.scalars(
                select(AuditRecord).where(
                    AuditRecord.action == "practitioner.create", AuditRecord.entity_id == created["id"]
                )
            )
        ).all()
    assert len(rows) == 1
    assert rows[0].changes["via"] == "bulk_upsert"
    assert rows[0].changes["external_id"] == "E-1"
    assert "11010519491231002X" not in str(rows[0].changes)


async def test_the_single_creates_rules_refuse_a_record_alone(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any]
) -> None:
    closed = await create_institution(client, tokens, hospital_body(name="湖里区停业医院"))
    deactivated = await client.post(
        f"{INSTITUTIONS}/{closed['id']}/deactivate",
        json={"reason": "停业"},
        headers={**tokens.headers(Role.county_admin, HULI), "If-Match": '"1"'},
    )
    assert deactivated.status_code == 200, deactivated.text
    response = await post(
        client,
        province(tokens),
        record("V-1", hospital["id"], id_number="110105194912310021"),  # wrong check character
        record("V-2", hospital["id"], id_number=make_id_card("11010520991231002")),  # born in the future
        record("V-3", hospital["id"], kind="doctor", title="chief_nurse"),
        record("V-4", str(uuid.uuid4())),
        record("V-5", closed["id"]),
        record("V-6", hospital["id"]),
    )
    results = response.json()["results"]
    assert [r["code"] for r in results] == [
        "validation_failed",
        "validation_failed",
        "validation_failed",
        "institution_not_found",
        "institution_inactive",
        None,
    ]
    assert results[0]["errors"][0]["field"] == "records.0.id_number"
    assert results[5]["outcome"] == "created"


async def test_an_update_keeps_the_institution_and_the_title_must_fit_the_kind(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any]
) -> None:
    other = await create_institution(client, tokens, hospital_body(name="湖里区另一医院"))
    sent = record("U-1", hospital["id"])
    await post(client, province(tokens), sent)
    response = await post(
        client,
        province(tokens),
        {**sent, "institution_id": other["id"]},
    )
    assert response.json()["results"][0]["code"] == "practitioner_institution_fixed"
    without_title = {k: v for k, v in sent.items() if k != "title"}
    response = await post(client, province(tokens), {**without_title, "kind": "doctor"})
    assert response.json()["results"][0]["code"] == "title_does_not_fit_kind"


async def test_scope_a_city_platform_writes_within_its_city_and_institutions_may_not_bulk(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any]
) -> None:
    platform = tokens.headers(Role.city_platform, XIAMEN, sub="client:xm_city_platform")
    mine = await post(client, platform, record("S-1", hospital["id"]))
    assert mine.json()["results"][0]["outcome"] == "created"
    fuzhou = tokens.headers(Role.city_platform, "350100", sub="client:fz_city_platform")
    theirs = await post(client, fuzhou, record("S-2", hospital["id"]))
    assert theirs.json()["results"][0]["code"] == "institution_not_found"
    siming = await post(client, tokens.headers(Role.county_admin, SIMING), record("S-3", hospital["id"]))
    assert siming.json()["results"][0]["code"] == "institution_not_found"
    own = tokens.headers(Role.institution_admin, HULI, institution_id=uuid.UUID(hospital["id"]))
    refused = await post(client, own, record("S-4", hospital["id"]))
    assert refused.status_code == 403
    assert refused.json()["code"]


async def test_a_batch_above_the_limit_is_refused_whole(
    client: httpx.AsyncClient, tokens: Tokens, hospital: dict[str, Any]
) -> None:
    response = await post(client, province(tokens), *[record(f"B-{i}", hospital["id"]) for i in range(1001)])
    assert response.status_code == 422
    assert response.json()["code"] == "batch_too_large"


async def test_the_single_create_refuses_an_inactive_institution_too(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    closed = await create_institution(client, tokens, hospital_body(name="湖里区歇业医院"))
    county = tokens.headers(Role.county_admin, HULI)
    deactivated = await client.post(
        f"{INSTITUTIONS}/{closed['id']}/deactivate",
        json={"reason": "停业"},
        headers={**county, "If-Match": '"1"'},
    )
    assert deactivated.status_code == 200, deactivated.text
    response = await client.post(PRACTITIONERS, json=practitioner_body(closed["id"]), headers=county)
    assert response.status_code == 409
    assert response.json()["code"] == "institution_inactive"
