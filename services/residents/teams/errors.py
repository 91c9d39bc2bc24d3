"""The errors of 家庭医生团队, each with its stable code."""

from __future__ import annotations

from libs.common.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable


def _field(name: str, message: str, code: str) -> list[FieldError]:
    return [FieldError(field=f"body.{name}", message=message, code=code)]


class TeamNotFound(NotFound):
    default_code = "team_not_found"

    def __init__(self) -> None:
        super().__init__("家庭医生团队不存在")


class MemberNotFound(NotFound):
    default_code = "team_member_not_found"

    def __init__(self) -> None:
        super().__init__("该医务人员不是本团队成员")


class InstitutionUserRequired(Forbidden):
    default_code = "institution_user_required"

    def __init__(self) -> None:
        super().__init__("家庭医生团队由所在基层医疗卫生机构的用户管理")


class InstitutionNotPrimaryCare(Unprocessable):
    default_code = "not_primary_care_institution"

    def __init__(self) -> None:
        super().__init__(
            "家庭医生团队须设在基层医疗卫生机构（社区卫生服务中心/站、乡镇卫生院、村卫生室），"
            "且机构须在册有效"
        )


class PractitionerNotEligible(Unprocessable):
    """A member the registry does not confirm: unknown, inactive, of another institution, or of a kind
    that cannot hold the role."""

    def __init__(self, field: str, detail: str, code: str) -> None:
        super().__init__(detail, code=code, errors=_field(field, detail, code))


def practitioner_not_found(field: str) -> PractitionerNotEligible:
    return PractitionerNotEligible(field, "机构注册服务中没有该医务人员", "practitioner_not_found")


def practitioner_inactive(field: str) -> PractitionerNotEligible:
    return PractitionerNotEligible(field, "该医务人员已不在岗（注册信息为停用）", "practitioner_inactive")


def practitioner_of_other_institution(field: str) -> PractitionerNotEligible:
    return PractitionerNotEligible(field, "该医务人员不属于本团队所在机构", "practitioner_not_of_institution")


def role_not_qualified(field: str, role_label: str, kind_label: str) -> PractitionerNotEligible:
    return PractitionerNotEligible(field, f"{kind_label}不能担任团队的{role_label}", "role_not_qualified")


class TeamNeedsGeneralPractitioner(Unprocessable):
    default_code = "team_needs_general_practitioner"

    def __init__(self) -> None:
        super().__init__(
            "家庭医生团队须至少有一名全科医生（三师两员：全科医生、专科医生、乡村医生、健康管理员、人口管理员）",
            errors=_field("members", "须至少有一名全科医生", "general_practitioner_required"),
        )


class LeaderNotGeneralPractitioner(Unprocessable):
    default_code = "leader_not_general_practitioner"

    def __init__(self) -> None:
        super().__init__(
            "团队长须为本团队的全科医生",
            errors=_field("leader_practitioner_id", "须为本团队的全科医生", "not_general_practitioner"),
        )


class DuplicateMember(Unprocessable):
    default_code = "duplicate_member"

    def __init__(self) -> None:
        super().__init__(
            "同一医务人员在一个团队中只能担任一个角色",
            errors=_field("members", "医务人员重复", "duplicate"),
        )


class MemberExists(Conflict):
    default_code = "team_member_exists"

    def __init__(self) -> None:
        super().__init__("该医务人员已是本团队成员")


class LeaderCannotLeave(Conflict):
    default_code = "leader_cannot_leave"

    def __init__(self) -> None:
        super().__init__("团队长不能移出团队：请先指定另一名全科医生为团队长")


class TeamNameExists(Conflict):
    default_code = "team_name_exists"

    def __init__(self) -> None:
        super().__init__("本机构已有同名的家庭医生团队", errors=_field("name", "已被使用", "duplicate"))


class TeamInactive(Conflict):
    default_code = "team_inactive"

    def __init__(self) -> None:
        super().__init__("该家庭医生团队已停用，不能签约")


class TeamHasSignings(Conflict):
    default_code = "team_has_signings"

    def __init__(self, count: int) -> None:
        super().__init__(
            f"团队尚有 {count} 份履约中的签约，须先转签或解约后才能停用", extra={"active_signings": count}
        )
