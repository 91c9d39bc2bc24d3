from __future__ import annotations

import uuid

from libs.common.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable


class RecipientNotFound(NotFound):
    default_code = "recipient_not_found"

    def __init__(self) -> None:
        super().__init__("服务对象不存在")


class RecipientExists(Conflict):
    default_code = "recipient_exists"

    def __init__(self, recipient_id: uuid.UUID) -> None:
        super().__init__("本机构已登记该身份证号的服务对象", extra={"recipient_id": str(recipient_id)})


class BirthDateMismatch(Unprocessable):
    default_code = "birth_date_mismatch"

    def __init__(self) -> None:
        super().__init__(
            "出生日期与身份证号不一致",
            errors=[FieldError(field="body.birth_date", message="与身份证号不一致", code="mismatch")],
        )


class ServingInstitutionInvalid(Unprocessable):
    default_code = "serving_institution_invalid"

    def __init__(self) -> None:
        super().__init__(
            "服务机构须为已开通互联网+护理服务的机构",
            errors=[FieldError(field="body.institution_id", message="不是服务机构", code="not_provider")],
        )


class NotServingInstitution(Forbidden):
    default_code = "not_serving_institution"

    def __init__(self) -> None:
        super().__init__("只有服务该对象的机构可以签发核验码")


class IdentityHeldByResidents(Unprocessable):
    """Phone and address are the person's, held by the residents' person index (issue 19)."""

    default_code = "identity_held_by_residents"

    def __init__(self, fields: list[str], person_id: uuid.UUID | None) -> None:
        super().__init__(
            "联系电话与住址由居民主索引统一维护，请通过居民服务修改："
            "PATCH /api/v1/residents/persons/{person_id}",
            errors=[
                FieldError(field=f"body.{name}", message="请在居民服务中修改", code="held_by_residents")
                for name in fields
            ],
            extra={
                "person_id": str(person_id) if person_id is not None else None,
                "endpoint": "/api/v1/residents/persons/{person_id}",
            },
        )
