"""Bulk provider settings (``POST /providers/bulk``): a province, or a city platform for its city, loads the
上门服务费 and the priced items of many providers at once, on the common bulk protocol
(:mod:`libs.common.bulk`).

A record is ``PUT /providers/{institution_id}`` with its items' ``PUT …/items/{code}``; it is checked by
the same functions: the fee ceiling (:func:`service.check_visit_fee`), who may be a provider
(:func:`service.check_provider_institution`, the registry's flags), each item in the current catalog
(``catalog_item_unknown``) and priced within its guidance (``price_outside_guidance``). The writer's scope
replaces the single path's "own institution": the institution must lie in the caller's region
(``out_of_scope``). The institution's name, county and home-bed flag come from the registry as in the
single path. A provider is keyed by its institution (``external_id`` is echoed); items not named are left
as they are. A record equal to what is stored is ``unchanged`` and writes nothing.

The registry is asked before the transaction opens (once per institution); the stored providers, their
items and the current catalog are read for the whole batch in three statements; the writes go through
the ORM (batched INSERTs, change feed at flush) with the single path's audit records
(``provider.create`` / ``provider.update``, ``provider_item.set``) marked ``via: bulk_upsert``.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit
from libs.common.auth import Principal
from libs.common.bulk import Batch, BulkOutcome, BulkRecord
from libs.common.errors import FieldError, Unprocessable
from services.homecare.catalog import service as catalog
from services.homecare.catalog.errors import CatalogItemUnknown
from services.homecare.catalog.models import CatalogItem
from services.homecare.clients.registry import InstitutionInfo
from services.homecare.providers import service
from services.homecare.providers.models import Provider, ProviderItem
from services.homecare.providers.schemas import ProviderBulkRecord
from services.homecare.regions import RegionNotAllowed
from services.homecare.settings import HomecareSettings

VIA = "bulk_upsert"


class InstitutionSource(Protocol):
    """Where the institutions come from: the registry client (or, for the demo, its demo province)."""

    async def get_institution(self, institution_id: uuid.UUID) -> InstitutionInfo | None: ...


def validate(batch: Batch[ProviderBulkRecord]) -> None:
    batch.validate(ProviderBulkRecord, exclude=())
    batch.reject_duplicates(lambda r: r.data.institution_id if r.data else None, "institution_id")


async def fetch_institutions(
    registry: InstitutionSource, batch: Batch[ProviderBulkRecord]
) -> dict[uuid.UUID, InstitutionInfo]:
    """The batch's institutions, asked once each before the request's transaction opens."""
    found: dict[uuid.UUID, InstitutionInfo] = {}
    for institution_id in sorted({_data(r).institution_id for r in batch.live()}):
        info = await registry.get_institution(institution_id)
        if info is not None:
            found[info.id] = info
    return found


def _data(record: BulkRecord[ProviderBulkRecord]) -> ProviderBulkRecord:
    assert record.data is not None
    return record.data


@dataclass
class _Upsert:
    principal: Principal
    settings: HomecareSettings
    source_system: str
    institutions: Mapping[uuid.UUID, InstitutionInfo]
    providers: dict[uuid.UUID, Provider]
    items: dict[tuple[uuid.UUID, str], ProviderItem]
    current: dict[str, CatalogItem]
    added: list[Any] = field(default_factory=list)
    audits: list[tuple[str, str, Any, dict[str, Any]]] = field(default_factory=list)

    def check(self, record: BulkRecord[ProviderBulkRecord]) -> None:
        data = _data(record)
        service.check_visit_fee(self.settings, data.visit_fee_yuan)
        info = service.check_provider_institution(self.institutions.get(data.institution_id))
        if not self.principal.scope.contains(info.region_code):
            raise RegionNotAllowed("该机构不在您的管辖范围内")
        unknown = sorted({i.item_code for i in data.items} - self.current.keys())
        if unknown:
            raise CatalogItemUnknown(unknown)
        for n, item in enumerate(data.items):
            service._check_guidance(self.current[item.item_code], item, field=f"body.items.{n}.price_yuan")
        codes = [i.item_code for i in data.items]
        if len(set(codes)) != len(codes):
            raise Unprocessable(
                "同一项目在本条中重复",
                code="duplicate_item",
                errors=[FieldError(field="body.items", message="项目重复", code="duplicate")],
            )
        self._write(record, data, info)

    def _write(
        self, record: BulkRecord[ProviderBulkRecord], data: ProviderBulkRecord, info: InstitutionInfo
    ) -> None:
        provider = self.providers.get(data.institution_id)
        values = {
            "institution_name": info.name,
            "region_code": info.region_code,
            "home_bed_service": info.home_bed_service,
            "visit_fee_yuan": data.visit_fee_yuan,
        }
        keyed = {"via": VIA, "source_system": self.source_system, "external_id": record.external_id}
        created = provider is None
        if provider is None:
            provider = Provider(institution_id=data.institution_id, **values)
            self.added.append(provider)
            before: dict[str, Any] = {}
            changed = True
        else:
            before = {k: getattr(provider, k) for k in values}
            changed = any(_differs(before[k], v) for k, v in values.items())
            for key, value in values.items():
                setattr(provider, key, value)
        if changed:
            audit_after = {"visit_fee_yuan": data.visit_fee_yuan, "institution_name": info.name}
            audit_before = {k: before[k] for k in audit_after if k in before}
            self.audits.append(
                (
                    "provider.create" if created else "provider.update",
                    "provider",
                    provider,
                    {**audit.diff(audit_before, audit_after), **keyed},
                )
            )
        items_changed = False
        for item in data.items:
            row = self.items.get((data.institution_id, item.item_code))
            item_before: dict[str, Any] = {}
            if row is None:
                row = ProviderItem(
                    institution_id=data.institution_id,
                    region_code=info.region_code,
                    item_code=item.item_code,
                    price_yuan=item.price_yuan,
                    enabled=item.enabled,
                )
                self.added.append(row)
                self.items[(data.institution_id, item.item_code)] = row
            else:
                item_before = {"price_yuan": row.price_yuan, "enabled": row.enabled}
                if not _differs(row.price_yuan, item.price_yuan) and row.enabled == item.enabled:
                    if row.region_code == info.region_code:
                        continue
                row.price_yuan, row.enabled, row.region_code = item.price_yuan, item.enabled, info.region_code
            items_changed = True
            self.audits.append(
                (
                    "provider_item.set",
                    "provider_item",
                    row,
                    {
                        **audit.diff(
                            item_before,
                            {"item_code": item.item_code, **item.model_dump(exclude={"item_code"})},
                        ),
                        **keyed,
                    },
                )
            )
        if created:
            outcome = BulkOutcome.created
        elif changed or items_changed:
            outcome = BulkOutcome.updated
        else:
            outcome = BulkOutcome.unchanged
        version = provider.version if provider.version is not None else 1
        if outcome is BulkOutcome.updated and changed:
            version += 1
        record.written(outcome, id=provider.institution_id, version=version)


def _differs(before: Any, after: Any) -> bool:
    if isinstance(before, Decimal) or isinstance(after, Decimal):
        return Decimal(str(before)) != Decimal(str(after))
    return bool(before != after)


async def upsert(
    session: AsyncSession,
    principal: Principal,
    settings: HomecareSettings,
    batch: Batch[ProviderBulkRecord],
    institutions: Mapping[uuid.UUID, InstitutionInfo],
) -> None:
    """Check and write a validated batch (:func:`validate`; institutions from :func:`fetch_institutions`)."""
    ids = list({_data(r).institution_id for r in batch.live()})
    providers: dict[uuid.UUID, Provider] = {}
    items: dict[tuple[uuid.UUID, str], ProviderItem] = {}
    current: dict[str, CatalogItem] = {}
    if ids:
        providers = {
            p.institution_id: p
            for p in await session.scalars(select(Provider).where(Provider.institution_id.in_(ids)))
        }
        items = {
            (i.institution_id, i.item_code): i
            for i in await session.scalars(select(ProviderItem).where(ProviderItem.institution_id.in_(ids)))
        }
        codes: Collection[str] = {i.item_code for r in batch.live() for i in _data(r).items}
        current = await catalog.items_of_current(session, codes) if codes else {}
    work = _Upsert(
        principal=principal,
        settings=settings,
        source_system=batch.source_system,
        institutions=institutions,
        providers=providers,
        items=items,
        current=current,
    )
    batch.check(work.check)
    session.add_all(work.added)
    await session.flush()
    for action, entity_type, entity, changes in work.audits:
        audit.record(
            session, principal, action=action, entity_type=entity_type, entity_id=entity.id, changes=changes
        )
