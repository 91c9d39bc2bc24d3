"""Errors of the institutions domain, each with a stable code."""

from __future__ import annotations

from collections.abc import Sequence

from libs.common.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable


class InstitutionNotFound(NotFound):
    default_code = "institution_not_found"

    def __init__(self) -> None:
        super().__init__("机构不存在")


class UsccTaken(Conflict):
    default_code = "uscc_taken"

    def __init__(self) -> None:
        super().__init__(
            "该统一社会信用代码已登记为另一家机构（USCC already registered）",
            errors=[FieldError(field="body.uscc", message="统一社会信用代码已被使用", code="uscc_taken")],
        )


class FieldNotEditable(Forbidden):
    default_code = "field_not_editable"

    def __init__(self, fields: Sequence[str]) -> None:
        super().__init__(
            f"机构管理员不能修改以下字段：{', '.join(fields)}（请联系县级卫健部门）",
            errors=[
                FieldError(field=f"body.{name}", message="机构管理员不可修改", code="field_not_editable")
                for name in fields
            ],
            extra={"fields": list(fields)},
        )


class InvalidInstitution(Unprocessable):
    default_code = "invalid_institution"


class UnknownRegion(Unprocessable):
    default_code = "unknown_region"

    def __init__(self) -> None:
        super().__init__(
            "行政区划代码不存在（region_code is not a Fujian division）",
            errors=[
                FieldError(field="query.region_code", message="行政区划代码不存在", code="unknown_region")
            ],
        )


class InstitutionAlreadyInState(Conflict):
    default_code = "institution_state_unchanged"
