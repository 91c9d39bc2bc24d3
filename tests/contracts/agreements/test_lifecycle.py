"""Every transition, legal and illegal, and the calendar (Asia/Shanghai) across date boundaries."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.database import Database
from libs.common.models import ChangeRecord
from libs.common.testing import Tokens
from services.contracts.agreements.models import Agreement
from services.contracts.agreements.schedule import run_once
from services.contracts.clock import ManualClock
from tests.contracts.flows import AGREEMENTS, admin_of, draft, signed, transition
from tests.contracts.registry_data import RegistryData


async def _pair(registry: RegistryData) -> tuple[dict[str, Any], dict[str, Any]]:
    return await registry.medical(), await registry.elderly()


async def _get(
    client: httpx.AsyncClient, agreement: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    response = await client.get(f"{AGREEMENTS}/{agreement['id']}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_submit_then_countersign_by_other_party_before_start_is_countersigned(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await _pair(registry)
    agreement = await draft(client, tokens, medical, elderly)
    submitted = await transition(client, agreement, "submit", admin_of(tokens, elderly))
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "submitted"
    assert submitted.json()["submitted_by_institution_id"] == elderly["id"]
    assert submitted.json()["allowed_actions"] == ["countersign", "terminate"]
    countersigned = await transition(client, submitted.json(), "countersign", admin_of(tokens, medical))
    assert countersigned.status_code == 200, countersigned.text
    body = countersigned.json()
    assert (body["state"], body["status"], body["status_label"]) == (
        "countersigned",
        "countersigned",
        "已会签，待生效",
    )
    assert countersigned.headers["etag"] == '"3"'


async def test_countersign_on_or_after_start_is_active_at_once(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await _pair(registry)
    body = await signed(client, tokens, medical, elderly, start_date="2026-03-16")
    assert (body["state"], body["status"]) == ("active", "active")
    assert body["activated_at"] is not None


async def test_countersign_by_the_submitting_party_is_403(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await _pair(registry)
    agreement = await draft(client, tokens, medical, elderly)
    submitted = (await transition(client, agreement, "submit", admin_of(tokens, elderly))).json()
    response = await transition(client, submitted, "countersign", admin_of(tokens, elderly))
    assert (response.status_code, response.json()["code"]) == (403, "countersign_by_other_party")


async def test_illegal_moves_answer_409_with_allowed_actions(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await _pair(registry)
    agreement = await draft(client, tokens, medical, elderly)
    for action, body in (("countersign", None), ("terminate", {"reason": "不再合作"}), ("renew", None)):
        response = await transition(client, agreement, action, admin_of(tokens, medical), json=body)
        assert response.status_code == 409, (action, response.text)
        problem = response.json()
        assert problem["code"] == "illegal_transition"
        assert problem["extra"] == {"state": "draft", "action": action, "allowed": ["submit"]}

    submitted = (await transition(client, agreement, "submit", admin_of(tokens, elderly))).json()
    again = await transition(client, submitted, "submit", admin_of(tokens, medical))
    assert again.json()["extra"]["allowed"] == ["countersign", "terminate"]
    renew = await transition(client, submitted, "renew", admin_of(tokens, medical))
    assert renew.status_code == 409


async def test_active_agreement_allows_terminate_and_renew_only(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await _pair(registry)
    active = await signed(client, tokens, medical, elderly, start_date="2026-03-01")
    assert active["allowed_actions"] == ["terminate", "renew"]
    for action in ("submit", "countersign"):
        response = await transition(client, active, action, admin_of(tokens, medical))
        assert response.status_code == 409
        assert response.json()["extra"]["allowed"] == ["terminate", "renew"]


async def test_terminate_with_reason_is_final(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await _pair(registry)
    active = await signed(client, tokens, medical, elderly, start_date="2026-03-01")
    missing_reason = await transition(client, active, "terminate", admin_of(tokens, elderly))
    assert missing_reason.status_code == 422
    response = await transition(
        client, active, "terminate", admin_of(tokens, elderly), json={"reason": "医院搬迁"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["state"], body["status"], body["termination_reason"]) == (
        "terminated",
        "terminated",
        "医院搬迁",
    )
    assert body["terminated_on"] == "2026-03-16"
    assert body["allowed_actions"] == []
    for action in ("submit", "countersign", "terminate", "renew"):
        illegal = await transition(client, body, action, admin_of(tokens, medical), json={"reason": "再次"})
        assert illegal.status_code == 409
        assert illegal.json()["extra"]["allowed"] == []


async def test_submitted_agreement_can_be_abandoned_by_termination(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await _pair(registry)
    agreement = await draft(client, tokens, medical, elderly)
    submitted = (await transition(client, agreement, "submit", admin_of(tokens, elderly))).json()
    response = await transition(
        client, submitted, "terminate", admin_of(tokens, medical), json={"reason": "条款未谈妥"}
    )
    assert response.json()["state"] == "terminated"
    # the pair is free again
    again = await draft(client, tokens, medical, elderly)
    assert again["state"] == "draft"


async def test_transition_without_if_match_is_428_and_stale_is_412(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await _pair(registry)
    agreement = await draft(client, tokens, medical, elderly)
    missing = await client.post(f"{AGREEMENTS}/{agreement['id']}/submit", headers=admin_of(tokens, elderly))
    assert (missing.status_code, missing.json()["code"]) == (428, "if_match_required")
    stale = await transition(client, {**agreement, "version": 7}, "submit", admin_of(tokens, elderly))
    assert (stale.status_code, stale.json()["code"]) == (412, "version_mismatch")


async def test_duplicate_pending_or_active_agreement_for_pair_is_409(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await _pair(registry)
    first = await draft(client, tokens, medical, elderly)
    pending = await client.post(
        AGREEMENTS,
        json={**_create_body(medical, elderly)},
        headers=admin_of(tokens, medical),
    )
    assert (pending.status_code, pending.json()["code"]) == (409, "duplicate_agreement")
    submitted = (await transition(client, first, "submit", admin_of(tokens, elderly))).json()
    await transition(client, submitted, "countersign", admin_of(tokens, medical))
    active = await client.post(
        AGREEMENTS, json=_create_body(medical, elderly), headers=admin_of(tokens, medical)
    )
    assert (active.status_code, active.json()["code"]) == (409, "duplicate_agreement")


def _create_body(medical: dict[str, Any], elderly: dict[str, Any]) -> dict[str, Any]:
    from tests.contracts.conftest import agreement_body

    return agreement_body(medical, elderly)


async def test_draft_is_editable_with_if_match_and_not_after_submission(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    medical, elderly = await _pair(registry)
    agreement = await draft(client, tokens, medical, elderly)
    url = f"{AGREEMENTS}/{agreement['id']}"
    headers = {**admin_of(tokens, medical), "If-Match": '"1"'}
    edited = await client.patch(url, json={"visit_count": 2, "visit_period": "month"}, headers=headers)
    assert edited.status_code == 200, edited.text
    assert edited.json()["visit_frequency_label"] == "每月 2 次"
    submitted = (await transition(client, edited.json(), "submit", admin_of(tokens, elderly))).json()
    late = await client.patch(
        url,
        json={"visit_count": 3},
        headers={**admin_of(tokens, medical), "If-Match": f'"{submitted["version"]}"'},
    )
    assert (late.status_code, late.json()["code"]) == (409, "illegal_transition")


async def test_activation_and_expiry_follow_the_shanghai_calendar_without_a_button(
    client: httpx.AsyncClient,
    registry: RegistryData,
    tokens: Tokens,
    clock: ManualClock,
    contracts_app: FastAPI,
) -> None:
    medical, elderly = await _pair(registry)
    agreement = await signed(client, tokens, medical, elderly, start_date="2026-04-01", end_date="2026-06-30")
    headers = admin_of(tokens, elderly)
    database: Database = contracts_app.state.database

    clock.set_today(date(2026, 3, 31), time(23, 59))  # 23:59 in Shanghai, 15:59 UTC
    assert (await _get(client, agreement, headers))["status"] == "countersigned"
    assert await run_once(database, clock) == 0

    clock.advance(timedelta(minutes=2))  # 00:01 on 1 April in Shanghai, still 31 March in UTC
    read = await _get(client, agreement, headers)
    assert (read["state"], read["status"]) == ("countersigned", "active")  # effective at read time
    assert await run_once(database, clock) == 1  # persisted by the periodic task
    assert await run_once(database, clock) == 0  # idempotent
    read = await _get(client, agreement, headers)
    assert (read["state"], read["status"], read["version"]) == ("active", "active", 4)

    clock.set_today(date(2026, 6, 30), time(23, 59))
    assert (await _get(client, agreement, headers))["status"] == "active"
    clock.set_today(date(2026, 7, 1), time(0, 1))
    assert (await _get(client, agreement, headers))["status"] == "expired"
    assert await run_once(database, clock) == 1
    read = await _get(client, agreement, headers)
    assert (read["state"], read["status"], read["allowed_actions"]) == ("expired", "expired", ["renew"])

    async with database.session() as session:
        feed = (
            await session.scalars(
                select(ChangeRecord.payload)
                .where(ChangeRecord.entity_id == _uuid(agreement["id"]))
                .order_by(ChangeRecord.seq)
            )
        ).all()
    states = [payload["state"] for payload in feed if payload]
    assert states[-2:] == ["active", "expired"]


def _uuid(value: str) -> Any:
    import uuid

    return uuid.UUID(value)


async def test_calendar_run_moves_expiry_before_activation_of_a_renewal(
    client: httpx.AsyncClient,
    registry: RegistryData,
    tokens: Tokens,
    clock: ManualClock,
    contracts_app: FastAPI,
) -> None:
    medical, elderly = await _pair(registry)
    old = await signed(client, tokens, medical, elderly, start_date="2026-01-01", end_date="2026-04-30")
    renewal = await transition(client, old, "renew", admin_of(tokens, elderly))
    assert renewal.status_code == 201, renewal.text
    new = renewal.json()
    assert (new["state"], new["renews_id"], new["start_date"], new["end_date"]) == (
        "draft",
        old["id"],
        "2026-05-01",
        "2027-04-30",
    )
    assert new["services"] == old["services"]
    again = await transition(client, old, "renew", admin_of(tokens, medical))
    assert (again.status_code, again.json()["code"]) == (409, "already_renewed")
    submitted = (await transition(client, new, "submit", admin_of(tokens, elderly))).json()
    countersigned = (await transition(client, submitted, "countersign", admin_of(tokens, medical))).json()
    assert countersigned["state"] == "countersigned"

    clock.set_today(date(2026, 5, 1))
    assert await run_once(contracts_app.state.database, clock) == 2
    async with contracts_app.state.database.session() as session:
        states = dict(
            (
                await session.execute(
                    select(Agreement.start_date, Agreement.state).where(
                        Agreement.elderly_institution_id == _uuid(elderly["id"])
                    )
                )
            ).all()
        )
    assert states == {date(2026, 1, 1): "expired", date(2026, 5, 1): "active"}


async def test_renewing_an_expired_agreement_starts_today_at_the_earliest(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens, clock: ManualClock
) -> None:
    medical, elderly = await _pair(registry)
    clock.set_today(date(2025, 1, 1))
    signed_then = await signed(
        client, tokens, medical, elderly, start_date="2025-01-01", end_date="2025-12-31"
    )
    clock.set_today(date(2026, 3, 16))
    old = await _get(client, signed_then, admin_of(tokens, medical))
    assert old["status"] == "expired"
    renewal = await transition(client, old, "renew", admin_of(tokens, medical))
    assert renewal.status_code == 201, renewal.text
    assert (renewal.json()["start_date"], renewal.json()["end_date"]) == ("2026-03-16", "2027-03-15")


async def test_county_admin_files_signed_agreement_once(
    client: httpx.AsyncClient, registry: RegistryData, tokens: Tokens
) -> None:
    from libs.common.auth import Role

    medical, elderly = await _pair(registry)
    county = tokens.headers(Role.county_admin, "350206")
    drafted = await draft(client, tokens, medical, elderly)
    not_yet = await transition(client, drafted, "file", county)
    assert (not_yet.status_code, not_yet.json()["code"]) == (409, "not_fileable")
    submitted = (await transition(client, drafted, "submit", admin_of(tokens, elderly))).json()
    active = (await transition(client, submitted, "countersign", admin_of(tokens, medical))).json()
    other_county = await transition(client, active, "file", tokens.headers(Role.county_admin, "350203"))
    assert other_county.status_code == 404
    filed = await transition(client, active, "file", county, json={"note": "材料齐全，予以备案"})
    assert filed.status_code == 200, filed.text
    assert filed.json()["filed_at"] is not None
    assert filed.json()["filing_note"] == "材料齐全，予以备案"
    twice = await transition(client, filed.json(), "file", county)
    assert (twice.status_code, twice.json()["code"]) == (409, "already_filed")
