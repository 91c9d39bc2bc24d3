"""Home-bed errors of the historical import (``POST /home-beds/bulk``); the single steps' own errors stay
where they are raised (``service.py``), and the import raises those same ones for the same rules."""

from __future__ import annotations

from collections.abc import Sequence

from libs.common.errors import Conflict, FieldError, Unprocessable


def _field(name: str, message: str, code: str) -> list[FieldError]:
    return [FieldError(field=f"body.{name}" if name else "body", message=message, code=code)]


class HomeBedNotQualified(Unprocessable):
    """An episode that was opened must have qualified (the assessment's rule)."""

    default_code = "home_bed_not_qualified"

    def __init__(self, gaps: Sequence[str]) -> None:
        super().__init__("评估不符合建床条件，不能建床：" + "；".join(gaps), extra={"gaps": list(gaps)})


class DateInFuture(Unprocessable):
    default_code = "date_in_future"

    def __init__(self, name: str, label: str) -> None:
        super().__init__(f"{label}不能晚于今天（历史记录）", errors=_field(name, "不能晚于今天", "future"))


class DatesOutOfOrder(Unprocessable):
    default_code = "dates_out_of_order"

    def __init__(self, name: str, label: str, earlier: str) -> None:
        super().__init__(
            f"{label}不能早于{earlier}", errors=_field(name, f"不能早于{earlier}", "out_of_order")
        )


class ImmutableHomeBedField(Conflict):
    default_code = "immutable_field"

    def __init__(self) -> None:
        super().__init__("不能变更已导入家庭病床的服务机构或服务对象")


class HomeBedClosedFinal(Conflict):
    default_code = "home_bed_closed"

    def __init__(self) -> None:
        super().__init__("已撤床的家庭病床不能重新改为在床")


class RoundRemoved(Conflict):
    default_code = "round_removed"

    def __init__(self, count: int) -> None:
        super().__init__(
            f"已导入的查床记录不能删除（本条少了 {count} 次已记录的查床）", extra={"missing_rounds": count}
        )


class RecordNoExists(Conflict):
    default_code = "record_no_exists"

    def __init__(self) -> None:
        super().__init__("病床编号已被另一家庭病床使用", errors=_field("record_no", "已被使用", "duplicate"))
