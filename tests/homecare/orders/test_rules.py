"""The order rules on their own functions, written from rules.md (互联网+护理服务): the order flow
request → assessment (may refuse) → accept → dispatch to a nurse → travel → check-in → service →
check-out → completion → rating, cancellation before the end, incidents while on duty; nurse
eligibility: registered, 5 years, title 护师 or above (config homecare.nurse_min_title), items needing a
higher title or specialist training."""

from __future__ import annotations

import uuid

import pytest

from libs.common.errors import IllegalTransition
from services.homecare.clients.registry import PractitionerInfo, Training
from services.homecare.orders.errors import NurseNotEligible, NurseNotQualified
from services.homecare.orders.lifecycle import check_nurse, title_rank
from services.homecare.orders.models import Order, OrderItem, OrderStatus
from services.homecare.orders.transitions import allowed_actions, target
from services.homecare.settings import HomecareSettings

S = OrderStatus
PROVIDER = uuid.UUID("00000000-0000-4000-8000-00000000000a")
OTHER = uuid.UUID("00000000-0000-4000-8000-00000000000b")

#: the happy path of rules.md, one action at a time
FLOW = [
    (S.submitted, "assess", S.assessed),
    (S.assessed, "accept", S.accepted),
    (S.accepted, "assign", S.assigned),
    (S.assigned, "depart", S.en_route),
    (S.en_route, "check-in", S.checked_in),
    (S.checked_in, "start", S.in_service),
    (S.in_service, "check-out", S.checked_out),
    (S.checked_out, "complete", S.completed),
    (S.completed, "rate", S.rated),
]


def _order(status: OrderStatus, *items: OrderItem) -> Order:
    order = Order(status=status, institution_id=PROVIDER, version=4)
    order.items = list(items)
    return order


@pytest.mark.parametrize(("source", "action", "reached"), FLOW)
def test_the_order_flow_moves_one_step_at_a_time(
    source: OrderStatus, action: str, reached: OrderStatus
) -> None:
    assert target(_order(source), action) is reached
    assert action in allowed_actions(source)


@pytest.mark.parametrize(("source", "action", "_reached"), FLOW)
def test_no_step_can_be_skipped_or_repeated(source: OrderStatus, action: str, _reached: OrderStatus) -> None:
    for status in S:
        if status is source:
            continue
        with pytest.raises(IllegalTransition) as refused:
            target(_order(status), action)
        assert refused.value.status == 409
        assert refused.value.extra is not None
        assert refused.value.extra["current"] == {"status": status.value, "version": 4}
        assert refused.value.extra["state"] == status.value
        assert refused.value.extra["action"] == action
        assert refused.value.extra["allowed"] == allowed_actions(status)
        assert "订单" in refused.value.detail


def test_the_institution_may_refuse_at_request_or_after_assessment_only() -> None:
    assert target(_order(S.submitted), "reject") is S.rejected
    assert target(_order(S.assessed), "reject") is S.rejected
    for status in (S.accepted, S.assigned, S.completed):
        with pytest.raises(IllegalTransition):
            target(_order(status), "reject")


def test_cancellation_before_the_service_ends_and_incidents_while_on_duty() -> None:
    cancellable = {s for s in S if "cancel" in allowed_actions(s)}
    assert cancellable == {
        S.submitted,
        S.assessed,
        S.accepted,
        S.assigned,
        S.en_route,
        S.checked_in,
        S.in_service,
    }
    on_duty = {s for s in S if "incident" in allowed_actions(s)}
    assert on_duty == {S.assigned, S.en_route, S.checked_in, S.in_service, S.checked_out}
    assert target(_order(S.in_service), "cancel") is S.cancelled
    assert target(_order(S.checked_out), "incident") is S.incident


@pytest.mark.parametrize("closed", [S.rated, S.rejected, S.cancelled, S.incident])
def test_a_closed_order_allows_nothing(closed: OrderStatus) -> None:
    assert allowed_actions(closed) == []


