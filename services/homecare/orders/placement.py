"""The rule of placing an order — ONE function, called by ``POST /orders`` (a batch of one) and by the city
platforms' ``POST /orders/bulk`` alike, so that a rule exists once.

The rule is split in two so that a batch costs a handful of statements, not a round trip per record:
:func:`load` reads everything the rule needs for a set of orders (providers, the current catalog, the
providers' prices, home beds) in a few statements; :func:`check` is pure — it checks one order against
those look-ups and returns what to write (:class:`Placement`), or raises the single endpoint's
``DomainError``.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.errors import Forbidden
from libs.common.personal_data import PersonalDataCipher
from services.homecare import regions
from services.homecare.catalog import service as catalog
from services.homecare.catalog.errors import CatalogItemUnknown
from services.homecare.catalog.models import CatalogItem, CatalogVersion
from services.homecare.home_beds.models import HomeBed, HomeBedStatus
from services.homecare.orders import fees
from services.homecare.orders.errors import HomeBedNotOpen, NotEligibleForItems
from services.homecare.orders.schemas import OrderFields
from services.homecare.providers.errors import ItemNotOffered, ProviderNotFound
from services.homecare.providers.models import Provider, ProviderItem
from services.homecare.recipients.errors import RecipientNotFound
from services.homecare.recipients.models import Recipient
from services.homecare.settings import HomecareSettings


@dataclass(frozen=True)
class Lookups:
    """What the rule reads from the database, for one order or a whole batch."""

    providers: Mapping[uuid.UUID, Provider]
    catalog_version: CatalogVersion
    catalog_items: Mapping[str, CatalogItem]
    prices: Mapping[tuple[uuid.UUID, str], ProviderItem]
    home_beds: Mapping[uuid.UUID, HomeBed]


async def load(
    session: AsyncSession,
    *,
    institution_ids: Collection[uuid.UUID],
    item_codes: Collection[str],
    home_bed_ids: Collection[uuid.UUID] = (),
) -> Lookups:
    """The look-ups of :func:`check` for orders of ``institution_ids`` naming ``item_codes``."""
    institutions = list(set(institution_ids))
    codes = sorted(set(item_codes))
    providers = (
        {
            p.institution_id: p
            for p in await session.scalars(select(Provider).where(Provider.institution_id.in_(institutions)))
        }
        if institutions
        else {}
    )
    version = await catalog.current_version(session)
    items = (
        {
            i.code: i
            for i in await session.scalars(
                select(CatalogItem).where(
                    CatalogItem.catalog_version_id == version.id, CatalogItem.code.in_(codes)
                )
            )
        }
        if codes
        else {}
    )
    prices = (
        {
            (p.institution_id, p.item_code): p
            for p in await session.scalars(
                select(ProviderItem).where(
                    ProviderItem.institution_id.in_(list(providers)),
                    ProviderItem.item_code.in_(codes),
                    ProviderItem.enabled.is_(True),
                )
            )
        }
        if providers and codes
        else {}
    )
    beds = list(set(home_bed_ids))
    home_beds = (
        {b.id: b for b in await session.scalars(select(HomeBed).where(HomeBed.id.in_(beds)))} if beds else {}
    )
    return Lookups(providers, version, items, prices, home_beds)


def _open_on(bed: HomeBed, day: date) -> bool:
    """The bed was open on ``day``: opened by then, and not closed before it."""
    if bed.opened_date is None or bed.opened_date > day:
        return False
    return bed.closed_date is None or day <= bed.closed_date


@dataclass(frozen=True)
class ServiceAddress:
    """Where the visit takes place: the order's own address, or the recipient's home."""

    address: str
    region_code: str
    latitude: float | None
    longitude: float | None


def service_address(
    data: OrderFields, recipient: Recipient, cipher: PersonalDataCipher, *, home: str | None = None
) -> ServiceAddress:
    """The order's own address, else the recipient's home: ``home``, the person's address the caller read
    from the person index (issue 19), or the copy a recipient not linked yet still holds."""
    address = data.address or home or cipher.decrypt(recipient.address_enc)
    if address is None:
        raise NotEligibleForItems(
            "服务对象的住址由居民主索引维护，此处无法读取：请填写服务地址（address 与 region_code）",
            "body.address",
        )
    return ServiceAddress(
        address=address,
        region_code=data.region_code or recipient.region_code,
        latitude=data.latitude if data.latitude is not None else recipient.latitude,
        longitude=data.longitude if data.longitude is not None else recipient.longitude,
    )


@dataclass(frozen=True)
class Placement:
    """A checked order, ready to be written (by the ORM for one, by bulk statements for a batch)."""

    provider: Provider
    recipient: Recipient
    where: ServiceAddress
    latitude: float
    longitude: float
    catalog_version: CatalogVersion
    items: list[tuple[CatalogItem, ProviderItem]]

    @property
    def institution_id(self) -> uuid.UUID:
        return self.provider.institution_id

    @property
    def requires_doctor(self) -> bool:
        return any(item.risk == "high" or item.needs_medical_order for item, _ in self.items)

    @property
    def items_total_yuan(self) -> Decimal:
        return fees.items_total(price.price_yuan for _, price in self.items)


def serving_institution(principal: Principal, data: OrderFields) -> uuid.UUID | None:
    """The provider the order is placed with: an institution user's own, else the one named."""
    if principal.is_institution_user:
        if data.institution_id is not None and data.institution_id != principal.institution_id:
            raise Forbidden("机构用户只能为本机构下单", code="not_own_institution")
        return principal.institution_id
    return data.institution_id


