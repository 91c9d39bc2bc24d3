"""The identity check of the person served at check-in (issue 18): the last characters of the ID number
(compared by the residents app, in-process, where the number lives) or the code the elder holds; a
mismatch or no answer flags the order and never blocks the check-in; the event keeps method and outcome,
never the value."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from libs.common.http_client import StaticTokenSource
from services.homecare.clients.residents import ResidentsClient
from services.homecare.orders.models import OrderEvent
from services.homecare.recipients.models import Recipient
from tests.homecare.world import HC, Crew, World, crew, id_number, located, soon, to_status


@pytest.fixture
def app_state(homecare_app: FastAPI) -> Iterator[Any]:
    """The app's state as the test changes it (settings, the residents client), restored after."""
    saved = dict(homecare_app.state._state)
    yield homecare_app.state
    homecare_app.state._state.clear()
    homecare_app.state._state.update(saved)


async def _en_route(world: World) -> tuple[Crew, dict[str, Any], str]:
    """An order on its way to a recipient registered (and linked to the person index) with a known ID
    number."""
    c = await crew(world)
    number = id_number(birth="19400315")
    recipient = await world.recipient(c.provider, id_number=number)
    order = await world.order(c.provider, recipient["id"])
    await to_status(world, c, order, "en_route")
    return c, order, number


def _check_in(proof: dict[str, str] | None, **extra: Any) -> dict[str, Any]:
    body = located(**extra)
    if proof is not None:
        body["identity"] = proof
    return body


async def _events(homecare_app: FastAPI, order_id: str) -> list[OrderEvent]:
    async with homecare_app.state.database.session() as session:
        return list(
            await session.scalars(
                select(OrderEvent).where(
                    OrderEvent.order_id == uuid.UUID(order_id), OrderEvent.action == "check-in"
                )
            )
        )


