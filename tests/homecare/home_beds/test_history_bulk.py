"""The historical import of home beds (``POST /home-beds/bulk``, issue 14).

Expectations from the domain rules (rules.md "家庭病床": who qualifies; apply → assess → 建床 with consent
→ 查床 → 撤床 with a reason and a summary; a period of ``home_bed_period_days`` renewed by re-assessment),
services/homecare/README.md (a doctor of the provider assesses, opens and does rounds; rounds between the
opening and today; the closing not before the opening) and libs/common/bulk.py (the protocol: outcome per
record, replay unchanged, batch limit), plus the past-record date rules of the issue (nothing in the
future, each step not before the one it follows).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from libs.common.clock import CHINA_TZ, today_in_china
from libs.common.models import AuditRecord
from tests.homecare.world import HC, Crew, World, crew

BULK = f"{HC}/home-beds/bulk"
SOURCE = "fj-jtbc"
TODAY = today_in_china()
OPENED = TODAY - timedelta(days=200)


def at(day: date, hour: int = 10) -> str:
    return datetime.combine(day, time(hour), tzinfo=CHINA_TZ).isoformat()


def record(c: Crew, external_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A past episode at ``c``'s provider: assessed, opened 200 days ago, re-assessed once after 90 days,
    two rounds, closed 150 days after opening."""
    doctor = str(c.doctor)
    body: dict[str, Any] = {
        "external_id": external_id or f"HB-{uuid.uuid4().hex[:10]}",
        "institution_id": str(c.provider.id),
        "recipient_id": c.recipient["id"],
        "diagnosis": "脑梗死后遗症",
        "condition_stable": True,
        "mobility": "bedridden",
        "conditions": ["stroke_or_post_surgery_rehab", "tubes"],
        "has_family_doctor_contract": True,
        "assessment": {"assessed_at": at(OPENED - timedelta(days=2), 9), "practitioner_id": doctor},
        "opening": {
            "opened_at": at(OPENED),
            "practitioner_id": doctor,
            "care_plan": "每周查床，鼻饲护理",
            "consent_at": at(OPENED),
            "round_interval_days": 7,
        },
        "reassessments": [
            {"assessed_at": at(OPENED + timedelta(days=90), 9), "practitioner_id": doctor, "note": "续床"}
        ],
        "rounds": [
            {
                "round_date": (OPENED + timedelta(days=7)).isoformat(),
                "practitioner_id": doctor,
                "findings": "平稳",
            },
            {
                "round_date": (OPENED + timedelta(days=14)).isoformat(),
                "practitioner_id": doctor,
                "findings": "好转",
            },
        ],
        "closing": {
            "closed_at": at(OPENED + timedelta(days=150), 16),
            "reason": "recovered_or_stable",
            "summary": "病情稳定，按计划撤床",
        },
    }
    body.update(overrides)
    return body


async def bulk(world: World, records: list[dict[str, Any]], headers: dict[str, str] | None = None) -> Any:
    return await world.client.post(
        BULK, json={"source_system": SOURCE, "records": records}, headers=headers or world.province()
    )


