"""Errors of the practitioners domain."""

from __future__ import annotations

from libs.common.errors import Conflict, FieldError, NotFound


class PractitionerNotFound(NotFound):
    default_code = "practitioner_not_found"

    def __init__(self) -> None:
        super().__init__("执业人员不存在")


class PractitionerAlreadyInState(Conflict):
    default_code = "practitioner_state_unchanged"


class InstitutionInactive(Conflict):
    default_code = "institution_inactive"

    def __init__(self) -> None:
        super().__init__("机构已停用，不能新增执业人员")


class PractitionerInstitutionFixed(Conflict):
    """A practitioner stays with the institution it was recorded under (a move is a new record)."""

    default_code = "practitioner_institution_fixed"

    def __init__(self) -> None:
        super().__init__(
            "执业人员的所属机构不能更改（institution cannot change）",
            errors=[FieldError(field="body.institution_id", message="不能更改", code="fixed")],
        )
