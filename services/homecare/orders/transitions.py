"""The order state machine as data: action → (states it may start from, state it leads to)."""

from __future__ import annotations

from libs.common.errors import IllegalTransition
from services.homecare.orders.models import Order, OrderStatus

S = OrderStatus

TRANSITIONS: dict[str, tuple[frozenset[OrderStatus], OrderStatus]] = {
    "assess": (frozenset({S.submitted}), S.assessed),
    "accept": (frozenset({S.assessed}), S.accepted),
    "reject": (frozenset({S.submitted, S.assessed}), S.rejected),
    "assign": (frozenset({S.accepted}), S.assigned),
    # the dispatcher takes the order back from the nurse before she sets off (to assign another)
    "unassign": (frozenset({S.assigned}), S.accepted),
    "depart": (frozenset({S.assigned}), S.en_route),
    "check-in": (frozenset({S.en_route}), S.checked_in),
    "start": (frozenset({S.checked_in}), S.in_service),
    "check-out": (frozenset({S.in_service}), S.checked_out),
    "complete": (frozenset({S.checked_out}), S.completed),
    "rate": (frozenset({S.completed}), S.rated),
    "cancel": (
        frozenset({S.submitted, S.assessed, S.accepted, S.assigned, S.en_route, S.checked_in, S.in_service}),
        S.cancelled,
    ),
    "incident": (frozenset({S.assigned, S.en_route, S.checked_in, S.in_service, S.checked_out}), S.incident),
}

#: steps that keep the state: the dispatcher moves the wanted time slot before the nurse sets off
SELF_TRANSITIONS: dict[str, frozenset[OrderStatus]] = {
    "reschedule": frozenset({S.submitted, S.assessed, S.accepted, S.assigned}),
}

#: states in which the nurse is on the job (location reports, SOS, visit record)
ON_DUTY = frozenset({S.assigned, S.en_route, S.checked_in, S.in_service, S.checked_out})
#: the visit record may be written while the nurse is at the address or just left
VISIT_RECORD_OPEN = frozenset({S.checked_in, S.in_service, S.checked_out})
#: states after which the nurse's time is free again
RELEASES_BOOKING = frozenset({S.cancelled, S.incident, S.rejected})
#: cancelled before the nurse has set off: the recipient side (city platform) may still cancel
EARLY = frozenset({S.submitted, S.assessed, S.accepted})
#: after the nurse set off, only the provider's admin may cancel, with a reason
UNDER_WAY = frozenset({S.en_route, S.checked_in, S.in_service})
ACTIVE = frozenset(
    {S.submitted, S.assessed, S.accepted, S.assigned, S.en_route, S.checked_in, S.in_service, S.checked_out}
)


def allowed_actions(status: OrderStatus) -> list[str]:
    moves = [action for action, (sources, _) in TRANSITIONS.items() if status in sources]
    return moves + [action for action, sources in SELF_TRANSITIONS.items() if status in sources]


class OrderIllegalTransition(IllegalTransition):
    def __init__(self, order: Order, action: str) -> None:
        super().__init__(
            entity="订单", state=order.status.value, action=action, allowed=allowed_actions(order.status)
        )
        self.extra = {
            **(self.extra or {}),
            "current": {"status": order.status.value, "version": order.version},
        }


def target(order: Order, action: str) -> OrderStatus:
    """The state ``action`` leads to from the order's state; 409 with the allowed actions otherwise."""
    if action in SELF_TRANSITIONS:
        if order.status not in SELF_TRANSITIONS[action]:
            raise OrderIllegalTransition(order, action)
        return order.status
    sources, to = TRANSITIONS[action]
    if order.status not in sources:
        raise OrderIllegalTransition(order, action)
    return to
