"""Check-up errors, each with its stable code."""

from __future__ import annotations

from collections.abc import Sequence

from libs.common.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable


class CheckupNotFound(NotFound):
    default_code = "checkup_not_found"

    def __init__(self) -> None:
        super().__init__("体检记录不存在")


class NotAnInstitutionUser(Forbidden):
    default_code = "institution_user_required"

    def __init__(self, what: str) -> None:
        super().__init__(f"{what}由开展服务的基层医疗卫生机构记录")


class UnknownCheckupParts(Unprocessable):
    default_code = "checkup_part_unknown"

    def __init__(self, rule_version: str, indexes: Sequence[int]) -> None:
        super().__init__(
            f"体检规则 {rule_version} 中没有所填的体检项目",
            errors=[
                FieldError(field=f"body.parts.{i}.code", message="未知的体检项目", code="unknown")
                for i in indexes
            ],
        )


class PartsSpanYears(Unprocessable):
    default_code = "checkup_parts_span_years"

    def __init__(self) -> None:
        super().__init__("一次提交的体检项目须属于同一年度（每年一份体检记录）")


class DateInFuture(Unprocessable):
    default_code = "date_in_future"

    def __init__(self, field: str, label: str) -> None:
        super().__init__(
            f"{label}不能晚于今天", errors=[FieldError(field=field, message="不能晚于今天", code="future")]
        )


class BelowCheckupAge(Unprocessable):
    default_code = "person_below_checkup_age"

    def __init__(self, min_age: int, age: int) -> None:
        super().__init__(
            f"老年人健康体检的对象须年满 {min_age} 周岁（体检日年龄 {age} 岁）",
            extra={"min_age": min_age, "age": age},
        )


class CheckupHeldByOtherInstitution(Conflict):
    default_code = "checkup_held_by_other_institution"

    def __init__(self) -> None:
        super().__init__("该居民本年度的体检记录由另一机构建立，请由该机构补录")
