"""The errors of 签约服务包, each with its stable code."""

from __future__ import annotations

from collections.abc import Sequence

from libs.common.errors import Conflict, FieldError, NotFound, Unprocessable


class PackageNotFound(NotFound):
    default_code = "package_not_found"

    def __init__(self) -> None:
        super().__init__("签约服务包不存在")


class PackageCodeExists(Conflict):
    default_code = "package_code_exists"

    def __init__(self) -> None:
        super().__init__(
            "本机构已有该编码的服务包：修改内容请发布新版本（POST /packages/{id}/revise）",
            errors=[FieldError(field="body.code", message="已被使用", code="duplicate")],
        )


class PackageRetired(Conflict):
    default_code = "package_retired"

    def __init__(self) -> None:
        super().__init__("该服务包版本已停用（已有新版本或已停用），只能修订在用版本")


class DuplicateItem(Unprocessable):
    default_code = "duplicate_package_item"

    def __init__(self) -> None:
        super().__init__(
            "服务包中的服务项目编码不能重复",
            errors=[FieldError(field="body.items", message="项目编码重复", code="duplicate")],
        )


class PackagesInvalid(Unprocessable):
    """The packages a contract names are not a valid set, or not available to the team."""

    default_code = "packages_invalid"

    def __init__(self, gaps: Sequence[str]) -> None:
        super().__init__(
            "签约服务包选择有误：" + "；".join(gaps),
            errors=[FieldError(field="body.package_ids", message=g, code="invalid") for g in gaps],
            extra={"gaps": list(gaps)},
        )
