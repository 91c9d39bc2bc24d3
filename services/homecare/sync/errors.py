"""What only an update by bulk, or a historical import, can run into (a single write creates; the rules of
creating are the single write's own errors): times of a past order in the future or out of order, and a
past order already imported that now says something else."""

from __future__ import annotations

from libs.common.errors import Conflict, FieldError, Unprocessable


class ImmutableField(Conflict):
    default_code = "immutable_field"

    def __init__(self) -> None:
        super().__init__("不能变更订单的服务机构或服务对象")


class OrderAlreadyProcessed(Conflict):
    default_code = "order_already_processed"

    def __init__(self) -> None:
        super().__init__("订单已进入处理流程，不能再修改")


class HistoryInFuture(Unprocessable):
    default_code = "history_in_future"

    def __init__(self, field: str) -> None:
        super().__init__(
            "历史订单的时间不能晚于当前时间",
            errors=[FieldError(field=f"body.{field}", message="时间在未来", code="in_future")],
        )


class HistoryOutOfOrder(Unprocessable):
    default_code = "history_out_of_order"

    def __init__(self, field: str, after: str) -> None:
        super().__init__(
            f"{field} 不能早于 {after}",
            errors=[FieldError(field=f"body.{field}", message=f"早于 {after}", code="out_of_order")],
            extra={"field": field, "after": after},
        )


class HistoryAlreadyImported(Conflict):
    default_code = "history_already_imported"

    def __init__(self) -> None:
        super().__init__("该订单已导入且内容不同：历史订单导入后不能修改")


class VisitRecordIdTaken(Conflict):
    default_code = "visit_record_id_taken"

    def __init__(self) -> None:
        super().__init__(
            "服务记录 ID 已被另一份记录使用",
            errors=[FieldError(field="body.visit_record.record_id", message="已被使用", code="taken")],
        )
