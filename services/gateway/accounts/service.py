"""Users: the service layer (flushes, never commits)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal, Role
from libs.common.concurrency import check_if_match
from libs.common.errors import IllegalTransition, Unprocessable
from libs.common.pagination import PageParams, paginate
from libs.common.scope import can_see, visible_condition
from services.gateway import passwords
from services.gateway.accounts import grants
from services.gateway.accounts.errors import InvalidUserField, OutOfScope, UsernameTaken, UserNotFound
from services.gateway.accounts.models import User
from services.gateway.accounts.schemas import UserCreate, UserUpdate
from services.gateway.clients.registry import PractitionerSnapshot, RegistryClient
from services.gateway.tokens.service import revoke_user_sessions

_AUDITED = ("username", "display_name", "role", "region_code", "institution_id", "practitioner_id", "active")


def _snapshot(user: User) -> dict[str, Any]:
    return {name: getattr(user, name) for name in _AUDITED}


def _ensure_strong(password: str, *, username: str, min_length: int) -> None:
    reason = passwords.weakness(password, username=username, min_length=min_length)
    if reason is not None:
        raise InvalidUserField("password", reason, code="weak_password")


async def _placement(
    principal: Principal, data: UserCreate, registry: RegistryClient
) -> tuple[str, uuid.UUID | None]:
    """Where the new user belongs (region, institution), checked against the creator's scope."""
    role = Role(data.role)
    if role in (Role.city_admin, Role.county_admin):
        if data.institution_id is not None:
            raise InvalidUserField("institution_id", "行政管理员不属于机构", code="institution_not_allowed")
        region_code = grants.ensure_region_level(role, data.region_code)
        grants.ensure_region_in_scope(principal, region_code)
        return region_code, None
    if role is Role.institution_admin:
        if data.institution_id is None:
            raise InvalidUserField(
                "institution_id", "机构管理员必须指定所属机构", code="institution_required"
            )
        institution = await registry.get_institution(data.institution_id)
        if institution is None:
            raise InvalidUserField("institution_id", "机构不存在", code="institution_not_found")
        if not institution.active:
            raise InvalidUserField("institution_id", "机构已停用", code="institution_inactive")
        if data.region_code is not None and data.region_code != institution.region_code:
            raise InvalidUserField(
                "region_code", f"机构所在行政区划为 {institution.region_code}", code="region_mismatch"
            )
        if not principal.scope.contains(institution.region_code):
            raise OutOfScope("该机构")
        return institution.region_code, institution.id
    # institution_staff: always of the creating institution admin's institution.
    if data.institution_id is not None and data.institution_id != principal.institution_id:
        raise OutOfScope("该机构")
    if data.region_code is not None and data.region_code != principal.region_code:
        raise InvalidUserField(
            "region_code", f"机构所在行政区划为 {principal.region_code}", code="region_mismatch"
        )
    return principal.region_code, principal.institution_id


async def checked_practitioner(
    registry: RegistryClient, practitioner_id: uuid.UUID | None
) -> PractitionerSnapshot | None:
    """Ask the registry for the practitioner a staff account is to be linked to (before any write);
    it must exist. Whose it is is checked against the account's institution by :func:`ensure_practitioner_of`.
    """
    if practitioner_id is None:
        return None
    practitioner = await registry.get_practitioner(practitioner_id)
    if practitioner is None:
        raise InvalidUserField("practitioner_id", "执业人员不存在", code="practitioner_not_found")
    return practitioner


def ensure_practitioner_of(
    practitioner: PractitionerSnapshot | None, institution_id: uuid.UUID | None
) -> None:
    if practitioner is not None and practitioner.institution_id != institution_id:
        raise InvalidUserField(
            "practitioner_id", "执业人员不属于该账号所在机构", code="practitioner_of_other_institution"
        )


