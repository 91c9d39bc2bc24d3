"""Retries and bad input on the signing endpoints: a retried POST with its Idempotency-Key signs once;
malformed ids, dates, years and package lists are 422 problems, never a 500."""

from __future__ import annotations

import uuid

import pytest

from tests.residents.signings.flows import PACKAGES, SIGNINGS, TEAMS, practice, resident, signing_body
from tests.residents.world import HULI, World

pytestmark = pytest.mark.usefixtures("clock")


async def test_a_retried_signing_with_its_idempotency_key_signs_once(world: World) -> None:
    p = await practice(world)
    person = await resident(world, p.inst)
    headers = {**world.staff(p.inst), "Idempotency-Key": str(uuid.uuid4())}
    first = await world.client.post(SIGNINGS, json=signing_body(p, person), headers=headers)
    again = await world.client.post(SIGNINGS, json=signing_body(p, person), headers=headers)
    assert first.status_code == 201, first.text
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    listed = await world.client.get(SIGNINGS, params={"person_id": person["id"]}, headers=world.staff(p.inst))
    assert len(listed.json()["items"]) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"person_id": "not-a-uuid"},
        {"package_ids": []},
        {"package_ids": [str(uuid.uuid4()) for _ in range(21)]},
        {"start_date": "2026-02-30"},
        {"start_date": "1800-01-01"},
        {"team_id": None},
        {"unexpected": 1},
    ],
    ids=["person", "no-package", "too-many", "no-such-day", "out-of-range", "no-team", "unknown-field"],
)
async def test_malformed_signings_are_validation_problems(world: World, change: dict[str, object]) -> None:
    p = await practice(world)
    person = await resident(world, p.inst)
    response = await world.client.post(
        SIGNINGS, json={**signing_body(p, person), **change}, headers=world.staff(p.inst)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "validation_failed"


@pytest.mark.parametrize(
    "path",
    [
        f"{SIGNINGS}/not-a-uuid",
        f"{TEAMS}/123",
        f"{PACKAGES}/x",
        f"{SIGNINGS}/rates?year=1999",
        f"{SIGNINGS}/rates?year=20260",
        f"{SIGNINGS}?region_code=35020",
        f"{TEAMS}?active=maybe",
    ],
)
async def test_malformed_reads_are_validation_problems(world: World, path: str) -> None:
    response = await world.client.get(path, headers=world.county(HULI))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_failed"