async def test_the_right_id_suffix_checks_in_unflagged(world: World) -> None:
    c, order, number = await _en_route(world)
    body = _check_in({"method": "id_suffix", "value": number[-4:]})
    response = await world.act(order["id"], "check-in", world.staff(c.provider, c.nurse), body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "checked_in"
    assert response.json()["flagged"] is False


async def test_a_wrong_suffix_is_flagged_not_blocking_listed_and_reviewable(world: World) -> None:
    c, order, number = await _en_route(world)
    wrong = "0000" if number[-4:] != "0000" else "1111"
    nurse = world.staff(c.provider, c.nurse)
    response = await world.act(
        order["id"], "check-in", nurse, _check_in({"method": "id_suffix", "value": wrong})
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "checked_in"
    assert response.json()["flag_reasons"] == ["identity_mismatch"]
    queue = await world.client.get(f"{HC}/orders?flagged=true", headers=world.admin(c.provider))
    assert [o["id"] for o in queue.json()["items"]] == [order["id"]]
    review = await world.act(order["id"], "review-flags", world.admin(c.provider), {"note": "电话核实为本人"})
    assert review.status_code == 200, review.text
    queue = await world.client.get(f"{HC}/orders?flagged=true", headers=world.admin(c.provider))
    assert queue.json()["items"] == []
    # the service goes on
    assert (await world.act(order["id"], "start", nurse, {})).status_code == 200


@pytest.mark.parametrize(
    ("proof", "code"),
    [
        ({"method": "id_suffix", "value": "12345"}, "identity_suffix_invalid"),
        ({"method": "id_suffix", "value": "123"}, "identity_suffix_invalid"),
        ({"method": "id_suffix", "value": "35020619400315123X"}, "validation_failed"),
        ({"method": "id_suffix", "value": "12a4"}, "validation_failed"),
        ({"method": "fingerprint", "value": "1234"}, "validation_failed"),
        ({"value": "1234"}, "validation_failed"),
    ],
)
async def test_a_malformed_or_unknown_proof_is_422_and_nothing_happens(
    world: World, proof: dict[str, str], code: str
) -> None:
    c, order, _ = await _en_route(world)
    response = await world.act(order["id"], "check-in", world.staff(c.provider, c.nurse), _check_in(proof))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    current = await world.client.get(f"{HC}/orders/{order['id']}", headers=world.admin(c.provider))
    assert current.json()["status"] == "en_route"


@pytest.mark.parametrize("status", [None, 500, 429])
async def test_residents_not_answering_is_flagged_unverified(
    world: World, app_state: Any, status: int | None
) -> None:
    c, order, number = await _en_route(world)

    def answer(request: httpx.Request) -> httpx.Response:
        if status is None:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(
            status, json={"code": "identity_check_limit" if status == 429 else "internal_error"}
        )

    app_state.residents = ResidentsClient(
        httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://gateway"),
        StaticTokenSource("token"),
    )
    body = _check_in({"method": "id_suffix", "value": number[-4:]})
    response = await world.act(order["id"], "check-in", world.staff(c.provider, c.nurse), body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "checked_in"
    assert response.json()["flag_reasons"] == ["identity_unverified"]


async def test_no_proof_is_flagged_only_when_the_setting_requires_one(world: World, app_state: Any) -> None:
    c, order, _ = await _en_route(world)
    nurse = world.staff(c.provider, c.nurse)
    response = await world.act(order["id"], "check-in", nurse, _check_in(None))
    assert response.json()["flagged"] is False
    app_state.settings = app_state.settings.model_copy(update={"identity_proof_required": True})
    other, second, _ = await _en_route(world)
    response = await world.act(
        second["id"], "check-in", world.staff(other.provider, other.nurse), _check_in(None)
    )
    assert response.status_code == 200, response.text
    assert response.json()["flag_reasons"] == ["identity_unchecked"]


async def test_an_elder_code_is_issued_once_and_checked_at_check_in(world: World) -> None:
    c, order, _ = await _en_route(world)
    url = f"{HC}/recipients/{order['recipient_id']}/elder-code"
    issued = await world.client.post(url, headers=world.admin(c.provider))
    assert issued.status_code == 201, issued.text
    assert issued.headers["cache-control"] == "no-store"
    code = issued.json()["code"]
    assert len(code) == 6
    assert code.isdigit()
    assert issued.json()["reissued"] is False
    reissued = await world.client.post(url, headers=world.admin(c.provider))
    assert reissued.json()["reissued"] is True
    new_code = reissued.json()["code"]
    read = await world.client.get(f"{HC}/recipients/{order['recipient_id']}", headers=world.admin(c.provider))
    assert new_code not in read.text
    nurse = world.staff(c.provider, c.nurse)
    if code != new_code:  # the old code is void
        second = await world.order(c.provider, order["recipient_id"], start=soon(8))
        await to_status(world, c, second, "en_route")
        old = await world.act(
            second["id"], "check-in", nurse, _check_in({"method": "elder_code", "value": code})
        )
        assert old.json()["flag_reasons"] == ["identity_mismatch"]
    response = await world.act(
        order["id"], "check-in", nurse, _check_in({"method": "elder_code", "value": new_code})
    )
    assert response.status_code == 200, response.text
    assert response.json()["flagged"] is False


async def test_an_elder_code_for_a_recipient_with_none_issued_is_a_mismatch(world: World) -> None:
    c, order, _ = await _en_route(world)
    body = _check_in({"method": "elder_code", "value": "123456"})
    response = await world.act(order["id"], "check-in", world.staff(c.provider, c.nurse), body)
    assert response.json()["flag_reasons"] == ["identity_mismatch"]


@pytest.mark.parametrize(("caller", "status"), [("nurse", 403), ("other_admin", 404), ("county", 403)])
async def test_only_the_serving_institutions_admin_issues_the_code(
    world: World, caller: str, status: int
) -> None:
    c, order, _ = await _en_route(world)
    other = await world.provider()
    headers = {
        "nurse": world.staff(c.provider, c.nurse),
        "other_admin": world.admin(other),
        "county": world.county(),
    }[caller]
    response = await world.client.post(f"{HC}/recipients/{order['recipient_id']}/elder-code", headers=headers)
    assert response.status_code == status, response.text


async def test_a_replayed_check_in_does_not_double_the_flag_and_the_event_keeps_no_value(
    live_world: World, homecare_app: FastAPI
) -> None:
    c, order, number = await _en_route(live_world)
    wrong = "0000" if number[-4:] != "0000" else "1111"
    body = _check_in({"method": "id_suffix", "value": wrong})
    nurse = {**live_world.staff(c.provider, c.nurse), "Idempotency-Key": uuid.uuid4().hex}
    first = await live_world.act(order["id"], "check-in", nurse, body, if_match="*")
    assert first.status_code == 200, first.text
    again = await live_world.act(order["id"], "check-in", nurse, body, if_match="*")
    assert again.status_code == 200
    assert again.headers.get("idempotent-replayed") == "true"
    # the same client event without the key: answered as applied, nothing added
    replay = await live_world.act(
        order["id"], "check-in", live_world.staff(c.provider, c.nurse), body, if_match="*"
    )
    assert replay.status_code == 200
    assert replay.json()["flag_reasons"] == ["identity_mismatch"]
    events = await _events(homecare_app, order["id"])
    assert len(events) == 1
    assert events[0].flags == ["identity_mismatch"]
    assert events[0].detail == {
        "flags": ["identity_mismatch"],
        "identity": {"method": "id_suffix", "outcome": "mismatch"},
    }
    async with homecare_app.state.database.session() as session:
        recipient = await session.get(Recipient, uuid.UUID(order["recipient_id"]))
        assert recipient is not None
        assert recipient.person_id is not None
    assert wrong not in str(events[0].detail)
