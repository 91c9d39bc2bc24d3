"""Errors of the practitioners domain."""

from __future__ import annotations

from libs.common.errors import Conflict, NotFound


class PractitionerNotFound(NotFound):
    default_code = "practitioner_not_found"

    def __init__(self) -> None:
        super().__init__("执业人员不存在")


class PractitionerAlreadyInState(Conflict):
    default_code = "practitioner_state_unchanged"
