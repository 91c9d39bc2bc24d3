"""Homecare's disability rule reads the residents' latest ability assessment (issue 19).

The order's first assessment with the service group 失能、失智、行动不便者 (``frail_disabled_demented``)
needs the recipient 失能 (level ≥ 1) or 失智. 失能 is the level of the person's latest assessment in the
residents service (the residents app runs in-process); the declared ``disability_level`` decides only
for a person never assessed. What the rule used is kept on the order's assess event. The residents
service down is a 503 ``residents_unavailable``, never a 500 nor a guess.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from libs.common.auth import Role
from libs.common.clock import today_in_china
from libs.common.http_client import StaticTokenSource
from services.homecare.clients.residents import ResidentsClient
from services.homecare.orders.models import OrderEvent
from services.homecare.recipients.models import Recipient
from services.homecare.recipients.schemas import RecipientCreate
from services.homecare.recipients.service import identity_columns
from tests.homecare.world import HULI, World, crew
from tests.residents.assessments.scores import scores_totalling

RES = "/api/v1/residents"
FRAIL = {"service_group": "frail_disabled_demented"}
# totals of the likely table: 90 能力完好 (level 0), 64 中度失能 (level 2)
INTACT, MODERATE = 90, 64


class Assessor:
    """A 社区卫生服务中心 that registers the recipient as a person and assesses them in the residents app."""

    def __init__(self, world: World, residents: httpx.AsyncClient, inst_id: uuid.UUID) -> None:
        self.world, self.residents, self.inst_id = world, residents, inst_id

    @classmethod
    async def make(cls, world: World, residents: httpx.AsyncClient) -> Assessor:
        response = await world.registry.post(
            "/api/v1/registry/institutions",
            json={
                "name": f"测试社区卫生服务中心{uuid.uuid4().hex[:6]}",
                "kind": "medical",
                "category": "community_health_center",
                "region_code": HULI,
            },
            headers=world.tokens.headers(Role.county_admin, HULI),
        )
        assert response.status_code == 201, response.text
        return cls(world, residents, uuid.UUID(response.json()["id"]))

    def headers(self) -> dict[str, str]:
        return self.world.tokens.headers(Role.institution_admin, HULI, institution_id=self.inst_id)

    async def person(self, recipient_body: dict[str, Any]) -> str:
        """The recipient's person (already there when homecare linked the recipient to it)."""
        body = {k: recipient_body[k] for k in ("name", "id_number", "region_code")}
        response = await self.residents.post(f"{RES}/persons", json=body, headers=self.headers())
        assert response.status_code in (200, 201), response.text
        return str(response.json()["id"])

    async def assess(self, person_id: str, total: int, on: date) -> dict[str, Any]:
        body = {"person_id": person_id, "assessed_date": on.isoformat(), "scores": scores_totalling(total)}
        response = await self.residents.post(f"{RES}/assessments", json=body, headers=self.headers())
        assert response.status_code == 201, response.text
        return dict(response.json())


