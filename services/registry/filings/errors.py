"""Errors of the filings domain."""

from __future__ import annotations

from collections.abc import Sequence

from libs.common.errors import Conflict, FieldError, NotFound, Unprocessable


class FilingNotFound(NotFound):
    default_code = "filing_not_found"

    def __init__(self) -> None:
        super().__init__("备案不存在")


class FilingIncomplete(Unprocessable):
    """A 即办 filing is accepted only when its document set is complete."""

    default_code = "filing_incomplete"

    def __init__(self, missing: Sequence[tuple[str, str]]) -> None:
        super().__init__(
            "备案材料不齐全，补齐后即可备案：" + "、".join(label for _, label in missing),
            errors=[
                FieldError(field=f"body.{field}", message=f"缺少：{label}", code="missing")
                for field, label in missing
            ],
            extra={"missing": [field for field, _ in missing]},
        )


class FilingNotAllowed(Unprocessable):
    default_code = "filing_not_allowed"


class InstitutionInactive(Conflict):
    default_code = "institution_inactive"

    def __init__(self) -> None:
        super().__init__("机构已停用，不能备案")


class FilingNoTaken(Conflict):
    default_code = "filing_no_taken"

    def __init__(self) -> None:
        super().__init__(
            "备案号已被另一份备案使用（filing number taken）",
            errors=[FieldError(field="body.filing_no", message="备案号已被使用", code="taken")],
        )


class FilingHistoryFixed(Conflict):
    """A filing of a history import keeps its institution, 备案号 and acceptance date once written."""

    default_code = "filing_history_fixed"

    def __init__(self, fields: Sequence[str]) -> None:
        super().__init__(
            "已导入备案的机构、备案号和备案时间不能更改：" + "、".join(fields),
            errors=[FieldError(field=f"body.{name}", message="不能更改", code="fixed") for name in fields],
        )
