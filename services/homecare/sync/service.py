"""City-platform bulk upserts (issue 7): up to 1,000 records keyed by (source_system, external_id).

Each record is validated on its own and gets its own outcome; a bad record is rejected without touching
the others, a replayed batch changes nothing. The writes are a handful of statements per batch: one
SELECT of the existing rows, one multi-row INSERT, one executemany UPDATE, and the change-feed and audit
rows (each one multi-row INSERT) — never a round trip per record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from libs.common import changes
from libs.common.auth import Principal
from libs.common.errors import DomainError, validation_field_errors
from libs.common.models import AuditRecord, ChangeTracked, utcnow
from libs.common.personal_data import PersonalDataCipher
from libs.common.request_context import current_request_id
from services.homecare import clock, regions
from services.homecare.catalog import service as catalog
from services.homecare.catalog.models import CatalogItem
from services.homecare.orders import fees
from services.homecare.orders.models import Order, OrderEvent, OrderItem, OrderStatus
from services.homecare.providers.models import Provider, ProviderItem
from services.homecare.recipients import service as recipients
from services.homecare.recipients.models import Recipient
from services.homecare.sync.schemas import (
    BulkCounts,
    BulkOutcome,
    BulkResponse,
    BulkResult,
    OrderBulkRecord,
    RecipientBulkRecord,
)

M = TypeVar("M", bound=BaseModel)


class _Batch:
    """Per-record outcomes of one request, in request order."""

    def __init__(self, size: int) -> None:
        self.results: list[BulkResult | None] = [None] * size

    def reject(self, index: int, external_id: str | None, reason: str, detail: str, **kw: Any) -> None:
        self.results[index] = BulkResult(
            index=index,
            external_id=external_id,
            outcome=BulkOutcome.rejected,
            reason=reason,
            detail=detail,
            **kw,
        )

    def done(self, index: int, external_id: str, outcome: BulkOutcome, entity_id: uuid.UUID) -> None:
        self.results[index] = BulkResult(index=index, external_id=external_id, outcome=outcome, id=entity_id)

    def response(self, source_system: str) -> BulkResponse:
        final = [r for r in self.results if r is not None]
        counts = BulkCounts(**{o.value: sum(1 for r in final if r.outcome is o) for o in BulkOutcome})
        return BulkResponse(source_system=source_system, counts=counts, results=final)


def _validated(
    batch: _Batch, records: Sequence[dict[str, Any]], model: type[M], external_id: Callable[[M], str]
) -> list[tuple[int, M]]:
    valid: list[tuple[int, M]] = []
    seen: set[str] = set()
    for index, raw in enumerate(records):
        raw_id = raw.get("external_id") if isinstance(raw, dict) else None
        shown = str(raw_id)[:100] if raw_id is not None else None
        try:
            record = model.model_validate(raw)
        except ValidationError as exc:
            errors = validation_field_errors(exc.errors(include_input=False))
            batch.reject(index, shown, "invalid", "记录校验失败", errors=errors)
            continue
        key = external_id(record)
        if key in seen:
            batch.reject(index, key, "duplicate_in_batch", "同一批次中 external_id 重复")
            continue
        seen.add(key)
        valid.append((index, record))
    return valid


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _columns_of(entity: Any) -> dict[str, Any]:
    return {attr.key: getattr(entity, attr.key) for attr in entity.__mapper__.column_attrs}


def _track(
    session: AsyncSession,
    model: type[Any],
    rows: Sequence[dict[str, Any]],
    previous: Mapping[uuid.UUID, changes.Scope] | None = None,
) -> None:
    """Feed entries for rows written by bulk statements; ``previous`` holds the scope each updated row
    had before (a row that moved gets a tombstone in its old scope), rows not in it are new."""
    before = previous or {}
    for row in rows:
        entity = model(**row)
        assert isinstance(entity, ChangeTracked)
        changes.track(session, entity, previous_scope=before.get(row["id"]))


def _audit_rows(
    principal: Principal, action: str, entity_type: str, items: Sequence[tuple[uuid.UUID, dict[str, Any]]]
) -> list[dict[str, Any]]:
    now = utcnow()
    return [
        {
            "id": uuid.uuid4(),
            "occurred_at": now,
            "actor_sub": principal.sub,
            "actor_role": principal.role.value,
            "actor_institution_id": principal.institution_id,
            "action": action,
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "changes": change,
            "request_id": current_request_id(),
        }
        for entity_id, change in items
    ]


# -------------------------------------------------------------------------------------- recipients

_RECIPIENT_MUTABLE = (
    "institution_id",
    "region_code",
    "name_enc",
    "id_number_enc",
    "id_number_hash",
    "phone_enc",
    "address_enc",
    "latitude",
    "longitude",
    "birth_date",
    "sex",
    "disability_level",
    "dementia",
    "chronic_diseases",
    "emergency_contact_name_enc",
    "emergency_contact_relation",
    "emergency_contact_phone_enc",
    "consent_given_at",
    "consent_method",
    "consent_signed_by",
    "consent_document_sha256",
)


def _recipient_plain(cipher: PersonalDataCipher, r: Recipient) -> dict[str, Any]:
    """What a record says, decrypted, for comparison with an incoming one."""
    return {
        "institution_id": r.institution_id,
        "name": cipher.decrypt(r.name_enc),
        "id_number": cipher.decrypt(r.id_number_enc),
        "phone": cipher.decrypt(r.phone_enc),
        "address": cipher.decrypt(r.address_enc),
        "region_code": r.region_code,
        "latitude": r.latitude,
        "longitude": r.longitude,
        "disability_level": r.disability_level,
        "dementia": r.dementia,
        "chronic_diseases": list(r.chronic_diseases or []),
        "emergency_contact": (
            {
                "name": cipher.decrypt(r.emergency_contact_name_enc),
                "relation": r.emergency_contact_relation,
                "phone": cipher.decrypt(r.emergency_contact_phone_enc),
            }
            if r.emergency_contact_phone_enc is not None
            else None
        ),
        "consent": {
            "given_at": r.consent_given_at,
            "method": r.consent_method,
            "signed_by": r.consent_signed_by,
            "document_sha256": r.consent_document_sha256,
        },
    }


def _incoming_plain(record: RecipientBulkRecord) -> dict[str, Any]:
    data = record.model_dump(exclude={"external_id", "birth_date"})
    data["id_number"] = data["id_number"].upper()
    return data


async def upsert_recipients(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    *,
    source_system: str,
    records: Sequence[dict[str, Any]],
) -> BulkResponse:
    batch = _Batch(len(records))
    valid = _validated(batch, records, RecipientBulkRecord, lambda r: r.external_id)
    scope = principal.scope
    institution_ids = {r.institution_id for _, r in valid if r.institution_id is not None}
    known: dict[uuid.UUID, str] = (
        {
            row.institution_id: row.region_code
            for row in await session.execute(
                select(Provider.institution_id, Provider.region_code).where(
                    Provider.institution_id.in_(institution_ids)
                )
            )
        }
        if institution_ids
        else {}
    )
    candidates: list[tuple[int, RecipientBulkRecord]] = []
    for index, record in valid:
        refused = regions.region_error(
            principal,
            record.region_code,
            institution_region=known.get(record.institution_id) if record.institution_id else None,
            what="服务对象住址",
        )
        if refused is not None:
            batch.reject(index, record.external_id, "out_of_city", refused.detail)
        else:
            candidates.append((index, record))

    existing = {
        r.external_id: r
        for r in await session.scalars(
            select(Recipient).where(
                Recipient.source_system == source_system,
                Recipient.external_id.in_([r.external_id for _, r in candidates]),
            )
        )
    }
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    tracked: list[dict[str, Any]] = []
    previous_scopes: dict[uuid.UUID, changes.Scope] = {}
    audits: list[tuple[uuid.UUID, dict[str, Any]]] = []
    for index, record in candidates:
        if record.institution_id is not None and record.institution_id not in known:
            batch.reject(
                index, record.external_id, "serving_institution_invalid", "服务机构未开通互联网+护理服务"
            )
            continue
        current = existing.get(record.external_id)
        if current is not None and not scope.contains(current.region_code):
            batch.reject(index, record.external_id, "out_of_city", "已有记录不在本平台所在城市")
            continue
        try:
            plain = recipients.plain_columns(record)
        except DomainError as exc:  # e.g. birth date not matching the ID number: this record only
            batch.reject(index, record.external_id, exc.code, exc.detail)
            continue
        if current is not None and _recipient_plain(cipher, current) == _incoming_plain(record):
            batch.done(index, record.external_id, BulkOutcome.unchanged, current.id)
            continue
        values = {
            **plain,
            **recipients.personal_columns(cipher, record),
            "institution_id": record.institution_id,
        }
        if current is None:
            row = {
                "id": uuid.uuid4(),
                **values,
                "source_system": source_system,
                "external_id": record.external_id,
                "created_by_sub": principal.sub,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            inserts.append(row)
            tracked.append(row)
            batch.done(index, record.external_id, BulkOutcome.created, row["id"])
            audits.append((row["id"], {"source_system": source_system, "external_id": record.external_id}))
        else:
            update_row = {"_id": current.id, **{k: values[k] for k in _RECIPIENT_MUTABLE}, "updated_at": now}
            update_row["version"] = current.version + 1
            updates.append(update_row)
            tracked.append({**_columns_of(current), **{k: v for k, v in update_row.items() if k != "_id"}})
            previous_scopes[current.id] = current.change_scope()
            batch.done(index, record.external_id, BulkOutcome.updated, current.id)
            audits.append((current.id, {"source_system": source_system, "external_id": record.external_id}))

    if inserts:
        await session.execute(insert(_table(Recipient)), inserts)
    if updates:
        table = _table(Recipient)
        stmt = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({k: bindparam(k) for k in (*_RECIPIENT_MUTABLE, "updated_at", "version")})
        )
        await session.execute(stmt, updates)
    _track(session, Recipient, tracked, previous_scopes)
    if audits:
        await session.execute(
            insert(_table(AuditRecord)),
            _audit_rows(principal, "recipient.bulk_upsert", "recipient", audits),
        )
    return batch.response(source_system)


# ------------------------------------------------------------------------------------------ orders

_ORDER_MUTABLE = (
    "window_start",
    "window_end",
    "address_enc",
    "region_code",
    "latitude",
    "longitude",
    "note",
    "items_total_yuan",
    "updated_at",
    "version",
)


async def upsert_orders(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    *,
    source_system: str,
    records: Sequence[dict[str, Any]],
) -> BulkResponse:
    batch = _Batch(len(records))
    valid = _validated(batch, records, OrderBulkRecord, lambda r: r.external_id)
    scope = principal.scope

    by_id = {r.recipient_id for _, r in valid if r.recipient_id}
    by_ext = {r.recipient_external_id for _, r in valid if r.recipient_external_id}
    found = list(
        await session.scalars(
            select(Recipient).where(
                (Recipient.id.in_(by_id))
                | ((Recipient.source_system == source_system) & Recipient.external_id.in_(by_ext))
            )
        )
    )
    recipient_by_id = {r.id: r for r in found}
    recipient_by_ext = {r.external_id: r for r in found if r.source_system == source_system}

    institution_ids = {r.institution_id for _, r in valid}
    providers = {
        p.institution_id: p
        for p in await session.scalars(select(Provider).where(Provider.institution_id.in_(institution_ids)))
    }
    codes = {c for _, r in valid for c in r.item_codes}
    version = await catalog.current_version(session)
    current_items = {
        i.code: i
        for i in await session.scalars(
            select(CatalogItem).where(
                CatalogItem.catalog_version_id == version.id, CatalogItem.code.in_(codes)
            )
        )
    }
    prices = {
        (p.institution_id, p.item_code): p
        for p in await session.scalars(
            select(ProviderItem).where(
                ProviderItem.institution_id.in_(institution_ids),
                ProviderItem.item_code.in_(codes),
                ProviderItem.enabled.is_(True),
            )
        )
    }
    existing = {
        o.external_id: o
        for o in await session.scalars(
            select(Order)
            .where(
                Order.source_system == source_system, Order.external_id.in_([r.external_id for _, r in valid])
            )
            .options(selectinload(Order.items))
        )
    }

    now = utcnow()
    order_inserts: list[dict[str, Any]] = []
    order_updates: list[dict[str, Any]] = []
    item_inserts: list[dict[str, Any]] = []
    replaced_items: list[uuid.UUID] = []
    event_inserts: list[dict[str, Any]] = []
    tracked_orders: list[dict[str, Any]] = []
    previous_order_scopes: dict[uuid.UUID, changes.Scope] = {}
    audits: list[tuple[uuid.UUID, dict[str, Any]]] = []

    for index, record in valid:
        ext = record.external_id
        recipient = (
            recipient_by_id.get(record.recipient_id)
            if record.recipient_id
            else recipient_by_ext.get(record.recipient_external_id)
        )
        if recipient is None or not scope.contains(recipient.region_code):
            batch.reject(index, ext, "recipient_not_found", "服务对象不存在或不在本城市")
            continue
        region_code = record.region_code or recipient.region_code
        provider = providers.get(record.institution_id)
        refused = regions.region_error(
            principal,
            region_code,
            institution_region=provider.region_code if provider is not None else None,
            what="服务地址",
        )
        if refused is not None:
            batch.reject(index, ext, "out_of_city", refused.detail)
            continue
        if provider is None:
            batch.reject(index, ext, "provider_not_found", "服务机构未开通互联网+护理服务")
            continue
        missing = [
            c
            for c in record.item_codes
            if c not in current_items or (provider.institution_id, c) not in prices
        ]
        if missing:
            batch.reject(
                index, ext, "item_not_offered", f"机构未开通或目录中不存在：{', '.join(sorted(missing))}"
            )
            continue
        latitude = record.latitude if record.latitude is not None else recipient.latitude
        longitude = record.longitude if record.longitude is not None else recipient.longitude
        if latitude is None or longitude is None:
            batch.reject(index, ext, "coordinates_required", "服务地址须有经纬度")
            continue
        address = record.address or cipher.decrypt(recipient.address_enc)
        item_codes = sorted(record.item_codes)
        current = existing.get(ext)
        if current is not None:
            if current.institution_id != record.institution_id or current.recipient_id != recipient.id:
                batch.reject(index, ext, "immutable_field", "不能变更订单的服务机构或服务对象")
                continue
            same = (
                current.window_start == record.window_start
                and current.window_end == record.window_end
                and cipher.decrypt(current.address_enc) == address
                and current.region_code == region_code
                and current.latitude == latitude
                and current.longitude == longitude
                and current.note == record.note
                and sorted(i.item_code for i in current.items) == item_codes
            )
            if same:
                batch.done(index, ext, BulkOutcome.unchanged, current.id)
                continue
            if current.status is not OrderStatus.submitted:
                batch.reject(index, ext, "order_already_processed", "订单已进入处理流程，不能再修改")
                continue
        if record.window_end <= clock.now():
            batch.reject(index, ext, "window_past", "期望时段已过")
            continue
        order_id = current.id if current is not None else uuid.uuid4()
        items = [(current_items[c], prices[(provider.institution_id, c)]) for c in item_codes]
        common = {
            "window_start": record.window_start,
            "window_end": record.window_end,
            "address_enc": cipher.encrypt(address),
            "region_code": region_code,
            "latitude": latitude,
            "longitude": longitude,
            "note": record.note,
            "items_total_yuan": fees.items_total(p.price_yuan for _, p in items),
            "updated_at": now,
        }
        if current is None:
            row = {
                "id": order_id,
                **common,
                "institution_id": provider.institution_id,
                "provider_name": provider.institution_name,
                "recipient_id": recipient.id,
                "home_bed_id": None,
                "catalog_version_id": version.id,
                "catalog_version_code": version.code,
                "status": OrderStatus.submitted,
                "placed_by_sub": principal.sub,
                "placed_by_role": principal.role.value,
                "source_system": source_system,
                "external_id": ext,
                "requires_doctor": any(i.risk == "high" or i.needs_medical_order for i, _ in items),
                "visit_fee_yuan": provider.visit_fee_yuan,
                "flagged": False,
                "flag_reasons": [],
                "created_at": now,
                "version": 1,
            }
            order_inserts.append(row)
            tracked_orders.append(row)
            event_inserts.append(
                {
                    "id": uuid.uuid4(),
                    "order_id": order_id,
                    "action": "submit",
                    "to_status": "submitted",
                    "actor_sub": principal.sub,
                    "received_at": now,
                    "flags": [],
                }
            )
            batch.done(index, ext, BulkOutcome.created, order_id)
        else:
            update_row = {"_id": order_id, **common, "version": current.version + 1}
            order_updates.append(update_row)
            tracked_orders.append(
                {**_columns_of(current), **{k: v for k, v in update_row.items() if k != "_id"}}
            )
            previous_order_scopes[order_id] = current.change_scope()
            replaced_items.append(order_id)
            batch.done(index, ext, BulkOutcome.updated, order_id)
        for item, price in items:
            item_inserts.append(
                {
                    "id": uuid.uuid4(),
                    "order_id": order_id,
                    "institution_id": provider.institution_id,
                    "region_code": region_code,
                    "item_code": item.code,
                    "item_name": item.name,
                    "risk": item.risk,
                    "needs_medical_order": item.needs_medical_order,
                    "needs_specialist_training": item.needs_specialist_training,
                    "required_title": item.required_title,
                    "price_yuan": price.price_yuan,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
        audits.append((order_id, {"source_system": source_system, "external_id": ext}))

    if order_inserts:
        await session.execute(insert(_table(Order)), order_inserts)
    if order_updates:
        table = _table(Order)
        stmt = (
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({k: bindparam(k) for k in _ORDER_MUTABLE})
        )
        await session.execute(stmt, order_updates)
    if replaced_items:
        await session.execute(
            delete(_table(OrderItem)).where(_table(OrderItem).c.order_id.in_(replaced_items))
        )
    if item_inserts:
        await session.execute(insert(_table(OrderItem)), item_inserts)
    if event_inserts:
        await session.execute(insert(_table(OrderEvent)), event_inserts)
    _track(session, Order, tracked_orders, previous_order_scopes)
    _track(session, OrderItem, item_inserts)
    if audits:
        await session.execute(
            insert(_table(AuditRecord)), _audit_rows(principal, "order.bulk_upsert", "order", audits)
        )
    return batch.response(source_system)
