"""Region and institution scope, on the server, for every role.

A principal sees records whose county-level ``region_code`` lies in its region (province ``35``, city
``3502`` less 平潭 for 福州, county ``350206``); an institution user sees only its institution's records.
Out-of-scope reads answer 404 (existence is not revealed); out-of-scope writes answer 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import and_, false, not_, or_
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from libs.common.auth import Principal, Role
from libs.common.errors import Forbidden, NotFound


def region_condition(
    scope_prefix: str, excluded: Iterable[str], column: InstrumentedAttribute[str]
) -> ColumnElement[bool]:
    upper = scope_prefix[:-1] + chr(ord(scope_prefix[-1]) + 1)
    condition = and_(column >= scope_prefix, column < upper)
    for code in excluded:
        condition = and_(condition, not_(column.startswith(code)))
    return condition


def visible_condition(
    principal: Principal,
    region_column: InstrumentedAttribute[str],
    institution_columns: Iterable[InstrumentedAttribute[uuid.UUID]] | InstrumentedAttribute[uuid.UUID] = (),
) -> ColumnElement[bool]:
    """The SQL condition selecting what ``principal`` may read."""
    if principal.role is Role.service:
        return region_condition("35", (), region_column)
    if principal.is_institution_user:
        columns = (
            [institution_columns]
            if isinstance(institution_columns, InstrumentedAttribute)
            else list(institution_columns)
        )
        if principal.institution_id is None or not columns:
            return false()
        return or_(*(col == principal.institution_id for col in columns))
    scope = principal.scope
    return region_condition(scope.prefix, scope.excluded, region_column)


def can_see(
    principal: Principal, *, region_code: str | None, institution_ids: Iterable[uuid.UUID | None] = ()
) -> bool:
    if principal.role is Role.service:
        return True
    if principal.is_institution_user:
        return principal.institution_id is not None and principal.institution_id in set(institution_ids)
    return principal.scope.contains(region_code)


def ensure_visible(
    principal: Principal,
    *,
    region_code: str | None,
    institution_ids: Iterable[uuid.UUID | None] = (),
    what: str = "记录",
) -> None:
    if not can_see(principal, region_code=region_code, institution_ids=institution_ids):
        raise NotFound(f"{what}不存在", code="not_found")


def ensure_in_scope_for_write(
    principal: Principal,
    *,
    region_code: str | None,
    institution_ids: Iterable[uuid.UUID | None] = (),
    what: str = "记录",
) -> None:
    if not can_see(principal, region_code=region_code, institution_ids=institution_ids):
        raise Forbidden(f"{what}不在您的管辖范围内", code="out_of_scope")
