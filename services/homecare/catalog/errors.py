from __future__ import annotations

from collections.abc import Sequence

from libs.common.errors import Conflict, FieldError, NotFound, Unprocessable


class CatalogVersionNotFound(NotFound):
    default_code = "catalog_version_not_found"

    def __init__(self) -> None:
        super().__init__("目录版本不存在")


class CatalogEmpty(NotFound):
    default_code = "catalog_not_published"

    def __init__(self) -> None:
        super().__init__("尚未发布护理服务项目目录")


class CatalogVersionExists(Conflict):
    default_code = "catalog_version_exists"

    def __init__(self, code: str) -> None:
        super().__init__(f"目录版本 {code} 已存在", extra={"code": code})


class CatalogFileInvalid(Unprocessable):
    default_code = "catalog_file_invalid"

    def __init__(self, detail: str, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(detail, errors=errors)


class CatalogItemUnknown(Unprocessable):
    default_code = "catalog_item_unknown"

    def __init__(self, codes: Sequence[str]) -> None:
        super().__init__(
            f"当前目录中没有这些项目：{', '.join(codes)}",
            errors=[FieldError(field="body.item_codes", message="目录中不存在的项目", code="unknown_item")],
            extra={"item_codes": list(codes)},
        )


class RecordTemplateNotFound(NotFound):
    default_code = "record_template_not_found"

    def __init__(self, detail: str = "没有该项目的服务记录模板（或该模板版本不存在）") -> None:
        super().__init__(detail)