def test_allowed_actions_are_listed_in_the_tables_order() -> None:
    assert allowed_actions(S.submitted) == ["assess", "reject", "cancel", "reschedule"]
    assert allowed_actions(S.assigned) == ["unassign", "depart", "cancel", "incident", "reschedule"]


# ------------------------------------------------------------------------------ nurse eligibility


@pytest.mark.parametrize(
    ("title", "rank"),
    [("护士", 0), ("nurse", 0), ("护师", 1), ("senior_nurse", 1), ("主管护师", 2), ("副主任护师", 3),
     ("主任护师", 4), ("chief_nurse", 4), ("医师", -1), (None, -1)],
)  # fmt: skip
def test_the_nurses_title_ladder(title: str | None, rank: int) -> None:
    assert title_rank(title) == rank


def _nurse(**overrides: object) -> PractitionerInfo:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "institution_id": PROVIDER,
        "kind": "nurse",
        "title": "护师",
        "homecare_eligible": True,
        "active": True,
    }
    values.update(overrides)
    return PractitionerInfo.model_validate(values)


def _item(code: str, *, required_title: str | None = None, specialist: bool = False) -> OrderItem:
    return OrderItem(item_code=code, required_title=required_title, needs_specialist_training=specialist)


SETTINGS = HomecareSettings()


def test_an_eligible_nurse_of_the_provider_at_the_minimum_title_is_accepted() -> None:
    check_nurse(_nurse(), _order(S.accepted, _item("HC01")), SETTINGS)
    check_nurse(
        _nurse(title="主任护师"), _order(S.accepted, _item("HC01", required_title="主管护师")), SETTINGS
    )


@pytest.mark.parametrize(
    "nurse",
    [
        None,
        _nurse(institution_id=OTHER),
        _nurse(institution_id=None),
        _nurse(kind="doctor"),
        _nurse(active=False),
        _nurse(homecare_eligible=False),
        _nurse(title="护士"),
        _nurse(title=None),
    ],
    ids=["unknown", "other-institution", "no-institution", "doctor", "inactive", "not-eligible", "below-护师",
         "no-title"],
)  # fmt: skip
def test_a_nurse_who_may_not_serve_is_refused(nurse: PractitionerInfo | None) -> None:
    with pytest.raises(NurseNotEligible) as refused:
        check_nurse(nurse, _order(S.accepted, _item("HC01")), SETTINGS)
    assert (refused.value.status, refused.value.code) == (422, "nurse_not_eligible")


def test_the_minimum_title_is_a_setting() -> None:
    stricter = HomecareSettings(nurse_min_title="主管护师")
    with pytest.raises(NurseNotEligible, match="主管护师"):
        check_nurse(_nurse(title="护师"), _order(S.accepted), stricter)
    check_nurse(_nurse(title="主管护师"), _order(S.accepted), stricter)


def test_an_item_needing_a_higher_title_names_the_item() -> None:
    order = _order(S.accepted, _item("HC01"), _item("HC07", required_title="主管护师"))
    with pytest.raises(NurseNotQualified) as refused:
        check_nurse(_nurse(title="护师"), order, SETTINGS)
    assert (refused.value.code, refused.value.extra) == ("nurse_not_qualified", {"item_codes": ["HC07"]})
    check_nurse(_nurse(title="主管护师"), order, SETTINGS)


def test_a_specialist_item_needs_training_for_that_item() -> None:
    order = _order(S.accepted, _item("HC01"), _item("HC20", specialist=True), _item("HC21", specialist=True))
    trained_other = _nurse(trainings=[Training.model_validate({"item_codes": ["HC21"]})])
    with pytest.raises(NurseNotQualified) as refused:
        check_nurse(trained_other, order, SETTINGS)
    assert refused.value.extra == {"item_codes": ["HC20"]}
    assert "HC20" in refused.value.detail
    trained = _nurse(trainings=[Training.model_validate({"item_codes": ["HC20", "HC21"]})])
    check_nurse(trained, order, SETTINGS)
