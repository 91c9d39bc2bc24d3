"""Provider settings: who is a provider (asked of the registry), its 上门服务费, its items and prices."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal, Role
from libs.common.concurrency import check_if_match
from libs.common.pagination import PageParams, paginate
from libs.common.scope import can_see, visible_condition
from services.homecare.catalog import service as catalog
from services.homecare.catalog.errors import CatalogItemUnknown
from services.homecare.catalog.models import CatalogItem
from services.homecare.clients.registry import InstitutionInfo, RegistryClient
from services.homecare.providers.errors import (
    ItemNotOffered,
    NotAProvider,
    NotOwnInstitution,
    PriceOutsideGuidance,
    ProviderNotFound,
    VisitFeeAboveCeiling,
)
from services.homecare.providers.models import Provider, ProviderItem
from services.homecare.providers.schemas import ProviderItemRead, ProviderItemUpdate, ProviderUpdate
from services.homecare.settings import HomecareSettings

PROVIDER_KINDS = frozenset({"medical", "integrated"})


async def find(session: AsyncSession, institution_id: uuid.UUID) -> Provider | None:
    return await session.scalar(select(Provider).where(Provider.institution_id == institution_id))


async def get(session: AsyncSession, principal: Principal, institution_id: uuid.UUID) -> Provider:
    provider = await find(session, institution_id)
    if provider is None or not can_see(
        principal, region_code=provider.region_code, institution_ids=[provider.institution_id]
    ):
        raise ProviderNotFound()
    return provider


async def list_(
    session: AsyncSession, principal: Principal, *, params: PageParams
) -> tuple[list[Provider], str | None]:
    stmt = select(Provider).where(visible_condition(principal, Provider.region_code, Provider.institution_id))
    return await paginate(session, stmt, order_by=[Provider.id], params=params)


def check_visit_fee(settings: HomecareSettings, fee: Decimal) -> None:
    ceiling = settings.visit_fee_ceiling_yuan
    if ceiling is not None and fee > ceiling:
        raise VisitFeeAboveCeiling(ceiling)


def check_provider_institution(info: InstitutionInfo | None) -> InstitutionInfo:
    """Who may be a provider: an active medical (or integrated) institution the registry lists as running
    home services — 互联网+护理服务 or 家庭病床 (rules.md: providers are licensed medical institutions that
    already run home services; a home-bed provider needs its settings here to take home beds)."""
    if (
        info is None
        or not info.active
        or not (info.internet_nursing_provider or info.home_bed_service)
        or info.kind not in PROVIDER_KINDS
    ):
        raise NotAProvider()
    return info


def _ensure_own(principal: Principal, institution_id: uuid.UUID) -> None:
    if principal.role is not Role.institution_admin or principal.institution_id != institution_id:
        raise NotOwnInstitution()


async def upsert(
    session: AsyncSession,
    principal: Principal,
    registry: RegistryClient,
    settings: HomecareSettings,
    *,
    institution_id: uuid.UUID,
    data: ProviderUpdate,
    if_match: str | None,
) -> tuple[Provider, bool]:
    """Create or update a provider's settings; the registry must list it as a provider."""
    _ensure_own(principal, institution_id)
    check_visit_fee(settings, data.visit_fee_yuan)
    info = check_provider_institution(await registry.get_institution(institution_id))
    provider = await find(session, institution_id)
    created = provider is None
    if provider is None:
        provider = Provider(institution_id=institution_id)
        session.add(provider)
        before = {}
    else:
        check_if_match(if_match, provider.version)
        before = {"visit_fee_yuan": provider.visit_fee_yuan, "institution_name": provider.institution_name}
    provider.institution_name = info.name
    provider.region_code = info.region_code
    provider.home_bed_service = info.home_bed_service
    provider.visit_fee_yuan = data.visit_fee_yuan
    await session.flush()
    audit.record(
        session,
        principal,
        action="provider.create" if created else "provider.update",
        entity_type="provider",
        entity_id=provider.id,
        changes=audit.diff(before, {"visit_fee_yuan": data.visit_fee_yuan, "institution_name": info.name}),
    )
    return provider, created


async def set_item(
    session: AsyncSession,
    principal: Principal,
    *,
    institution_id: uuid.UUID,
    item_code: str,
    data: ProviderItemUpdate,
    if_match: str | None,
) -> ProviderItem:
    _ensure_own(principal, institution_id)
    provider = await find(session, institution_id)
    if provider is None:
        raise ProviderNotFound()
    item = (await catalog.items_of_current(session, [item_code])).get(item_code)
    if item is None:
        raise CatalogItemUnknown([item_code])
    _check_guidance(item, data)
    row = await session.scalar(
        select(ProviderItem).where(
            ProviderItem.institution_id == institution_id, ProviderItem.item_code == item_code
        )
    )
    before = {}
    if row is None:
        row = ProviderItem(
            institution_id=institution_id, region_code=provider.region_code, item_code=item_code
        )
        session.add(row)
    else:
        check_if_match(if_match, row.version)
        before = {"price_yuan": row.price_yuan, "enabled": row.enabled}
    row.price_yuan = data.price_yuan
    row.enabled = data.enabled
    await session.flush()
    audit.record(
        session,
        principal,
        action="provider_item.set",
        entity_type="provider_item",
        entity_id=row.id,
        changes=audit.diff(before, {"item_code": item_code, **data.model_dump()}),
    )
    return row


def _check_guidance(item: CatalogItem, data: ProviderItemUpdate, field: str = "body.price_yuan") -> None:
    low, high = item.price_min_yuan, item.price_max_yuan
    if (low is not None and data.price_yuan < low) or (high is not None and data.price_yuan > high):
        raise PriceOutsideGuidance(low, high, field=field)


async def items_read(session: AsyncSession, institution_id: uuid.UUID) -> list[ProviderItemRead]:
    rows = (
        await session.scalars(
            select(ProviderItem)
            .where(ProviderItem.institution_id == institution_id)
            .order_by(ProviderItem.item_code)
        )
    ).all()
    current = await catalog.items_of_current(session, [r.item_code for r in rows])
    return [
        ProviderItemRead(
            item_code=r.item_code,
            item_name=current[r.item_code].name if r.item_code in current else None,
            price_yuan=r.price_yuan,
            enabled=r.enabled,
            orderable=r.enabled and r.item_code in current,
            version=r.version,
        )
        for r in rows
    ]


async def offered_items(
    session: AsyncSession, institution_id: uuid.UUID, codes: Collection[str]
) -> list[tuple[CatalogItem, ProviderItem]]:
    """The current catalog items with the provider's prices; every code must be enabled and current."""
    codes = sorted(set(codes))
    current = await catalog.items_of_current(session, codes)
    unknown = [c for c in codes if c not in current]
    if unknown:
        raise CatalogItemUnknown(unknown)
    rows = await session.scalars(
        select(ProviderItem).where(
            ProviderItem.institution_id == institution_id,
            ProviderItem.item_code.in_(codes),
            ProviderItem.enabled.is_(True),
        )
    )
    prices = {r.item_code: r for r in rows}
    missing = [c for c in codes if c not in prices]
    if missing:
        raise ItemNotOffered(missing)
    return [(current[c], prices[c]) for c in codes]
