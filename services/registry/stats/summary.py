"""The registry statistics' summary: one row per (county, kind, category) of active institutions, with
their count, the 医养结合 count and beds, and each bed field's sum (``institution_stats_cell``).

``GET /stats`` for a region's officials adds up these cells (at most 84 counties × 3 kinds × 12
categories) instead of aggregating every active institution of the scope on each request: the same
answer, read from a few hundred rows whatever the registry's size (issue 16: at 30,000 institutions the
aggregate read 1,574 pages).

The cells follow every write path (form, import, bulk upsert, seed) through the change feed's commit hook,
as the name grams do: the counties of the transaction's institution entries (a moved institution's entries
name its old county and its new one) are counted again from the institution table, in the same
transaction. On PostgreSQL the recount holds a transaction-level advisory lock so that two writers of the
same county count one after the other (each then sees what the other committed). A bulk load that writes
the table without the ORM (``bench.generate``) calls :func:`rebuild`'s SQL itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Delete, Insert, Integer, String, and_, case, delete, func, insert, or_, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from libs.common import changes
from services.registry.base import Base
from services.registry.institutions.kinds import InstitutionKind
from services.registry.institutions.models import Institution
from services.registry.institutions.schemas import BED_FIELDS

#: held to the end of the transaction while a writer recounts counties (PostgreSQL)
_LOCK_SQL = "SELECT pg_advisory_xact_lock(7352, hashtext('registry.institution_stats_cell'))"


class InstitutionStatsCell(Base):
    __tablename__ = "institution_stats_cell"

    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    institutions: Mapped[int] = mapped_column(Integer)
    integrated_institutions: Mapped[int] = mapped_column(Integer)
    integrated_institution_beds: Mapped[int] = mapped_column(Integer)
    beds_elderly_care: Mapped[int] = mapped_column(Integer)
    beds_medical: Mapped[int] = mapped_column(Integer)
    beds_integrated: Mapped[int] = mapped_column(Integer)
    beds_rehabilitation: Mapped[int] = mapped_column(Integer)
    beds_nursing: Mapped[int] = mapped_column(Integer)
    beds_hospice: Mapped[int] = mapped_column(Integer)


def integrated() -> ColumnElement[bool]:
    """医养结合 as the province reports it (indicators.md ``integrated_institutions``): kind integrated, an
    elderly-care institution with an accepted 内设医疗机构 filing (``has_medical_unit``), or a medical
    institution with registered elderly-care beds (两证齐全)."""
    return or_(
        Institution.kind == InstitutionKind.integrated,
        and_(Institution.kind == InstitutionKind.elderly_care, Institution.has_medical_unit.is_(True)),
        and_(Institution.kind == InstitutionKind.medical, Institution.beds_elderly_care > 0),
    )


def cells_of(*conditions: ColumnElement[bool]) -> Select[Any]:
    """The cells of the active institutions meeting ``conditions``, in the summary's column order."""
    is_integrated = integrated()
    return (
        select(
            Institution.region_code,
            Institution.kind,
            Institution.category,
            func.count(Institution.id),
            func.coalesce(func.sum(case((is_integrated, 1), else_=0)), 0),
            func.coalesce(
                func.sum(
                    case((is_integrated, Institution.beds_medical + Institution.beds_elderly_care), else_=0)
                ),
                0,
            ),
            *[func.coalesce(func.sum(getattr(Institution, name)), 0) for name in BED_FIELDS],
        )
        .where(Institution.active.is_(True), *conditions)
        .group_by(Institution.region_code, Institution.kind, Institution.category)
    )


_COLUMNS = [
    "region_code",
    "kind",
    "category",
    "institutions",
    "integrated_institutions",
    "integrated_institution_beds",
    *BED_FIELDS,
]


async def recount(session: AsyncSession, region_codes: Iterable[str]) -> None:
    """Count the cells of ``region_codes`` again from the institution table (within the transaction)."""
    codes = sorted(set(region_codes))
    if not codes:
        return
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text(_LOCK_SQL))
    cell = InstitutionStatsCell
    await session.execute(delete(cell).where(cell.region_code.in_(codes)))
    await session.execute(insert(cell).from_select(_COLUMNS, cells_of(Institution.region_code.in_(codes))))


def _rebuild() -> list[Delete | Insert]:
    return [delete(InstitutionStatsCell), insert(InstitutionStatsCell).from_select(_COLUMNS, cells_of())]


async def rebuild(session: AsyncSession) -> None:
    """Every cell counted again from the institution table."""
    for statement in _rebuild():
        await session.execute(statement)


def rebuild_sql() -> list[str]:
    """:func:`rebuild` as PostgreSQL statements, for a writer without the ORM (``bench.generate``; run with
    the registry's schema first on the ``search_path``)."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    return [str(s.compile(dialect=dialect, compile_kwargs={"literal_binds": True})) for s in _rebuild()]


async def refresh(session: AsyncSession, entries: list[dict[str, Any]]) -> None:
    """The feed's commit hook: recount the counties the transaction's institution entries name."""
    await recount(
        session,
        (
            code
            for entry in entries
            for code in (entry.get("region_code"), entry.get("other_region_code"))
            if code
        ),
    )


changes.on_commit("institution", refresh)
