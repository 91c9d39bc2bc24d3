"""The errors of 家庭医生签约 contracts, each with its stable code."""

from __future__ import annotations

from datetime import date

from libs.common.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable


class SigningNotFound(NotFound):
    default_code = "signing_not_found"

    def __init__(self) -> None:
        super().__init__("签约记录不存在")


class ActiveSigningExists(Conflict):
    """The person already has a contract (in force or awaiting renewal): one team at a time."""

    default_code = "active_signing_exists"

    def __init__(self) -> None:
        super().__init__("该居民已有履约中的家庭医生签约（同一时间只能与一个团队签约；可续签或转签）")


class NoSigningInForce(Conflict):
    default_code = "no_signing_in_force"

    def __init__(self) -> None:
        super().__init__("该居民没有履约中的家庭医生签约，不能转签：请直接签约")


class SameTeam(Conflict):
    default_code = "transfer_to_same_team"

    def __init__(self) -> None:
        super().__init__(
            "转签的团队与现签约团队相同",
            errors=[FieldError(field="body.team_id", message="与现团队相同", code="same_team")],
        )


class RenewalNotOpen(Unprocessable):
    default_code = "renewal_not_open"

    def __init__(self, opens: date) -> None:
        super().__init__(
            f"尚未到续签期：自 {opens.isoformat()} 起可续签", extra={"renewal_opens_on": opens.isoformat()}
        )


class SigningLapsed(Conflict):
    default_code = "signing_expired"

    def __init__(self, end: date) -> None:
        super().__init__(
            f"签约已于 {end.isoformat()} 到期，不能续签或转签：请重新签约",
            extra={"end_date": end.isoformat()},
        )


class StartDateInvalid(Unprocessable):
    default_code = "start_date_invalid"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors=[FieldError(field="body.start_date", message=detail, code="invalid")])


class EndedDateInvalid(Unprocessable):
    default_code = "ended_date_invalid"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors=[FieldError(field="body.ended_date", message=detail, code="invalid")])


class NotTeamInstitution(Forbidden):
    default_code = "not_team_institution"

    def __init__(self) -> None:
        super().__init__("签约、续签、转签和解约由签约团队所在机构的用户办理")


class PeriodInFuture(Unprocessable):
    default_code = "period_in_future"

    def __init__(self) -> None:
        super().__init__(
            "统计年度不能晚于今年",
            errors=[FieldError(field="query.year", message="不能晚于今年", code="future")],
        )