async def create(
    session: AsyncSession,
    principal: Principal,
    data: UserCreate,
    *,
    registry: RegistryClient,
    password_min_length: int,
) -> User:
    role = Role(data.role)
    grants.ensure_grantable(principal, role)
    if data.practitioner_id is not None and role is not Role.institution_staff:
        raise InvalidUserField(
            "practitioner_id", "只有机构医护人员可关联执业人员", code="practitioner_not_allowed"
        )
    _ensure_strong(data.password, username=data.username, min_length=password_min_length)
    practitioner = await checked_practitioner(registry, data.practitioner_id)
    if await session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise UsernameTaken(data.username)
    region_code, institution_id = await _placement(principal, data, registry)
    ensure_practitioner_of(practitioner, institution_id)
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=await passwords.hash_(data.password),
        role=role.value,
        region_code=region_code,
        institution_id=institution_id,
        practitioner_id=data.practitioner_id,
        active=True,
        created_by=principal.sub,
    )
    session.add(user)
    await session.flush()
    audit.record(
        session,
        principal,
        action="user.create",
        entity_type="user",
        entity_id=user.id,
        changes=_snapshot(user),
    )
    return user


async def get(session: AsyncSession, principal: Principal, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None or not can_see(
        principal, region_code=user.region_code, institution_ids=[user.institution_id]
    ):
        raise UserNotFound()
    return user


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    role: Role | None = None,
    region_code: str | None = None,
    institution_id: uuid.UUID | None = None,
    active: bool | None = None,
) -> tuple[list[User], str | None]:
    stmt = select(User).where(visible_condition(principal, User.region_code, User.institution_id))
    if role is not None:
        stmt = stmt.where(User.role == role.value)
    if region_code is not None:
        stmt = stmt.where(User.region_code == region_code)
    if institution_id is not None:
        stmt = stmt.where(User.institution_id == institution_id)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    return await paginate(session, stmt, order_by=[User.username], params=params)


async def update(
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID,
    data: UserUpdate,
    *,
    registry: RegistryClient,
    if_match: str | None,
    password_min_length: int,
) -> User:
    # the registry is asked before the session is used, so no transaction waits on it
    practitioner = await checked_practitioner(registry, data.practitioner_id)
    user = await get(session, principal, user_id)
    grants.ensure_manages(principal, user)
    check_if_match(if_match, user.version)
    fields = data.model_dump(exclude_unset=True)
    if not fields:
        raise Unprocessable("没有要修改的字段", code="empty_update")
    before = _snapshot(user)
    if "display_name" in fields:
        if data.display_name is None:
            raise InvalidUserField("display_name", "姓名不能为空", code="required")
        user.display_name = data.display_name
    if "practitioner_id" in fields:
        if user.role != Role.institution_staff.value:
            raise InvalidUserField(
                "practitioner_id", "只有机构医护人员可关联执业人员", code="practitioner_not_allowed"
            )
        ensure_practitioner_of(practitioner, user.institution_id)
        user.practitioner_id = data.practitioner_id
    changes = audit.diff(before, _snapshot(user))
    if data.password is not None:
        _ensure_strong(data.password, username=user.username, min_length=password_min_length)
        user.password_hash = await passwords.hash_(data.password)
        await revoke_user_sessions(session, user.id)
        changes["password"] = ["***", "***"]
    await session.flush()
    audit.record(
        session,
        principal,
        action="user.update",
        entity_type="user",
        entity_id=user.id,
        changes=changes,
        personal_fields=("password",),
    )
    return user


async def set_active(
    session: AsyncSession, principal: Principal, user_id: uuid.UUID, *, active: bool, if_match: str | None
) -> User:
    user = await get(session, principal, user_id)
    grants.ensure_manages(principal, user)
    check_if_match(if_match, user.version)
    action = "reactivate" if active else "deactivate"
    if user.active is active:
        state = "active" if user.active else "inactive"
        raise IllegalTransition(
            entity="用户", state=state, action=action, allowed=["deactivate" if active else "reactivate"]
        )
    user.active = active
    if not active:
        await revoke_user_sessions(session, user.id)
    await session.flush()
    audit.record(
        session,
        principal,
        action=f"user.{action}",
        entity_type="user",
        entity_id=user.id,
        changes={"active": [not active, active]},
    )
    return user
