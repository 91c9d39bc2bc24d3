"""The historical import judges a past 失能 order by the residents' assessments (issue 19): the latest
assessment on or before the day the order was assessed, the declared level only before any; the
persons' assessments asked once per person for the whole batch; the residents down: 503 for the batch."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from services.homecare import clock
from services.homecare.clients.residents import ResidentsClient
from services.homecare.orders.models import Order, OrderEvent
from tests.homecare.orders.test_disability_assessment import INTACT, MODERATE, Assessor, _down_client
from tests.homecare.sync.test_history import _import, _outcomes, past_order
from tests.homecare.world import World, crew

FRAIL = "frail_disabled_demented"


def _on(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=clock.CHINA_TZ)


class CountingResidents(ResidentsClient):
    """The app's residents client, counting the calls by path."""

    def __init__(self, inner: ResidentsClient) -> None:
        super().__init__(inner._http, inner._tokens)
        self.concurrency = inner.concurrency
        self.calls: list[str] = []

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self.calls.append(path)
        return await super()._call(method, path, **kwargs)


async def test_each_past_order_is_judged_by_the_assessment_in_force_on_its_day(
    world: World, residents: httpx.AsyncClient, homecare_app: FastAPI
) -> None:
    c = await crew(world)
    assessor = await Assessor.make(world, residents)
    bodies = [world.recipient_body(disability_level=0, dementia=False) for _ in range(2)]
    recipients = []
    for body in bodies:
        response = await world.client.post(
            "/api/v1/homecare/recipients", json=body, headers=world.admin(c.provider)
        )
        assert response.status_code == 201, response.text
        recipients.append(response.json())
    # the first: 中度失能 from 2025-04-01, 能力完好 again from 2025-06-01; the second: 失能 from 2025-02-01
    first, second = [await assessor.person(b) for b in bodies]
    moderate = await assessor.assess(first, MODERATE, date(2025, 4, 1))
    await assessor.assess(first, INTACT, date(2025, 6, 1))
    await assessor.assess(second, MODERATE, date(2025, 2, 1))

    def order(key: str, recipient: dict[str, Any], day: date) -> dict[str, Any]:
        return past_order(c, key, recipient_id=recipient["id"], service_group=FRAIL, start=_on(day))

    records = [
        order("D1", recipients[0], date(2025, 3, 20)),  # before any assessment: declared 0
        order("D2", recipients[0], date(2025, 5, 10)),  # 中度失能 on that day
        order("D3", recipients[0], date(2025, 7, 10)),  # re-assessed 能力完好
        order("D4", recipients[1], date(2025, 3, 20)),
        order("D5", recipients[1], date(2025, 8, 20)),
    ]
    held = homecare_app.state.residents
    counting = CountingResidents(held)
    homecare_app.state.residents = counting
    try:
        response = await _import(world, records)
    finally:
        homecare_app.state.residents = held
    assert _outcomes(response) == [
        ("rejected", "service_group_mismatch"),
        ("created", None),
        ("rejected", "service_group_mismatch"),
        ("created", None),
        ("created", None),
    ]
    # one listing per person for the whole batch (the recipients are linked: no look-up by ID number)
    assert sorted(counting.calls) == ["/api/v1/residents/assessments"] * 2

    async with homecare_app.state.database.session() as session:
        detail = await session.scalar(
            select(OrderEvent.detail)
            .join(Order, Order.id == OrderEvent.order_id)
            .where(Order.external_id == "D2", OrderEvent.action == "assess")
        )
    assert isinstance(detail, dict)
    assert detail["disability"] == {
        "source": "assessment",
        "assessment_id": moderate["id"],
        "assessed_date": "2025-04-01",
        "level": 2,
    }


async def test_other_groups_import_without_the_residents_and_a_failure_is_a_503(
    world: World, homecare_app: FastAPI
) -> None:
    c = await crew(world)
    held = homecare_app.state.residents
    homecare_app.state.residents = _down_client()
    try:
        chronic = await _import(world, [past_order(c, f"C{uuid.uuid4().hex[:6]}")])
        assert _outcomes(chronic) == [("created", None)]
        frail = await _import(world, [past_order(c, "F1", service_group=FRAIL)])
        assert frail.status_code == 503, frail.text
        assert frail.headers["content-type"].startswith("application/problem+json")
        assert frail.json()["code"] == "residents_unavailable"
    finally:
        homecare_app.state.residents = held
