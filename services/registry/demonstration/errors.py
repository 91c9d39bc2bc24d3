"""Errors of 示范创建, each with a stable code."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from libs.common.errors import Conflict, DomainError, Forbidden, NotFound, Unprocessable


class BatchNotFound(NotFound):
    default_code = "demonstration_batch_not_found"

    def __init__(self) -> None:
        super().__init__("示范创建批次不存在")


class ApplicationNotFound(NotFound):
    default_code = "demonstration_application_not_found"

    def __init__(self) -> None:
        super().__init__("示范申报不存在")


class AttachmentNotFound(NotFound):
    default_code = "demonstration_attachment_not_found"

    def __init__(self) -> None:
        super().__init__("附件不存在")


class BatchNameTaken(Conflict):
    default_code = "demonstration_batch_name_taken"


class BatchRulesFrozen(Conflict):
    default_code = "demonstration_batch_rules_frozen"


class AlreadyApplied(Conflict):
    default_code = "demonstration_already_applied"


class InstitutionNotEligible(Conflict):
    default_code = "demonstration_institution_not_eligible"


class RevokedRecently(Conflict):
    """动态管理: the applicant's title was revoked less than the barred years ago."""

    default_code = "demonstration_revoked_recently"

    def __init__(self, detail: str, *, application_id: str, revoked_date: date, allowed_from: date) -> None:
        super().__init__(
            detail,
            extra={
                "revoked_application_id": application_id,
                "revoked_date": revoked_date.isoformat(),
                "allowed_from": allowed_from.isoformat(),
            },
        )


class ApplicationLocked(Conflict):
    """The application has been passed up: a lower level can no longer change it."""

    default_code = "demonstration_application_locked"

    def __init__(self, detail: str, *, holder: dict[str, Any], state: str) -> None:
        super().__init__(detail, extra={"holder": holder, "state": state})


class CityRecommendationTaken(Conflict):
    default_code = "demonstration_city_recommendation_taken"


class QuotaExhausted(Conflict):
    default_code = "demonstration_quota_exhausted"


class StageClosed(Conflict):
    """Outside the batch's stage window (deadline passed, or the stage has not opened yet)."""

    default_code = "demonstration_deadline_passed"

    def __init__(self, detail: str, *, code: str, stage: str, start: date, end: date, today: date) -> None:
        super().__init__(
            detail,
            code=code,
            extra={
                "stage": stage,
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "today": today.isoformat(),
            },
        )


class NotApplicant(Forbidden):
    default_code = "demonstration_not_applicant"


class WrongApplicantRole(Forbidden):
    default_code = "demonstration_wrong_applicant_role"


class CriteriaNotMet(Unprocessable):
    default_code = "demonstration_criteria_not_met"


class ReviewIncomplete(Unprocessable):
    default_code = "demonstration_review_incomplete"


class AttachmentRejected(Unprocessable):
    default_code = "demonstration_attachment_type_rejected"


class AttachmentTooLarge(DomainError):
    status: ClassVar[int] = 413
    title: ClassVar[str] = "Content Too Large"
    default_code: ClassVar[str] = "demonstration_attachment_too_large"
