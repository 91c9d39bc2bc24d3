from __future__ import annotations

from collections.abc import Iterable

from libs.common.auth import Role
from libs.common.errors import Conflict, FieldError, Forbidden, NotFound, Unprocessable


class UserNotFound(NotFound):
    default_code = "user_not_found"

    def __init__(self) -> None:
        super().__init__("用户不存在")


class RoleNotGrantable(Forbidden):
    default_code = "role_not_grantable"

    def __init__(self, actor: Role, target: Role, grantable: Iterable[Role]) -> None:
        allowed = sorted(role.value for role in grantable)
        super().__init__(
            f"「{actor.label}」不能创建或管理「{target.label}」账号",
            extra={"role": target.value, "grantable_roles": allowed},
        )


class OutOfScope(Forbidden):
    default_code = "out_of_scope"

    def __init__(self, what: str) -> None:
        super().__init__(f"{what}不在您的管辖范围内")


class InvalidUserField(Unprocessable):
    """A field of the user that is wrong for its role (region level, institution, practitioner)."""

    def __init__(self, field: str, message: str, *, code: str) -> None:
        super().__init__(
            message, code=code, errors=[FieldError(field=f"body.{field}", message=message, code=code)]
        )


class UsernameTaken(Conflict):
    default_code = "username_taken"

    def __init__(self, username: str) -> None:
        super().__init__(f"用户名 {username} 已被使用", extra={"username": username})
