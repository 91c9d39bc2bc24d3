"""Region and institution scope, on the server, for every role.

A principal sees records whose county-level ``region_code`` lies in its region (province ``35``, city
``3502`` less 平潭 for 福州, county ``350206``); an institution user sees only its institution's records.
Out-of-scope reads answer 404 (existence is not revealed); out-of-scope writes answer 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import and_, false, not_, or_
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from libs.common.auth import Principal, Role
from libs.common.errors import Forbidden, NotFound

#: a county-level region code column (nullable for a record's optional second region)
RegionColumn = InstrumentedAttribute[str] | InstrumentedAttribute[str | None]


def region_condition(scope_prefix: str, excluded: Iterable[str], column: RegionColumn) -> ColumnElement[bool]:
    upper = scope_prefix[:-1] + chr(ord(scope_prefix[-1]) + 1)
    condition = and_(column >= scope_prefix, column < upper)
    for code in excluded:
        condition = and_(condition, not_(column.startswith(code)))
    return condition


def regions_condition(
    scope_prefix: str, excluded: Iterable[str], columns: Sequence[RegionColumn]
) -> ColumnElement[bool]:
    """Any of ``columns`` lies in the region (a record that belongs to several counties)."""
    excluded = tuple(excluded)
    return or_(*(region_condition(scope_prefix, excluded, column) for column in columns))


def visible_condition(
    principal: Principal,
    region_column: RegionColumn | Sequence[RegionColumn],
    institution_columns: Iterable[InstrumentedAttribute[uuid.UUID]] | InstrumentedAttribute[uuid.UUID] = (),
) -> ColumnElement[bool]:
    """The SQL condition selecting what ``principal`` may read.

    ``region_column`` may name several columns: a record read in each of their regions (an agreement by
    the officials of either party's county).
    """
    regions = [region_column] if isinstance(region_column, InstrumentedAttribute) else list(region_column)
    if principal.role is Role.service:
        return regions_condition("35", (), regions)
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
    return regions_condition(scope.prefix, scope.excluded, regions)


def can_see(
    principal: Principal,
    *,
    region_code: str | None,
    institution_ids: Iterable[uuid.UUID | None] = (),
    other_region_codes: Iterable[str | None] = (),
) -> bool:
    """Whether ``principal`` may read a record of ``region_code`` (or of one of ``other_region_codes``,
    the further counties that read it) and ``institution_ids``."""
    if principal.role is Role.service:
        return True
    if principal.is_institution_user:
        return principal.institution_id is not None and principal.institution_id in set(institution_ids)
    return any(principal.scope.contains(code) for code in (region_code, *other_region_codes))


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
