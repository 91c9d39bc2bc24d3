from __future__ import annotations

from typing import Any

from libs.common.errors import Conflict, FieldError, NotFound, PreconditionFailed, Unprocessable


class VisitRecordNotFound(NotFound):
    default_code = "visit_record_not_found"

    def __init__(self) -> None:
        super().__init__("该订单尚无服务记录")


class StaleVisitRecord(Conflict):
    default_code = "stale_visit_record"

    def __init__(self, current: dict[str, Any]) -> None:
        super().__init__("服务记录已有更新的版本，本次提交已过时", extra={"current": current})


class VisitRecordExists(Conflict):
    default_code = "visit_record_exists"

    def __init__(self, current: dict[str, Any]) -> None:
        super().__init__("该订单已有另一份服务记录", extra={"current": current})


class VisitRecordClosed(Conflict):
    default_code = "visit_record_closed"

    def __init__(self, current: dict[str, Any]) -> None:
        super().__init__("订单当前状态不能提交或修改服务记录", extra={"current": current})


class VisitRecordVersionMismatch(PreconditionFailed):
    default_code = "version_mismatch"

    def __init__(self, current: dict[str, Any]) -> None:
        super().__init__("服务记录已被修改，请刷新后重试", extra={"current": current})


class ItemsNotInOrder(Unprocessable):
    default_code = "items_not_in_order"

    def __init__(self, codes: list[str]) -> None:
        super().__init__(
            f"这些项目不在订单中：{', '.join(codes)}",
            errors=[FieldError(field="body.items_done", message="不在订单中的项目", code="not_in_order")],
            extra={"item_codes": codes},
        )


class RecordTemplateViolation(Unprocessable):
    default_code = "record_template_violation"

    def __init__(self, version: str, errors: list[FieldError]) -> None:
        super().__init__(
            f"服务记录不符合模板 {version}：{len(errors)} 处",
            errors=errors,
            extra={"template_version": version},
        )


class RecordTemplateUnknown(Unprocessable):
    default_code = "record_template_unknown"

    def __init__(self, version: str, current: str) -> None:
        super().__init__(
            f"模板版本 {version} 不存在或已停用，请更新模板（当前 {current}）",
            errors=[
                FieldError(field="body.template_version", message="模板版本不存在或已停用", code="unknown")
            ],
            extra={"template_version": version, "current": current},
        )
