from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from libs.common.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable


class OrderNotFound(NotFound):
    default_code = "order_not_found"

    def __init__(self) -> None:
        super().__init__("订单不存在")


class NotOrderProvider(Forbidden):
    default_code = "not_order_provider"

    def __init__(self) -> None:
        super().__init__("只有承接该订单的机构可以执行此操作")


class NotAssignedNurse(Forbidden):
    default_code = "not_assigned_nurse"

    def __init__(self) -> None:
        super().__init__("只有被派单的护士可以执行此操作")


class DoctorAssessmentRequired(Forbidden):
    default_code = "doctor_assessment_required"

    def __init__(self) -> None:
        super().__init__("订单含高风险或需医嘱的项目，须由本机构医师评估")


class NotOrderParty(Forbidden):
    default_code = "not_order_party"

    def __init__(self) -> None:
        super().__init__("只有订单的服务机构或下单方可以取消该订单")


class CancelNotAllowed(Forbidden):
    default_code = "cancel_not_allowed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)


class ReasonRequired(Unprocessable):
    default_code = "reason_required"

    def __init__(self, detail: str = "须填写原因") -> None:
        super().__init__(detail, errors=[FieldError(field="body.reason", message="必填", code="missing")])


class ServiceGroupMismatch(Unprocessable):
    default_code = "service_group_mismatch"

    def __init__(self, detail: str) -> None:
        super().__init__(
            detail, errors=[FieldError(field="body.service_group", message=detail, code="mismatch")]
        )


class NurseNotEligible(Unprocessable):
    default_code = "nurse_not_eligible"

    def __init__(self, detail: str) -> None:
        super().__init__(
            detail,
            errors=[FieldError(field="body.nurse_practitioner_id", message=detail, code="not_eligible")],
        )


class NurseNotQualified(Unprocessable):
    default_code = "nurse_not_qualified"

    def __init__(self, item_codes: Sequence[str], detail: str) -> None:
        super().__init__(
            detail,
            errors=[FieldError(field="body.nurse_practitioner_id", message=detail, code="not_qualified")],
            extra={"item_codes": list(item_codes)},
        )


class NurseDoubleBooked(Conflict):
    default_code = "nurse_double_booked"

    def __init__(self, conflicting_order_id: uuid.UUID) -> None:
        super().__init__(
            "该护士在此时段已有其他订单", extra={"conflicting_order_id": str(conflicting_order_id)}
        )


class VisitRecordMissing(Conflict):
    default_code = "visit_record_missing"

    def __init__(self) -> None:
        super().__init__("完成订单前须提交服务记录")


class NotEligibleForItems(Unprocessable):
    default_code = "order_invalid"

    def __init__(self, detail: str, field: str) -> None:
        super().__init__(detail, errors=[FieldError(field=field, message=detail, code="invalid")])


class StaleClientEvent(Conflict):
    default_code = "stale_client_event"

    def __init__(self, detail: str, current: dict[str, Any]) -> None:
        super().__init__(detail, extra={"current": current})


class ClientEventReused(Conflict):
    default_code = "client_event_id_reused"

    def __init__(self) -> None:
        super().__init__("client_event_id 已用于另一操作")


class ClientTimeInFuture(Unprocessable):
    default_code = "client_time_in_future"

    def __init__(self) -> None:
        super().__init__(
            "客户端时间晚于服务器时间过多，请校准手机时间",
            errors=[FieldError(field="body.client_at", message="时间在未来", code="in_future")],
        )


class RaterInvalid(Unprocessable):
    default_code = "rater_invalid"

    def __init__(self) -> None:
        super().__init__(
            "机构代为评价时，评价人须为服务对象或家属",
            errors=[FieldError(field="body.rated_by", message="须为 recipient 或 family", code="invalid")],
        )


class HomeBedNotOpen(Unprocessable):
    default_code = "home_bed_not_open"

    def __init__(self, day: date) -> None:
        super().__init__(
            f"家庭病床在 {day.isoformat()} 未处于建床期",
            errors=[FieldError(field="body.home_bed_id", message="当日未建床或已撤床", code="not_open")],
            extra={"date": day.isoformat()},
        )


class IdentitySuffixInvalid(Unprocessable):
    default_code = "identity_suffix_invalid"

    def __init__(self, length: int) -> None:
        super().__init__(
            f"身份核验只接受身份证号的后 {length} 位",
            errors=[FieldError(field="body.identity.value", message=f"须为 {length} 位", code="length")],
            extra={"length": length},
        )
