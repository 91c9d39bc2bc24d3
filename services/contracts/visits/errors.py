from __future__ import annotations

from libs.common.errors import FieldError, Forbidden, Unprocessable


class NotMedicalParty(Forbidden):
    default_code = "not_medical_party"

    def __init__(self) -> None:
        super().__init__("巡诊记录只能由协议的医疗机构一方填报")


class VisitOutsideTerm(Unprocessable):
    default_code = "visit_outside_term"

    def __init__(self) -> None:
        super().__init__(
            "巡诊日期须在协议有效期内，且不晚于今天",
            errors=[
                FieldError(field="body.visit_date", message="不在协议有效期内", code="visit_outside_term")
            ],
        )


class ServiceNotAgreed(Unprocessable):
    default_code = "service_not_agreed"


class PeriodInvalid(Unprocessable):
    default_code = "period_invalid"