async def _recipient(world: World, provider: Any, **overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    body = world.recipient_body(**overrides)
    response = await world.client.post(
        "/api/v1/homecare/recipients", json=body, headers=world.admin(provider)
    )
    assert response.status_code == 201, response.text
    return body, dict(response.json())


async def _assess_order(
    world: World, provider: Any, recipient_id: str
) -> tuple[dict[str, Any], httpx.Response]:
    order = await world.order(provider, recipient_id)
    return order, await world.act(order["id"], "assess", world.admin(provider), FRAIL)


async def _linked_person(app: FastAPI, recipient_id: str) -> uuid.UUID | None:
    async with app.state.database.session() as session:
        linked: uuid.UUID | None = await session.scalar(
            select(Recipient.person_id).where(Recipient.id == uuid.UUID(recipient_id))
        )
    return linked


async def _assess_detail(app: FastAPI, order_id: str) -> dict[str, Any]:
    async with app.state.database.session() as session:
        detail = await session.scalar(
            select(OrderEvent.detail).where(
                OrderEvent.order_id == uuid.UUID(order_id), OrderEvent.action == "assess"
            )
        )
    assert isinstance(detail, dict)
    return detail


async def test_an_elder_assessed_disabled_qualifies_and_a_reassessment_intact_ends_it(
    world: World, residents: httpx.AsyncClient, homecare_app: FastAPI
) -> None:
    c = await crew(world)
    assessor = await Assessor.make(world, residents)
    body, recipient = await _recipient(world, c.provider, disability_level=0, dementia=False)

    # declared 能力完好 and never assessed: the declared level decides (fallback) — not 失能
    _, refused = await _assess_order(world, c.provider, recipient["id"])
    assert (refused.status_code, refused.json()["code"]) == (422, "service_group_mismatch")

    # assessed 中度失能 by the residents service: now qualifies, whatever was declared
    person_id = await assessor.person(body)
    assert await _linked_person(homecare_app, recipient["id"]) == uuid.UUID(person_id)  # read by id
    first_day = today_in_china() - timedelta(days=60)
    disabled = await assessor.assess(person_id, MODERATE, first_day)
    assert disabled["level"] == 2
    order, accepted = await _assess_order(world, c.provider, recipient["id"])
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["service_group"] == "frail_disabled_demented"
    assert (await _assess_detail(homecare_app, order["id"]))["disability"] == {
        "source": "assessment",
        "assessment_id": disabled["id"],
        "assessed_date": first_day.isoformat(),
        "level": 2,
    }

    # re-assessed 能力完好 later: the latest assessment rules — no longer eligible
    await assessor.assess(person_id, INTACT, first_day + timedelta(days=30))
    _, again = await _assess_order(world, c.provider, recipient["id"])
    assert (again.status_code, again.json()["code"]) == (422, "service_group_mismatch")
    assert again.headers["content-type"].startswith("application/problem+json")
    assert "能力完好" in again.json()["detail"]


async def test_the_assessment_supersedes_a_declared_disability(
    world: World, residents: httpx.AsyncClient
) -> None:
    c = await crew(world)
    assessor = await Assessor.make(world, residents)
    body, recipient = await _recipient(world, c.provider, disability_level=3, dementia=False)
    await assessor.assess(await assessor.person(body), INTACT, today_in_china() - timedelta(days=5))
    _, response = await _assess_order(world, c.provider, recipient["id"])
    assert (response.status_code, response.json()["code"]) == (422, "service_group_mismatch")


async def test_a_declared_dementia_still_qualifies_an_elder_assessed_intact(
    world: World, residents: httpx.AsyncClient
) -> None:
    c = await crew(world)
    assessor = await Assessor.make(world, residents)
    body, recipient = await _recipient(world, c.provider, disability_level=0, dementia=True)
    await assessor.assess(await assessor.person(body), INTACT, today_in_china() - timedelta(days=5))
    _, response = await _assess_order(world, c.provider, recipient["id"])
    assert response.status_code == 200, response.text


async def test_without_an_assessment_the_declared_level_decides_and_is_recorded(
    world: World, residents: httpx.AsyncClient, homecare_app: FastAPI
) -> None:
    c = await crew(world)
    assessor = await Assessor.make(world, residents)
    # in the person index, never assessed
    body, recipient = await _recipient(world, c.provider, disability_level=2, dementia=False)
    await assessor.person(body)
    order, response = await _assess_order(world, c.provider, recipient["id"])
    assert response.status_code == 200, response.text
    assert (await _assess_detail(homecare_app, order["id"]))["disability"] == {
        "source": "declared",
        "level": 2,
    }
    # not even in the person index: the same
    _, unknown = await _recipient(world, c.provider, disability_level=1, dementia=False)
    _, response = await _assess_order(world, c.provider, unknown["id"])
    assert response.status_code == 200, response.text


async def test_an_unlinked_recipient_is_found_by_id_number(
    world: World, residents: httpx.AsyncClient, homecare_app: FastAPI
) -> None:
    """Registered before recipients named their person (or by the city bulk sync): no person_id. The
    rule finds the person by the recipient's ID number (POST /persons/lookup) and reads their latest
    assessment."""
    c = await crew(world)
    assessor = await Assessor.make(world, residents)
    body, recipient = await _recipient(world, c.provider, disability_level=0, dementia=False)
    copy = identity_columns(homecare_app.state.cipher, RecipientCreate.model_validate(body))
    async with homecare_app.state.database.session() as session:
        await session.execute(
            update(Recipient).where(Recipient.id == uuid.UUID(recipient["id"])).values(person_id=None, **copy)
        )
        await session.commit()
    assert await _linked_person(homecare_app, recipient["id"]) is None
    person_id = await assessor.person(body)
    assessment = await assessor.assess(person_id, MODERATE, today_in_china() - timedelta(days=3))
    order, response = await _assess_order(world, c.provider, recipient["id"])
    assert response.status_code == 200, response.text
    assert (await _assess_detail(homecare_app, order["id"]))["disability"]["assessment_id"] == (
        assessment["id"]
    )


async def test_other_service_groups_do_not_ask_the_residents_service(
    world: World, homecare_app: FastAPI
) -> None:
    c = await crew(world)
    held = homecare_app.state.residents
    homecare_app.state.residents = _down_client()
    try:
        order = await world.order(c.provider, c.recipient["id"])
        response = await world.act(
            order["id"], "assess", world.admin(c.provider), {"service_group": "chronic"}
        )
        assert response.status_code == 200, response.text
    finally:
        homecare_app.state.residents = held


async def test_the_residents_service_down_is_a_503_problem(world: World, homecare_app: FastAPI) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    held = homecare_app.state.residents
    try:
        for broken in (_down_client(), _down_client(status=500)):
            homecare_app.state.residents = broken
            response = await world.act(order["id"], "assess", world.admin(c.provider), FRAIL)
            assert response.status_code == 503, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] == "residents_unavailable"
    finally:
        homecare_app.state.residents = held
    # nothing was decided: the order can still be assessed once the service is back
    current = await world.client.get(
        f"/api/v1/homecare/orders/{order['id']}", headers=world.admin(c.provider)
    )
    assert current.json()["status"] == "submitted"
    back = await world.act(order["id"], "assess", world.admin(c.provider), FRAIL)
    assert back.status_code == 200, back.text


def _down_http(status: int | None = None) -> httpx.AsyncClient:
    """A residents service that refuses connections (or answers ``status``)."""

    def answer(request: httpx.Request) -> httpx.Response:
        if status is None:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(status, json={"code": "internal_error"})

    return httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://gateway")


def _down_client(status: int | None = None) -> ResidentsClient:
    return ResidentsClient(_down_http(status), StaticTokenSource("token"))
