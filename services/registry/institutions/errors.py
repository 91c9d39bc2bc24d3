from __future__ import annotations

from libs.common.errors import NotFound


class InstitutionNotFound(NotFound):
    default_code = "institution_not_found"

    def __init__(self) -> None:
        super().__init__("机构不存在")
