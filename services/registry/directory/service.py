"""The partner directory (issue 15): institutions an institution may sign a 医养签约 with, nearest first.

Who is whose partner (rules.md "医养签约 agreements": an agreement binds one medical institution to one
elderly-care institution; the contracts service takes a 医养结合机构 as the elderly-care party): a medical
institution looks for elderly-care and integrated institutions, an elderly-care or integrated one for
medical institutions. Only active institutions are listed.

Scope: an institution user sees the directory of the whole province (partners should be near each other,
and the nearest may lie across a county or city line; what is listed is public), officials see the
institutions of their region. Either may narrow it by name, kind and region.

Order: when the caller's institution has coordinates, by great-circle distance from it (the haversine
term ``a`` computed in SQL — ``sin``/``cos``/``radians`` exist in PostgreSQL and in SQLite ≥ 3.35 — is
monotonic in the distance, so the database sorts and pages by it exactly), then name and id; institutions
without coordinates come last. Otherwise by (region_code, name, id), as the institutions list. Both are
keyset pages with an opaque cursor.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import geo
from libs.common.auth import Principal
from libs.common.pagination import PageParams, decode_cursor, encode_cursor, paginate
from libs.common.scope import visible_condition
from services.registry.institutions import name_search
from services.registry.institutions.errors import InstitutionNotFound
from services.registry.institutions.kinds import InstitutionKind
from services.registry.institutions.models import Institution
from services.registry.institutions.service import LIST_ORDER, region_filter

#: the other side of a 医养签约 for each kind of institution
PARTNER_KINDS: dict[InstitutionKind, frozenset[InstitutionKind]] = {
    InstitutionKind.medical: frozenset({InstitutionKind.elderly_care, InstitutionKind.integrated}),
    InstitutionKind.elderly_care: frozenset({InstitutionKind.medical}),
    InstitutionKind.integrated: frozenset({InstitutionKind.medical}),
}
#: the sort key of an institution without coordinates: after every distance (``a`` ≤ 1)
_NO_POSITION = 2.0


@dataclass(frozen=True, slots=True)
class DirectoryFilter:
    q: str | None = None
    kinds: Sequence[InstitutionKind] = ()
    region_code: str | None = None


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    institution: Institution
    distance_km: float | None


def _haversine_term(latitude: float, longitude: float) -> ColumnElement[float]:
    """``a`` of the haversine formula between the point and each institution (0 ≤ a ≤ 1; the distance is
    2R·asin(√a)); the sort key, with :data:`_NO_POSITION` for an institution without coordinates."""
    half_dlat = func.sin(func.radians(Institution.latitude - latitude) / 2)
    half_dlon = func.sin(func.radians(Institution.longitude - longitude) / 2)
    a = (
        half_dlat * half_dlat
        + math.cos(math.radians(latitude))
        * func.cos(func.radians(Institution.latitude))
        * half_dlon
        * half_dlon
    )
    missing = or_(Institution.latitude.is_(None), Institution.longitude.is_(None))
    return case((missing, literal(_NO_POSITION, Float())), else_=a).label("distance_key")


async def _caller_institution(session: AsyncSession, principal: Principal) -> Institution | None:
    """The institution of an institution user (404 if the registry does not know it); ``None`` for
    officials."""
    if not principal.is_institution_user:
        return None
    institution = (
        await session.get(Institution, principal.institution_id) if principal.institution_id else None
    )
    if institution is None:
        raise InstitutionNotFound()
    return institution


def _conditions(
    principal: Principal, own: Institution | None, filters: DirectoryFilter
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Institution.active.is_(True)]
    kinds = set(filters.kinds) or set(InstitutionKind)
    if own is not None:
        kinds &= PARTNER_KINDS[own.kind]
        conditions.append(Institution.id != own.id)
    else:
        conditions.append(visible_condition(principal, Institution.region_code, Institution.id))
    conditions.append(Institution.kind.in_(sorted(kinds)) if kinds else literal(False))
    if filters.region_code:
        conditions.append(region_filter(filters.region_code))
    if filters.q:
        conditions.append(name_search.name_condition(filters.q))
    return conditions


async def list_(
    session: AsyncSession, principal: Principal, *, params: PageParams, filters: DirectoryFilter
) -> tuple[list[DirectoryEntry], str | None, bool]:
    """One page of the directory, its next cursor and whether it is ordered by distance."""
    own = await _caller_institution(session, principal)
    conditions = _conditions(principal, own, filters)
    if own is None or own.latitude is None or own.longitude is None:
        rows, next_cursor = await paginate(
            session, select(Institution).where(*conditions), order_by=list(LIST_ORDER), params=params
        )
        return [DirectoryEntry(row, None) for row in rows], next_cursor, False
    origin = (own.latitude, own.longitude)
    key = _haversine_term(*origin)
    stmt = select(Institution, key).where(*conditions)
    if params.cursor:
        # the cursor's first value is a float as a latitude is: checked as one
        after_key, after_name, after_id = decode_cursor(
            params.cursor, (Institution.latitude, Institution.name, Institution.id)
        )
        stmt = stmt.where(_after(key, after_key, after_name, after_id))
    stmt = stmt.order_by(key, Institution.name, Institution.id).limit(params.limit + 1)
    found: list[Any] = list((await session.execute(stmt)).all())
    next_cursor = None
    if len(found) > params.limit:
        found = found[: params.limit]
        last, last_key = found[-1]
        next_cursor = encode_cursor([last_key, last.name, last.id])
    entries = [DirectoryEntry(row, _distance_km(origin, row)) for row, _key in found]
    return entries, next_cursor, True


def _after(
    key: ColumnElement[float], after_key: float, after_name: str, after_id: uuid.UUID
) -> ColumnElement[bool]:
    """(key, name, id) > (after_key, after_name, after_id), spelled out for every backend."""
    return or_(
        key > after_key,
        and_(key == after_key, Institution.name > after_name),
        and_(key == after_key, Institution.name == after_name, Institution.id > after_id),
    )


def _distance_km(origin: tuple[float, float], institution: Institution) -> float | None:
    if institution.latitude is None or institution.longitude is None:
        return None
    return round(geo.distance_km(*origin, institution.latitude, institution.longitude), 3)
