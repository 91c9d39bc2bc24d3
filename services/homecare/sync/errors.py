"""What only an update by bulk can run into (a single write creates; the rules of creating are the single
write's own errors)."""

from __future__ import annotations

from libs.common.errors import Conflict


class ImmutableField(Conflict):
    default_code = "immutable_field"

    def __init__(self) -> None:
        super().__init__("不能变更订单的服务机构或服务对象")


class OrderAlreadyProcessed(Conflict):
    default_code = "order_already_processed"

    def __init__(self) -> None:
        super().__init__("订单已进入处理流程，不能再修改")