def one(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == 1
    return dict(results[0])


async def test_a_past_episode_is_imported_with_its_original_dates_and_a_replay_changes_nothing(
    world: World,
) -> None:
    c = await crew(world)
    body = record(c)
    created = one(await bulk(world, [body]))
    assert (created["outcome"], created["version"]) == ("created", 1), created
    bed = (await world.client.get(f"{HC}/home-beds/{created['id']}", headers=world.admin(c.provider))).json()
    assert bed["status"] == "closed"
    assert bed["opened_date"] == OPENED.isoformat()
    assert bed["closed_date"] == (OPENED + timedelta(days=150)).isoformat()
    assert bed["close_reason"] == "recovered_or_stable"
    assert bed["reassessment_count"] == 1
    # the period runs from the last re-assessment, as POST /reassess leaves it
    assert bed["period_end_date"] == (OPENED + timedelta(days=180)).isoformat()
    assert bed["last_round_date"] == (OPENED + timedelta(days=14)).isoformat()
    assert bed["assessed_by_practitioner_id"] == str(c.doctor)
    assert bed["assessment"]["reassessment"] is True
    assert bed["care_plan"] == "每周查床，鼻饲护理"  # the provider sees it
    rounds = (await world.client.get(f"{HC}/home-beds/{created['id']}/rounds", headers=world.county())).json()
    assert [r["round_date"] for r in rounds] == [r["round_date"] for r in body["rounds"]]

    replay = one(await bulk(world, [body]))
    assert (replay["outcome"], replay["id"], replay["version"]) == ("unchanged", created["id"], 1)

    feed = (await world.client.get(f"{HC}/changes", params={"limit": 200}, headers=world.province())).json()
    beds = [e for e in feed["items"] if e["entity_type"] == "home_bed" and e["entity_id"] == created["id"]]
    assert len(beds) == 1  # the replay wrote no entry
    assert beds[0]["data"]["opened_date"] == OPENED.isoformat()
    assert beds[0]["data"]["closed_date"] == bed["closed_date"]
    assert "diagnosis" not in beds[0]["data"]
    round_entries = [
        e
        for e in feed["items"]
        if e["entity_type"] == "home_bed_round" and e["data"]["home_bed_id"] == created["id"]
    ]
    assert sorted(e["data"]["round_date"] for e in round_entries) == [r["round_date"] for r in body["rounds"]]


async def test_the_import_is_audited_once_per_written_episode(world: World, homecare_app: Any) -> None:
    c = await crew(world)
    body = record(c)
    created = one(await bulk(world, [body]))
    one(await bulk(world, [body]))  # unchanged: no second audit record
    async with homecare_app.state.database.session() as session:
        actions = (
            await session.scalars(select(AuditRecord.action).where(AuditRecord.entity_id == created["id"]))
        ).all()
    assert actions == ["home_bed.create"]


async def test_an_episode_still_open_runs_from_its_opening(world: World) -> None:
    c = await crew(world)
    opened = TODAY - timedelta(days=30)
    body = record(
        c,
        assessment={"assessed_at": at(opened - timedelta(days=1)), "practitioner_id": str(c.doctor)},
        opening={**record(c)["opening"], "opened_at": at(opened), "consent_at": at(opened)},
        reassessments=[],
        rounds=[
            {
                "round_date": (opened + timedelta(days=7)).isoformat(),
                "practitioner_id": str(c.doctor),
                "findings": "平稳",
            }
        ],
        closing=None,
    )
    created = one(await bulk(world, [body]))
    bed = (await world.client.get(f"{HC}/home-beds/{created['id']}", headers=world.county())).json()
    assert bed["status"] == "opened"
    assert bed["period_end_date"] == (opened + timedelta(days=90)).isoformat()
    assert bed["allowed_actions"] == ["rounds", "reassess", "close"]


async def test_an_update_adds_rounds_and_closes_but_never_drops_a_round_or_reopens(world: World) -> None:
    c = await crew(world)
    body = record(c, closing=None)
    created = one(await bulk(world, [body]))
    later = {
        **body,
        "rounds": [
            *body["rounds"],
            {
                "round_date": (OPENED + timedelta(days=21)).isoformat(),
                "practitioner_id": str(c.doctor),
                "findings": "平稳",
            },
        ],
        "closing": record(c)["closing"],
    }
    updated = one(await bulk(world, [later]))
    assert (updated["outcome"], updated["id"], updated["version"]) == ("updated", created["id"], 2)
    rounds = (await world.client.get(f"{HC}/home-beds/{created['id']}/rounds", headers=world.county())).json()
    assert len(rounds) == 3
    reopened = one(await bulk(world, [{**later, "closing": None}]))
    assert reopened["code"] == "home_bed_closed"
    dropped = one(await bulk(world, [{**later, "rounds": later["rounds"][:1]}]))
    assert (dropped["code"], dropped["outcome"]) == ("round_removed", "rejected")
    other = await world.recipient(c.provider)
    moved = one(await bulk(world, [{**later, "recipient_id": other["id"]}]))
    assert moved["code"] == "immutable_field"


def _shift(c: Crew, **changes: Any) -> dict[str, Any]:
    return record(c, **changes)


REFUSALS: list[tuple[str, Any, str]] = [
    ("ambulant", lambda c, w: {"mobility": "ambulant"}, "home_bed_not_qualified"),
    ("no family doctor", lambda c, w: {"has_family_doctor_contract": False}, "home_bed_not_qualified"),
    ("no condition", lambda c, w: {"conditions": []}, "home_bed_not_qualified"),
    ("unknown recipient", lambda c, w: {"recipient_id": str(uuid.uuid4())}, "recipient_not_found"),
    (
        "unknown recipient key",
        lambda c, w: {"recipient_id": None, "recipient_external_id": "nobody"},
        "recipient_not_found",
    ),
    (
        "a nurse opened it",
        lambda c, w: {"opening": {**record(c)["opening"], "practitioner_id": str(c.nurse)}},
        "doctor_required",
    ),
    (
        "round by a stranger",
        lambda c, w: {
            "rounds": [
                {"round_date": OPENED.isoformat(), "practitioner_id": str(uuid.uuid4()), "findings": "x"}
            ]
        },
        "doctor_required",
    ),
    (
        "round after the closing",
        lambda c, w: {
            "rounds": [
                {
                    "round_date": (OPENED + timedelta(days=151)).isoformat(),
                    "practitioner_id": str(c.doctor),
                    "findings": "x",
                }
            ]
        },
        "round_date_invalid",
    ),
    (
        "round before the opening",
        lambda c, w: {
            "rounds": [
                {
                    "round_date": (OPENED - timedelta(days=1)).isoformat(),
                    "practitioner_id": str(c.doctor),
                    "findings": "x",
                }
            ]
        },
        "round_date_invalid",
    ),
    (
        "closed before opened",
        lambda c, w: {
            "reassessments": [],
            "closing": {**record(c)["closing"], "closed_at": at(OPENED - timedelta(days=1))},
        },
        "closed_date_invalid",
    ),
    (
        "closed in the future",
        lambda c, w: {"closing": {**record(c)["closing"], "closed_at": at(TODAY + timedelta(days=2))}},
        "date_in_future",
    ),
    (
        "assessed in the future",
        lambda c, w: {
            "assessment": {"assessed_at": at(TODAY + timedelta(days=3)), "practitioner_id": str(c.doctor)}
        },
        "date_in_future",
    ),
    (
        "consent before the assessment",
        lambda c, w: {"opening": {**record(c)["opening"], "consent_at": at(OPENED - timedelta(days=5))}},
        "dates_out_of_order",
    ),
    (
        "re-assessed before the opening",
        lambda c, w: {
            "reassessments": [
                {"assessed_at": at(OPENED - timedelta(days=1)), "practitioner_id": str(c.doctor)}
            ]
        },
        "dates_out_of_order",
    ),
    (
        "closed before the last re-assessment",
        lambda c, w: {
            "closing": {**record(c)["closing"], "closed_at": at(OPENED + timedelta(days=80))},
            "rounds": [],
        },
        "dates_out_of_order",
    ),
    ("no recipient at all", lambda c, w: {"recipient_id": None}, "validation_failed"),
    (
        "bad reason",
        lambda c, w: {"closing": {**record(c)["closing"], "reason": "bored"}},
        "validation_failed",
    ),
]


@pytest.mark.parametrize(("case", "change", "code"), REFUSALS, ids=[r[0] for r in REFUSALS])
async def test_a_record_the_single_steps_would_refuse_is_rejected_and_writes_nothing(
    world: World, case: str, change: Any, code: str
) -> None:
    c = await crew(world)
    good = record(c)
    bad = record(c, **change(c, world))
    response = await bulk(world, [bad, good])
    assert response.status_code == 200, response.text
    rejected, accepted = response.json()["results"]
    assert (rejected["outcome"], rejected["code"]) == ("rejected", code), (case, rejected)
    assert rejected["id"] is None
    assert accepted["outcome"] == "created", accepted
    assert response.json()["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    listed = (await world.client.get(f"{HC}/home-beds", headers=world.admin(c.provider))).json()["items"]
    assert [b["id"] for b in listed] == [accepted["id"]]  # the rejected one left nothing


async def test_a_field_error_names_the_record(world: World) -> None:
    c = await crew(world)
    bad = record(c, opening={**record(c)["opening"], "practitioner_id": str(c.nurse)})
    result = one(await bulk(world, [bad]))
    assert [e["field"] for e in result["errors"]] == ["records.0.opening.practitioner_id"]


async def test_a_provider_without_home_beds_is_refused(world: World) -> None:
    c = await crew(world)
    inst = await world.institution(home_bed=False)
    put = await world.client.put(
        f"{HC}/providers/{inst.id}", json={"visit_fee_yuan": "50.00"}, headers=world.admin(inst)
    )
    assert put.status_code == 201, put.text
    result = one(await bulk(world, [record(c, institution_id=str(inst.id))]))
    assert result["code"] == "no_home_bed_service"
    unknown = one(await bulk(world, [record(c, institution_id=str(uuid.uuid4()))]))
    assert unknown["code"] == "no_home_bed_service"


async def test_one_episode_at_a_time_per_person(world: World) -> None:
    c = await crew(world)
    first = record(c)
    overlapping = record(
        c,
        assessment={"assessed_at": at(OPENED + timedelta(days=20), 9), "practitioner_id": str(c.doctor)},
        opening={
            **record(c)["opening"],
            "opened_at": at(OPENED + timedelta(days=30)),
            "consent_at": at(OPENED + timedelta(days=30)),
        },
        reassessments=[],
        rounds=[],
    )
    after = record(
        c,
        assessment={"assessed_at": at(OPENED + timedelta(days=160), 9), "practitioner_id": str(c.doctor)},
        opening={
            **record(c)["opening"],
            "opened_at": at(OPENED + timedelta(days=160)),
            "consent_at": at(OPENED + timedelta(days=160)),
        },
        reassessments=[],
        rounds=[],
        closing=None,
    )
    response = await bulk(world, [first, overlapping, after])
    outcomes = [(r["outcome"], r["code"]) for r in response.json()["results"]]
    assert outcomes == [("created", None), ("rejected", "home_bed_exists"), ("created", None)]
    # a stored open episode (the single path's) blocks an imported one that is still open
    other = await crew(world)
    applied = await world.client.post(
        f"{HC}/home-beds",
        json={
            k: record(other)[k]
            for k in ("diagnosis", "condition_stable", "mobility", "conditions", "has_family_doctor_contract")
        }
        | {"recipient_id": other.recipient["id"]},
        headers=world.admin(other.provider),
    )
    assert applied.status_code == 201, applied.text
    blocked = one(await bulk(world, [record(other, closing=None)]))
    assert blocked["code"] == "home_bed_exists"
    assert one(await bulk(world, [record(other)]))["outcome"] == "created"  # a past, closed one may be


async def test_a_record_number_belongs_to_one_bed(world: World) -> None:
    c, d = await crew(world), await crew(world)
    number = f"JTBC-{uuid.uuid4().hex[:8]}"
    response = await bulk(world, [record(c, record_no=number), record(d, record_no=number)])
    assert [r["code"] for r in response.json()["results"]] == [None, "record_no_exists"]


async def test_the_protocol_refuses_a_batch_too_large_and_duplicate_keys(world: World) -> None:
    c = await crew(world)
    twice = record(c, external_id="SAME")
    response = await bulk(world, [twice, twice])
    assert [r["code"] for r in response.json()["results"]] == [None, "duplicate_in_batch"]
    too_many = await bulk(world, [{"external_id": str(n)} for n in range(1001)])
    assert (too_many.status_code, too_many.json()["code"]) == (422, "batch_too_large")


@pytest.mark.parametrize("who", ["city", "county", "platform", "institution"])
async def test_only_the_province_imports_home_beds(world: World, who: str) -> None:
    c = await crew(world)
    headers = {
        "city": world.city(),
        "county": world.county(),
        "platform": world.platform(),
        "institution": world.admin(c.provider),
    }[who]
    response = await bulk(world, [record(c)], headers)
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


async def test_a_batch_takes_a_handful_of_statements(world: World, homecare_app: Any) -> None:
    """No statement per record: the look-ups are made for the batch (rounds are one INSERT)."""
    from tests.homecare.sync.test_bulk import counting_statements

    crews = [await crew(world) for _ in range(3)]
    records = [record(c) for c in crews]
    with counting_statements(homecare_app) as statements:
        response = await bulk(world, records)
    assert response.json()["counts"]["created"] == 3
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 10, selects


async def test_nothing_is_counted_twice(world: World, homecare_app: Any) -> None:
    c = await crew(world)
    body = record(c)
    one(await bulk(world, [body]))
    one(await bulk(world, [body]))
    from services.homecare.home_beds.models import HomeBed, HomeBedRound

    async with homecare_app.state.database.session() as session:
        beds = await session.scalar(
            select(func.count()).select_from(HomeBed).where(HomeBed.institution_id == c.provider.id)
        )
        rounds = await session.scalar(
            select(func.count()).select_from(HomeBedRound).where(HomeBedRound.institution_id == c.provider.id)
        )
    assert (beds, rounds) == (1, 2)