def check(
    principal: Principal,
    cipher: PersonalDataCipher,
    settings: HomecareSettings,
    data: OrderFields,
    recipient: Recipient | None,
    lookups: Lookups,
    *,
    now: datetime,
    on: date | None = None,
    home: str | None = None,
) -> Placement:
    """Every rule of placing ``data`` for ``recipient`` (None when the caller may not see it); ``home``:
    the recipient's person's address (read from the person index before), the default service address.

    ``on``: the day a past order was placed (the historical import): its window may have passed, and a
    home bed it names must have been open on that day (it may be closed now)."""
    institution_id = serving_institution(principal, data)
    if institution_id is None:
        raise NotEligibleForItems("须指定服务机构", "body.institution_id")
    provider = lookups.providers.get(institution_id)
    if provider is None:
        raise ProviderNotFound()
    if recipient is None:
        raise RecipientNotFound()
    if data.address is not None and data.region_code is None:
        raise NotEligibleForItems("指定服务地址时须同时指定其县级区划", "body.region_code")
    where = service_address(data, recipient, cipher, home=home)
    if where.latitude is None or where.longitude is None:
        raise NotEligibleForItems("服务地址须有经纬度（用于签到核验）", "body.latitude")
    regions.ensure_region_allowed(
        principal, where.region_code, institution_region=provider.region_code, what="服务地址"
    )
    if data.window_end - data.window_start > timedelta(hours=settings.order_max_window_hours):
        raise NotEligibleForItems(
            f"期望时段不得超过 {settings.order_max_window_hours} 小时", "body.window_end"
        )
    if on is None and data.window_end <= now:
        raise NotEligibleForItems("期望时段已过", "body.window_end")
    if data.home_bed_id is not None:
        bed = lookups.home_beds.get(data.home_bed_id)
        if bed is None or bed.recipient_id != recipient.id or bed.institution_id != institution_id:
            raise NotEligibleForItems("家庭病床须为本机构为该服务对象已建的病床", "body.home_bed_id")
        if on is None and bed.status is not HomeBedStatus.opened:
            raise NotEligibleForItems("家庭病床须为本机构为该服务对象已建的病床", "body.home_bed_id")
        if on is not None and not _open_on(bed, on):
            raise HomeBedNotOpen(on)
    codes = sorted(set(data.item_codes))
    unknown = [c for c in codes if c not in lookups.catalog_items]
    if unknown:
        raise CatalogItemUnknown(unknown)
    missing = [c for c in codes if (institution_id, c) not in lookups.prices]
    if missing:
        raise ItemNotOffered(missing)
    return Placement(
        provider=provider,
        recipient=recipient,
        where=where,
        latitude=where.latitude,
        longitude=where.longitude,
        catalog_version=lookups.catalog_version,
        items=[(lookups.catalog_items[c], lookups.prices[(institution_id, c)]) for c in codes],
    )
