"""One recommendation per city per batch, under concurrent requests that really commit.

These tests run a second registry app on a database of its own (its own SQLite file, or its own schema on
PostgreSQL), so that what they commit never meets the other tests' data.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from libs.common.auth import Role, TokenVerifier
from libs.common.database import Database, session_scope
from libs.common.testing import TestDatabases, Tokens, live_client, make_settings, running
from services.registry.app import create_app
from services.registry.demonstration.deps import today
from services.registry.demonstration.models import DemonstrationCityRecommendation
from services.registry.settings import RegistrySettings
from tests.registry.demonstration.flow import (
    APPLICATIONS,
    BATCHES,
    COUNTY_TEXTS,
    ON_APPLICATION,
    ON_CITY,
    STAGES,
    Clock,
    Flow,
)

LIVE = "registry_demo_live"


@pytest.fixture(scope="module")
async def live(
    test_databases: TestDatabases, token_verifier: TokenVerifier
) -> AsyncIterator[tuple[FastAPI, Clock]]:
    settings = make_settings(
        RegistrySettings, test_databases, database_url=test_databases.url_for(LIVE), database_schema=LIVE
    )
    app = create_app(settings, verifier=token_verifier)
    clock = Clock(ON_APPLICATION)
    app.dependency_overrides[today] = lambda: clock.today
    async with running(app):
        yield app, clock


async def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json())


async def _submitted_county_applications(
    client: httpx.AsyncClient, tokens: Tokens, clock: Clock, counties: list[str]
) -> tuple[str, list[dict[str, Any]]]:
    clock.today = ON_APPLICATION
    province = tokens.headers(Role.province_admin, "350000")
    batch = await _ok(
        await client.post(
            BATCHES,
            json={
                "name": f"并发测试批次 {uuid.uuid4().hex[:8]}",
                "county_quota": 3,
                "institution_quota": 2,
                "stages": {k: {"start_date": s, "end_date": e} for k, (s, e) in STAGES.items()},
            },
            headers=province,
        ),
        201,
    )
    applications = []
    for county in counties:
        headers = tokens.headers(Role.county_admin, county)
        created = await _ok(
            await client.post(
                APPLICATIONS,
                json={"batch_id": batch["id"], "kind": "county", "self_assessment": COUNTY_TEXTS},
                headers=headers,
            ),
            201,
        )
        submitted = await _ok(
            await client.post(
                f"{APPLICATIONS}/{created['id']}/submit",
                headers={**headers, "If-Match": f'"{created["version"]}"'},
            )
        )
        applications.append(submitted)
    clock.today = ON_CITY
    return batch["id"], applications


def _recommend(client: httpx.AsyncClient, tokens: Tokens, application: dict[str, Any]) -> Any:
    return client.post(
        f"{APPLICATIONS}/{application['id']}/city-recommend",
        json={"opinion": "同意推荐"},
        headers={
            **tokens.headers(Role.city_admin, application["city_code"]),
            "If-Match": f'"{application["version"]}"',
        },
    )


async def _recommendations(app: FastAPI, batch_id: str, city_code: str) -> int:
    database: Database = app.state.database
    async with session_scope(database, write=False) as session:
        count = await session.scalar(
            select(func.count())
            .select_from(DemonstrationCityRecommendation)
            .where(
                DemonstrationCityRecommendation.batch_id == uuid.UUID(batch_id),
                DemonstrationCityRecommendation.city_code == city_code,
            )
        )
    return int(count or 0)


@pytest.mark.parametrize("round_", range(3))
async def test_concurrent_recommendations_of_one_city_leave_exactly_one(
    live: tuple[FastAPI, Clock], tokens: Tokens, round_: int
) -> None:
    app, clock = live
    async with live_client(app) as client:
        batch_id, applications = await _submitted_county_applications(
            client, tokens, clock, ["350206", "350203", "350211"]
        )
        responses = await asyncio.gather(*(_recommend(client, tokens, a) for a in applications))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409], [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "demonstration_city_recommendation_taken"
    assert await _recommendations(app, batch_id, "350200") == 1


async def test_concurrent_recommendations_in_different_cities_all_succeed(
    live: tuple[FastAPI, Clock], tokens: Tokens
) -> None:
    app, clock = live
    async with live_client(app) as client:
        _, applications = await _submitted_county_applications(
            client, tokens, clock, ["350206", "350104", "350128"]
        )
        responses = await asyncio.gather(*(_recommend(client, tokens, a) for a in applications))
    assert [r.status_code for r in responses] == [200, 200, 200]


async def test_the_same_recommendation_sent_twice_at_once_succeeds_once(
    live: tuple[FastAPI, Clock], tokens: Tokens
) -> None:
    app, clock = live
    async with live_client(app) as client:
        batch_id, (application,) = await _submitted_county_applications(client, tokens, clock, ["350212"])
        responses = await asyncio.gather(
            _recommend(client, tokens, application), _recommend(client, tokens, application)
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses[0] == 200
    assert statuses[1] in (409, 412), [r.text for r in responses]
    assert await _recommendations(app, batch_id, "350200") == 1


async def test_the_database_itself_refuses_a_second_recommendation_of_a_city(flow: Flow) -> None:
    batch = await flow.batch()
    first = await flow.drive(await flow.apply_county(batch["id"], "350206"), "submitted")
    second = await flow.drive(await flow.apply_county(batch["id"], "350203"), "submitted")
    for application in (first, second):
        flow.db.add(
            DemonstrationCityRecommendation(
                batch_id=uuid.UUID(batch["id"]),
                city_code="350200",
                application_id=uuid.UUID(application["id"]),
                recommended_date=date(2026, 5, 15),
                actor_sub="test",
            )
        )
    with pytest.raises(IntegrityError):
        await flow.db.flush()
    await flow.db.rollback()


# ---------------------------------------------------------------- races on state that already exists


@pytest.mark.postgres_only
async def test_burst_in_a_city_already_recommended_in_another_batch_leaves_exactly_one(
    live: tuple[FastAPI, Clock], tokens: Tokens
) -> None:
    """厦门 already recommended an application in an earlier batch; in a new batch three of its counties'
    applications are recommended at once: one per city per batch (rules.md 示范), so exactly one wins
    in the new batch and the earlier batch keeps its own."""
    app, clock = live
    async with live_client(app) as client:
        earlier_batch, (earlier,) = await _submitted_county_applications(client, tokens, clock, ["350205"])
        assert (await _recommend(client, tokens, earlier)).status_code == 200
        batch_id, applications = await _submitted_county_applications(
            client, tokens, clock, ["350206", "350203", "350211"]
        )
        responses = await asyncio.gather(*(_recommend(client, tokens, a) for a in applications))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409], [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {
        "demonstration_city_recommendation_taken"
    }
    assert await _recommendations(app, batch_id, "350200") == 1
    assert await _recommendations(app, earlier_batch, "350200") == 1


@pytest.mark.postgres_only
async def test_burst_after_the_province_returned_the_city_recommendation_leaves_exactly_one(
    live: tuple[FastAPI, Clock], tokens: Tokens
) -> None:
    """厦门's recommendation was returned by the province (its slot freed, the application pending at
    the city again); the city then recommends it and two other counties at once: exactly one wins."""
    app, clock = live
    async with live_client(app) as client:
        batch_id, applications = await _submitted_county_applications(
            client, tokens, clock, ["350206", "350203", "350211"]
        )
        recommended = await _ok(await _recommend(client, tokens, applications[0]))
        returned = await _ok(
            await client.post(
                f"{APPLICATIONS}/{recommended['id']}/return",
                json={"reason": "材料不全，请补充后重新推荐"},
                headers={
                    **tokens.headers(Role.province_admin, "350000"),
                    "If-Match": f'"{recommended["version"]}"',
                },
            )
        )
        assert await _recommendations(app, batch_id, "350200") == 0
        pending = [returned, *applications[1:]]
        responses = await asyncio.gather(*(_recommend(client, tokens, a) for a in pending))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409], [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {
        "demonstration_city_recommendation_taken"
    }
    assert await _recommendations(app, batch_id, "350200") == 1
