"""The catalog: published versions (the highest ``sequence`` is current) and their items."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from libs.common import audit
from libs.common.auth import Principal
from services.homecare.catalog.errors import CatalogEmpty, CatalogVersionExists, CatalogVersionNotFound
from services.homecare.catalog.models import CatalogItem, CatalogVersion
from services.homecare.catalog.schemas import CatalogItemImport


async def current_version(session: AsyncSession, *, with_items: bool = False) -> CatalogVersion:
    stmt = select(CatalogVersion).order_by(CatalogVersion.sequence.desc()).limit(1)
    if with_items:
        stmt = stmt.options(selectinload(CatalogVersion.items))
    version = await session.scalar(stmt)
    if version is None:
        raise CatalogEmpty()
    return version


async def get_version(session: AsyncSession, code: str) -> CatalogVersion:
    version = await session.scalar(
        select(CatalogVersion).where(CatalogVersion.code == code).options(selectinload(CatalogVersion.items))
    )
    if version is None:
        raise CatalogVersionNotFound()
    return version


async def list_versions(session: AsyncSession) -> Sequence[CatalogVersion]:
    return (await session.scalars(select(CatalogVersion).order_by(CatalogVersion.sequence.desc()))).all()


async def items_of_current(session: AsyncSession, codes: Collection[str]) -> dict[str, CatalogItem]:
    version = await current_version(session)
    rows = await session.scalars(
        select(CatalogItem).where(
            CatalogItem.catalog_version_id == version.id, CatalogItem.code.in_(list(codes))
        )
    )
    return {item.code: item for item in rows}


async def publish(
    session: AsyncSession,
    principal: Principal,
    *,
    code: str,
    source: str,
    note: str | None,
    items: Sequence[CatalogItemImport],
) -> CatalogVersion:
    """A new current version with all ``items``; nothing else changes (orders keep their snapshots)."""
    if await session.scalar(select(CatalogVersion.id).where(CatalogVersion.code == code)) is not None:
        raise CatalogVersionExists(code)
    last = await session.scalar(select(func.max(CatalogVersion.sequence)))
    version = CatalogVersion(
        code=code,
        sequence=(last or 0) + 1,
        source=source,
        note=note,
        published_by=principal.sub,
        item_count=len(items),
    )
    session.add(version)
    await session.flush()
    session.add_all(CatalogItem(catalog_version_id=version.id, **item.model_dump()) for item in items)
    await session.flush()
    audit.record(
        session,
        principal,
        action="catalog.publish",
        entity_type="catalog_version",
        entity_id=version.id,
        changes={"code": code, "source": source, "item_count": len(items)},
    )
    return version
