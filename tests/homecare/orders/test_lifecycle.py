from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from libs.common.auth import Role
from services.homecare.orders.models import OrderStatus
from services.homecare.orders.transitions import TRANSITIONS, allowed_actions
from tests.homecare.world import HC, HOME, World, crew, located, to_status


async def _status(world: World, order_id: str) -> dict[str, Any]:
    response = await world.client.get(f"{HC}/orders/{order_id}", headers=world.county())
    return dict(response.json())


async def test_an_order_goes_the_whole_happy_path_and_fixes_its_fees(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"], items=["HC01", "HC05"])
    assert order["status"] == "submitted"
    assert order["requires_doctor"] is True  # HC05 needs a medical order
    assert order["fees"] == {
        "items_total_yuan": "140.00",
        "visit_fee_yuan": "50.00",
        "consumables_total_yuan": None,
        "total_yuan": "190.00",
        "fixed": False,
    }
    await to_status(world, c, order, "completed")
    done = await _status(world, order["id"])
    assert done["status"] == "completed"
    # 80 + 60 items, 50 visit fee, 2 × 12.50 consumables
    assert done["fees"] == {
        "items_total_yuan": "140.00",
        "visit_fee_yuan": "50.00",
        "consumables_total_yuan": "25.00",
        "total_yuan": "215.00",
        "fixed": True,
    }
    assert done["response_minutes"] is not None
    rated = await world.act(order["id"], "rate", world.admin(c.provider), {"score": 5, "rated_by": "family"})
    assert rated.status_code == 200, rated.text
    assert rated.json()["rating"]["score"] == 5
    assert rated.json()["status"] == "rated"


async def test_fees_stay_fixed_when_the_provider_changes_its_prices_later(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"], items=["HC01"])
    await to_status(world, c, order, "completed")
    item = await world.client.put(
        f"{HC}/providers/{c.provider.id}/items/HC01",
        json={"price_yuan": "99.00"},
        headers={**world.admin(c.provider), "If-Match": '"1"'},
    )
    assert item.status_code == 200, item.text
    fee = await world.client.put(
        f"{HC}/providers/{c.provider.id}",
        json={"visit_fee_yuan": "70.00"},
        headers={**world.admin(c.provider), "If-Match": '"1"'},
    )
    assert fee.status_code == 200, fee.text
    after = await _status(world, order["id"])
    assert after["fees"]["total_yuan"] == "155.00"  # 80 + 50 + 25
    assert after["items"][0]["price_yuan"] == "80.00"


@pytest.mark.parametrize(
    "status",
    [s.value for s in OrderStatus if s.value not in ("rejected", "cancelled", "incident", "rated")],
)
async def test_every_action_not_allowed_from_a_state_answers_409_with_the_allowed_ones(
    world: World, status: str
) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    if status != "submitted":
        await to_status(world, c, order, status)
    allowed = allowed_actions(OrderStatus(status))
    for action in TRANSITIONS:
        if action in allowed:
            continue
        bodies: dict[str, dict[str, Any]] = {
            "assess": {"service_group": "chronic"},
            "assign": {"nurse_practitioner_id": str(c.nurse)},
            "rate": {"score": 4},
            "check-in": located(),
            "check-out": located(),
            "reject": {"reason": "x"},
            "cancel": {"reason": "x"},
            "incident": {"reason": "x"},
        }
        body = bodies.get(action, {})
        nurse_steps = ("depart", "check-in", "start", "check-out", "complete")
        actor = world.staff(c.provider, c.nurse) if action in nurse_steps else world.admin(c.provider)
        response = await world.act(order["id"], action, actor, body)
        assert response.status_code == 409, (status, action, response.text)
        problem = response.json()
        assert problem["code"] == "illegal_transition"
        assert problem["extra"]["allowed"] == allowed
        assert problem["extra"]["current"]["status"] == status


async def test_terminal_states_allow_nothing(world: World) -> None:
    c = await crew(world)
    rejected = await world.order(c.provider, c.recipient["id"])
    assert (
        await world.act(rejected["id"], "reject", world.admin(c.provider), {"reason": "不在服务范围"})
    ).status_code == 200
    cancelled = await world.order(c.provider, c.recipient["id"], start=datetime.now(UTC) + timedelta(days=1))
    assert (await world.act(cancelled["id"], "cancel", world.admin(c.provider), {})).status_code == 200
    for order_id, state in ((rejected["id"], "rejected"), (cancelled["id"], "cancelled")):
        response = await world.act(order_id, "accept", world.admin(c.provider))
        assert response.status_code == 409
        assert response.json()["extra"]["allowed"] == []
        assert response.json()["extra"]["state"] == state


async def test_a_transition_without_if_match_is_428_and_with_a_stale_one_412(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    missing = await world.client.post(
        f"{HC}/orders/{order['id']}/assess",
        json={"service_group": "chronic"},
        headers=world.staff(c.provider, c.doctor),
    )
    assert missing.status_code == 428
    stale = await world.act(
        order["id"], "assess", world.staff(c.provider, c.doctor), {"service_group": "chronic"}, if_match='"7"'
    )
    assert stale.status_code == 412
    assert stale.json()["extra"]["current_version"] == 1


async def test_high_risk_items_need_a_doctor_of_the_provider_to_assess(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"], items=["HC20"])  # PICC: high risk
    by_nurse = await world.act(
        order["id"], "assess", world.staff(c.provider, c.nurse), {"service_group": "chronic"}
    )
    assert by_nurse.status_code == 403
    assert by_nurse.json()["code"] == "doctor_assessment_required"
    by_admin = await world.act(order["id"], "assess", world.admin(c.provider), {"service_group": "chronic"})
    assert by_admin.status_code == 403
    other = await world.provider()
    stranger = await world.practitioner(other, kind="doctor")
    by_other_doctor = await world.act(
        order["id"], "assess", world.staff(c.provider, stranger), {"service_group": "chronic"}
    )
    assert by_other_doctor.status_code == 403
    by_doctor = await world.act(
        order["id"], "assess", world.staff(c.provider, c.doctor), {"service_group": "chronic"}
    )
    assert by_doctor.status_code == 200, by_doctor.text
    assert by_doctor.json()["assessed_by_practitioner_id"] == str(c.doctor)


async def test_a_low_risk_order_may_be_assessed_by_the_providers_admin(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"], items=["HC01"])
    response = await world.act(order["id"], "assess", world.admin(c.provider), {"service_group": "chronic"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("group", "overrides"),
    [
        ("very_old", {}),  # born 1940: 86, fine — so check a younger one below
        ("frail_disabled_demented", {"disability_level": 0, "dementia": False}),
        ("chronic", {"chronic_diseases": []}),
    ],
)
async def test_the_service_group_must_match_the_recipient(
    world: World, group: str, overrides: dict[str, Any]
) -> None:
    c = await crew(world)
    from tests.homecare.world import id_number

    recipient = await world.recipient(c.provider, id_number=id_number(birth="19700101"), **overrides)
    order = await world.order(c.provider, recipient["id"])
    response = await world.act(order["id"], "assess", world.admin(c.provider), {"service_group": group})
    assert response.status_code == 422
    assert response.json()["code"] == "service_group_mismatch"


async def test_only_the_providers_admin_accepts_and_rejection_needs_a_reason(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "assessed")
    by_staff = await world.act(order["id"], "accept", world.staff(c.provider, c.doctor))
    assert by_staff.status_code == 403
    other = await world.provider()
    by_other = await world.act(order["id"], "accept", world.admin(other))
    assert by_other.status_code == 404  # not visible to another institution
    no_reason = await world.act(order["id"], "reject", world.admin(c.provider), {})
    assert no_reason.status_code == 422
    assert no_reason.json()["code"] == "reason_required"


async def test_assignment_refuses_a_nurse_without_homecare_eligibility(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "accepted")
    response = await world.act(
        order["id"], "assign", world.admin(c.provider), {"nurse_practitioner_id": str(c.junior_nurse)}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "nurse_not_eligible"


async def test_assignment_refuses_a_nurse_untrained_for_a_specialist_item(world: World) -> None:
    c = await crew(world, nurse_items=[])
    order = await world.order(c.provider, c.recipient["id"], items=["HC01", "HC20"])
    await to_status(world, c, order, "accepted")
    response = await world.act(
        order["id"], "assign", world.admin(c.provider), {"nurse_practitioner_id": str(c.nurse)}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "nurse_not_qualified"
    assert response.json()["extra"]["item_codes"] == ["HC20"]


async def test_assignment_refuses_a_doctor_a_nurse_of_another_institution_and_an_unknown_id(
    world: World,
) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "accepted")
    other = await world.provider()
    foreign = await world.practitioner(other)
    import uuid

    for candidate in (c.doctor, foreign, uuid.uuid4()):
        response = await world.act(
            order["id"], "assign", world.admin(c.provider), {"nurse_practitioner_id": str(candidate)}
        )
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "nurse_not_eligible"


async def test_assignment_refuses_an_overlapping_booking_of_the_same_nurse(world: World) -> None:
    c = await crew(world)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    first = await world.order(c.provider, c.recipient["id"], start=start, hours=2)
    overlapping = await world.order(c.provider, c.recipient["id"], start=start + timedelta(hours=1), hours=2)
    adjacent = await world.order(c.provider, c.recipient["id"], start=start + timedelta(hours=2), hours=1)
    for order in (first, overlapping, adjacent):
        await to_status(world, c, order, "accepted")
    assert (
        await world.act(
            first["id"], "assign", world.admin(c.provider), {"nurse_practitioner_id": str(c.nurse)}
        )
    ).status_code == 200
    clash = await world.act(
        overlapping["id"], "assign", world.admin(c.provider), {"nurse_practitioner_id": str(c.nurse)}
    )
    assert clash.status_code == 409
    assert clash.json()["code"] == "nurse_double_booked"
    assert clash.json()["extra"]["conflicting_order_id"] == first["id"]
    fine = await world.act(
        adjacent["id"], "assign", world.admin(c.provider), {"nurse_practitioner_id": str(c.nurse)}
    )
    assert fine.status_code == 200, fine.text


async def test_a_cancelled_order_frees_the_nurses_time(world: World) -> None:
    c = await crew(world)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    first = await world.order(c.provider, c.recipient["id"], start=start)
    second = await world.order(c.provider, c.recipient["id"], start=start)
    for order in (first, second):
        await to_status(world, c, order, "accepted")
    await world.act(first["id"], "assign", world.admin(c.provider), {"nurse_practitioner_id": str(c.nurse)})
    assert (
        await world.act(first["id"], "cancel", world.admin(c.provider), {"reason": "家属改期"})
    ).status_code == 200
    again = await world.act(
        second["id"], "assign", world.admin(c.provider), {"nurse_practitioner_id": str(c.nurse)}
    )
    assert again.status_code == 200, again.text


async def test_cancel_rules_depend_on_how_far_the_order_has_gone(world: World) -> None:
    c = await crew(world)
    early = await world.order(c.provider, c.recipient["id"], headers=world.platform())
    by_platform = await world.act(early["id"], "cancel", world.platform(), {"reason": "家属取消"})
    assert by_platform.status_code == 200, by_platform.text

    assigned = await world.order(
        c.provider, c.recipient["id"], start=datetime.now(UTC) + timedelta(days=4), headers=world.platform()
    )
    await to_status(world, c, assigned, "assigned")
    assert (await world.act(assigned["id"], "cancel", world.platform(), {})).status_code == 403
    assert (
        await world.act(assigned["id"], "cancel", world.staff(c.provider, c.doctor), {})
    ).status_code == 200

    under_way = await world.order(c.provider, c.recipient["id"], start=datetime.now(UTC) + timedelta(days=5))
    await to_status(world, c, under_way, "en_route")
    by_staff = await world.act(under_way["id"], "cancel", world.staff(c.provider, c.nurse), {"reason": "x"})
    assert by_staff.status_code == 403
    assert by_staff.json()["code"] == "cancel_not_allowed"
    without_reason = await world.act(under_way["id"], "cancel", world.admin(c.provider), {})
    assert without_reason.status_code == 422
    with_reason = await world.act(
        under_way["id"], "cancel", world.admin(c.provider), {"reason": "服务对象临时住院"}
    )
    assert with_reason.status_code == 200
    assert with_reason.json()["end_reason"] == "服务对象临时住院"


async def test_a_city_platform_cancels_only_the_orders_it_placed(world: World) -> None:
    """Issue 11, finding 11: the parties to an order may cancel it — the provider's users, and the
    city platform only for an order it placed itself; nothing changes on a refusal."""
    c = await crew(world)
    platform = world.platform()
    by_institution = await world.order(c.provider, c.recipient["id"])
    refused = await world.act(by_institution["id"], "cancel", platform, {"reason": "家属取消"})
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "not_order_party"
    after = await world.client.get(f"{HC}/orders/{by_institution['id']}", headers=world.county())
    assert (after.json()["status"], after.json()["version"]) == ("submitted", by_institution["version"])

    # another city platform client of the same city did not place it either
    other_client = world.tokens.headers(Role.city_platform, "350200", sub="client:another-xiamen-app")
    own = await world.order(c.provider, c.recipient["id"], headers=platform)
    assert (await world.act(own["id"], "cancel", other_client, {})).status_code == 403
    cancelled = await world.act(own["id"], "cancel", platform, {"reason": "家属取消"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"

    # the provider's admin and staff cancel orders whoever placed them
    for headers in (world.admin(c.provider), world.staff(c.provider, c.nurse)):
        placed = await world.order(c.provider, c.recipient["id"], headers=platform)
        assert (await world.act(placed["id"], "cancel", headers, {})).status_code == 200
    for headers in (world.admin(c.provider), world.staff(c.provider, c.nurse)):
        placed = await world.order(c.provider, c.recipient["id"])
        assert (await world.act(placed["id"], "cancel", headers, {})).status_code == 200


async def test_an_incident_ends_an_order_under_way(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "in_service")
    response = await world.act(
        order["id"], "incident", world.staff(c.provider, c.nurse), {"reason": "服务对象跌倒，已送医"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "incident"


async def test_only_the_assigned_nurse_moves_the_visit(world: World) -> None:
    c = await crew(world)
    other_nurse = await world.practitioner(c.provider)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "assigned")
    response = await world.act(order["id"], "depart", world.staff(c.provider, other_nurse), {})
    assert response.status_code == 403
    assert response.json()["code"] == "not_assigned_nurse"


async def test_completing_needs_a_visit_record(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "checked_out")
    response = await world.act(order["id"], "complete", world.staff(c.provider, c.nurse), {})
    assert response.status_code == 409
    assert response.json()["code"] == "visit_record_missing"


async def test_a_far_check_in_is_flagged_recorded_and_listed_for_review(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "en_route")
    far = located(HOME[0] + 0.01, HOME[1])  # ≈ 1.1 km north
    response = await world.act(order["id"], "check-in", world.staff(c.provider, c.nurse), far)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "checked_in"
    assert response.json()["flag_reasons"] == ["far_from_address"]
    queue = await world.client.get(f"{HC}/orders?flagged=true", headers=world.admin(c.provider))
    assert [o["id"] for o in queue.json()["items"]] == [order["id"]]
    review = await world.act(
        order["id"], "review-flags", world.admin(c.provider), {"note": "电话核实：小区另一入口"}
    )
    assert review.status_code == 200
    queue = await world.client.get(f"{HC}/orders?flagged=true", headers=world.admin(c.provider))
    assert queue.json()["items"] == []


async def test_a_check_in_within_the_radius_is_not_flagged(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "en_route")
    near = located(HOME[0] + 0.002, HOME[1])  # ≈ 220 m
    response = await world.act(order["id"], "check-in", world.staff(c.provider, c.nurse), near)
    assert response.json()["flagged"] is False


async def test_a_mock_location_is_flagged(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "en_route")
    response = await world.act(order["id"], "check-in", world.staff(c.provider, c.nurse), located(mock=True))
    assert response.json()["flag_reasons"] == ["mock_location"]


async def test_an_implausible_jump_between_two_points_is_flagged(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "assigned")
    now = datetime.now(UTC)
    # 福州 five minutes before checking in at the 厦门 address: ≈ 200 km in 5 min
    depart = {**located(26.0745, 119.2965, at=now - timedelta(minutes=5))}
    assert (
        await world.act(order["id"], "depart", world.staff(c.provider, c.nurse), depart)
    ).status_code == 200
    response = await world.act(order["id"], "check-in", world.staff(c.provider, c.nurse), located(at=now))
    assert response.status_code == 200
    assert response.json()["flag_reasons"] == ["implausible_speed"]


async def test_sos_is_recorded_at_once_and_seen_by_the_providers_admin(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"])
    await to_status(world, c, order, "in_service")
    import uuid

    body = {
        "client_event_id": str(uuid.uuid4()),
        "client_at": datetime.now(UTC).isoformat(),
        "message": "家属情绪激动",
    }
    raised = await world.client.post(
        f"{HC}/orders/{order['id']}/sos", json=body, headers=world.staff(c.provider, c.nurse)
    )
    assert raised.status_code == 201, raised.text
    again = await world.client.post(
        f"{HC}/orders/{order['id']}/sos", json=body, headers=world.staff(c.provider, c.nurse)
    )
    assert again.status_code == 200
    assert again.json()["id"] == raised.json()["id"]
    open_alerts = await world.client.get(f"{HC}/sos?open=true", headers=world.admin(c.provider))
    assert [a["id"] for a in open_alerts.json()["items"]] == [raised.json()["id"]]
    other = await world.provider()
    assert (await world.client.get(f"{HC}/sos?open=true", headers=world.admin(other))).json()["items"] == []
    resolved = await world.client.post(
        f"{HC}/sos/{raised.json()['id']}/resolve",
        json={"resolution": "已电话联系，护士安全"},
        headers={**world.admin(c.provider), "If-Match": '"1"'},
    )
    assert resolved.status_code == 200, resolved.text
    assert (await world.client.get(f"{HC}/sos?open=true", headers=world.admin(c.provider))).json()[
        "items"
    ] == []


async def test_items_must_be_enabled_by_the_provider(world: World) -> None:
    c = await crew(world)
    response = await world.client.post(
        f"{HC}/orders",
        json={
            "recipient_id": c.recipient["id"],
            "item_codes": ["HC02"],
            "window_start": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "window_end": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
        },
        headers=world.admin(c.provider),
    )
    assert response.status_code == 422
    assert response.json()["code"] == "item_not_offered"


async def test_a_city_platform_places_an_order_on_behalf_within_its_city_only(world: World) -> None:
    c = await crew(world)
    order = await world.order(c.provider, c.recipient["id"], headers=world.platform())
    assert order["placed_by_role"] == "city_platform"
    fz = await world.client.post(
        f"{HC}/orders",
        json={
            "institution_id": str(c.provider.id),
            "recipient_id": c.recipient["id"],
            "item_codes": ["HC01"],
            "window_start": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "window_end": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
        },
        headers=world.platform("350100"),
    )
    assert fz.status_code == 404  # the recipient lies outside 福州's scope


def test_fee_arithmetic_is_decimal_exact() -> None:
    from services.homecare.orders import fees

    assert fees.consumables_total([(3, Decimal("0.10")), (1, Decimal("0.20"))]) == Decimal("0.50")
    assert fees.consumable_line(3, Decimal("33.33")) == Decimal("99.99")
    assert fees.total(Decimal("80.00"), Decimal("50.00"), Decimal("25.00")) == Decimal("155.00")
    assert fees.items_total([Decimal("0.1")] * 10) == Decimal("1.00")
