"""City-platform bulk upserts of recipients and orders, on the platform's bulk protocol
(:mod:`libs.common.bulk`), keyed by ``(source_system, external_id)``.

Each record is checked by THE SAME rule as its single write — :func:`recipients.check_registration`
(``POST /recipients``) and :func:`placement.check` (``POST /orders``) — with the look-ups those rules need
loaded for the whole batch up front; a rule's ``DomainError`` rejects that record only, with the single
write's code. Nothing is written before every record is checked, so a rejected record never half-writes.
A record equal to what is stored is ``unchanged`` and writes nothing (a replayed batch leaves no trace).
The writes are a handful of statements per batch: the look-ups, one multi-row INSERT, one executemany
UPDATE, and the change-feed and audit rows — never a round trip per record.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from libs.common import changes
from libs.common.auth import Principal
from libs.common.bulk import (
    DEFAULT_MAX_RECORDS,
    Batch,
    BulkOutcome,
    BulkRecord,
    audit_written,
    changed_fields,
)
from libs.common.models import ChangeTracked, utcnow
from libs.common.person_index import (
    NamedPerson,
    PersonIndex,
    PersonNotMatched,
    index_source,
    resolve_batch,
)
from libs.common.personal_data import PersonalDataCipher
from services.homecare import clock
from services.homecare.orders import placement
from services.homecare.orders.models import Order, OrderEvent, OrderItem, OrderStatus
from services.homecare.orders.service import ORDER_PERSONAL_FIELDS
from services.homecare.recipients import identity
from services.homecare.recipients import service as recipients
from services.homecare.recipients.models import Recipient
from services.homecare.regions import RegionNotAllowed
from services.homecare.settings import HomecareSettings
from services.homecare.sync.errors import ImmutableField, OrderAlreadyProcessed
from services.homecare.sync.schemas import OrderBulkRecord, RecipientBulkRecord


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


def _ensure_in_scope(principal: Principal, stored_region: str) -> None:
    """A stored record the platform rewrites must lie in its city (平潭 its own)."""
    if not principal.scope.contains(stored_region):
        raise RegionNotAllowed("已有记录不在您的管辖范围内")


def _data(record: BulkRecord[Any]) -> Any:
    assert record.data is not None
    return record.data


# -------------------------------------------------------------------------------------- recipients

_RECIPIENT_MUTABLE = (
    "institution_id",
    "person_id",
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
    "identity_fingerprint",
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

# the person's fields of a record: only their keyed fingerprint is compared (never decrypted)
_FINGERPRINTED = ("name", "id_number", "phone", "address")


def identity_fingerprint(cipher: PersonalDataCipher, data: RecipientBulkRecord) -> str:
    """The keyed fingerprint of the person's fields a record sends (``cipher.identity_fingerprint``)."""
    return cipher.identity_fingerprint(
        name=data.name, id_number=data.id_number, phone=data.phone, address=data.address
    )


def _recipient_plain(cipher: PersonalDataCipher, r: Recipient) -> dict[str, Any]:
    """What a record says, the person's identity as its fingerprint, for comparison with an incoming one
    (the emergency contact is homecare's own data: decrypted)."""
    return {
        "institution_id": r.institution_id,
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
        "identity_fingerprint": r.identity_fingerprint,
    }


def _incoming_plain(record: RecipientBulkRecord, digest: str) -> dict[str, Any]:
    data = record.model_dump(exclude={"external_id", "birth_date", *_FINGERPRINTED})
    data["identity_fingerprint"] = digest
    return data


def _changes(
    before: dict[str, Any], after: dict[str, Any], data: RecipientBulkRecord
) -> dict[str, list[Any]]:
    """The changed fields; a changed fingerprint names the personal fields sent (audited masked)."""
    changed = changed_fields(before, after)
    if changed.pop("identity_fingerprint", None) is not None:
        sent = data.model_dump(include=set(_FINGERPRINTED))
        changed |= {k: [None, v] for k, v in sent.items()}
    return changed


async def upsert_recipients(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    batch: Batch[RecipientBulkRecord],
    *,
    new_id: Callable[[str], uuid.UUID] | None = None,
    index: PersonIndex | None = None,
    max_records: int = DEFAULT_MAX_RECORDS,
) -> None:
    """``new_id``: the id a new record gets from its external id (an in-process loader keeping its own
    ids, e.g. the demo's); a random one otherwise. ``index``: the person index; the persons of the
    batch's records to write (not those unchanged) are found or registered in ONE call
    (``POST /residents/persons/bulk``, ``max_records`` a call) before anything is written, and each record
    stores its ``person_id`` only — the index's refusal of a record (another name under the number,
    ``person_name_mismatch``; refused, ``person_refused``) rejects that record; the index unreachable is
    503 ``residents_unavailable`` with nothing written. Without an index (an in-process loader only) a
    record keeps its own encrypted copy of the identity, as before issue 19. "Same record, changed?" is
    the record's own fields and the keyed fingerprint of the person's identity: no identity decrypted."""
    batch.validate(RecipientBulkRecord, exclude=())
    live = list(batch.live())
    if not live:
        return
    source_system = batch.source_system
    existing = {
        r.external_id: r
        for r in await session.scalars(
            select(Recipient).where(
                Recipient.source_system == source_system,
                Recipient.external_id.in_([r.external_id for r in live]),
            )
        )
    }
    digests = {r.index: identity_fingerprint(cipher, _data(r)) for r in live}

    def unchanged(record: BulkRecord[RecipientBulkRecord]) -> bool:
        current = existing.get(record.external_id)
        if current is None or (index is not None and current.person_id is None):  # to link
            return False
        return _recipient_plain(cipher, current) == _incoming_plain(_data(record), digests[record.index])

    to_write = [r for r in live if not unchanged(r)]
    resolved: dict[int, uuid.UUID | PersonNotMatched] = {}
    if index is not None and to_write:
        # one record a person, keyed by homecare's blind index of the ID number
        resolved = await resolve_batch(
            index,
            cipher,
            {
                r.index: NamedPerson(
                    name=_data(r).name,
                    id_number=_data(r).id_number,
                    region_code=_data(r).region_code,
                    phone=_data(r).phone,
                    address=_data(r).address,
                )
                for r in to_write
            },
            source=index_source("homecare", source_system),
            max_records=max_records,
        )
    serving = {r.index: recipients.serving_institution(principal, _data(r)) for r in to_write}
    lookups = await recipients.load_registration(
        session,
        institution_ids=[i for i in serving.values() if i is not None],
        id_hashes=[cipher.lookup_hash(_data(r).id_number, "id_card") for r in to_write if serving[r.index]],
        person_ids=[p for p in resolved.values() if isinstance(p, uuid.UUID)],
    )
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    tracked: list[dict[str, Any]] = []
    previous_scopes: dict[uuid.UUID, changes.Scope] = {}

    def upsert(record: BulkRecord[RecipientBulkRecord]) -> None:
        data = _data(record)
        current = existing.get(record.external_id)
        after = _incoming_plain(data, digests[record.index])
        before: dict[str, Any] = {}
        if current is not None:
            _ensure_in_scope(principal, current.region_code)
            before = _recipient_plain(cipher, current)
            if unchanged(record):
                record.written(BulkOutcome.unchanged, id=current.id, version=current.version)
                return
        person = resolved.get(record.index)
        if isinstance(person, PersonNotMatched):
            record.reject(person.code, person.detail)
            return
        # the rule of POST /recipients
        columns = recipients.check_registration(
            principal,
            cipher,
            data,
            lookups,
            recipient_id=current.id if current is not None else None,
            person_id=person,
        )
        columns["identity_fingerprint"] = digests[record.index]
        if current is None:
            assert record.external_id is not None
            row = {
                "id": new_id(record.external_id) if new_id is not None else uuid.uuid4(),
                **columns,
                "source_system": source_system,
                "external_id": record.external_id,
                "created_by_sub": principal.sub,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            inserts.append(row)
            tracked.append(row)
            record.written(
                BulkOutcome.created, id=row["id"], version=1, changes=data.model_dump(exclude={"consent"})
            )
        else:
            row = {"_id": current.id, **{k: columns.get(k) for k in _RECIPIENT_MUTABLE}, "updated_at": now}
            row["version"] = current.version + 1
            updates.append(row)
            tracked.append({**_columns_of(current), **{k: v for k, v in row.items() if k != "_id"}})
            previous_scopes[current.id] = current.change_scope()
            record.written(
                BulkOutcome.updated,
                id=current.id,
                version=row["version"],
                changes=_changes(before, after, data),
            )
        if columns["institution_id"] is not None:  # a later record of the batch is a second registration
            written_id = record.id
            assert written_id is not None
            lookups.registered[(columns["institution_id"], recipients.registration_key(columns))] = written_id

    batch.check(upsert)

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
    audit_written(
        session, principal, batch, entity_type="recipient", personal_fields=recipients.PERSONAL_FIELDS
    )


# ------------------------------------------------------------------------------------------ orders

_ORDER_MUTABLE = (
    "window_start",
    "window_end",
    "address_enc",
    "region_code",
    "latitude",
    "longitude",
    "home_bed_id",
    "note",
    "items_total_yuan",
    "updated_at",
    "version",
)


def _order_plain(cipher: PersonalDataCipher, order: Order) -> dict[str, Any]:
    return {
        "window_start": order.window_start,
        "window_end": order.window_end,
        "address": cipher.decrypt(order.address_enc),
        "region_code": order.region_code,
        "latitude": order.latitude,
        "longitude": order.longitude,
        "home_bed_id": order.home_bed_id,
        "note": order.note,
        "item_codes": sorted(i.item_code for i in order.items),
    }


def _incoming_order(data: OrderBulkRecord, where: placement.ServiceAddress) -> dict[str, Any]:
    return {
        "window_start": data.window_start,
        "window_end": data.window_end,
        "address": where.address,
        "region_code": where.region_code,
        "latitude": where.latitude,
        "longitude": where.longitude,
        "home_bed_id": data.home_bed_id,
        "note": data.note,
        "item_codes": sorted(data.item_codes),
    }


async def named_recipients(
    session: AsyncSession,
    principal: Principal,
    source_system: str,
    records: Sequence[BulkRecord[Any]],
) -> tuple[dict[uuid.UUID, Recipient], dict[str | None, Recipient]]:
    """The recipients the records name (``recipient_id``, or ``recipient_external_id`` of the same
    source system) that the caller may see, as ``POST /orders`` finds them: by id, by external id."""
    by_id = {_data(r).recipient_id for r in records if _data(r).recipient_id}
    by_ext = {_data(r).recipient_external_id for r in records if _data(r).recipient_external_id}
    found = list(
        await session.scalars(
            select(Recipient).where(
                recipients.visible(principal),
                or_(
                    Recipient.id.in_(by_id),
                    and_(Recipient.source_system == source_system, Recipient.external_id.in_(by_ext)),
                ),
            )
        )
    )
    return (
        {r.id: r for r in found},
        {r.external_id: r for r in found if r.source_system == source_system},
    )


async def upsert_orders(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    settings: HomecareSettings,
    batch: Batch[OrderBulkRecord],
    *,
    new_id: Callable[[str], uuid.UUID] | None = None,
    index: PersonIndex | None = None,
) -> None:
    """``new_id``: the id a new order gets from its external id (an in-process loader keeping its own
    ids, e.g. the demo's); a random one otherwise. ``index``: the person index the linked recipients'
    home addresses are read from (one call a batch, before anything is written; 503 when down)."""
    batch.validate(OrderBulkRecord, exclude=())
    live = list(batch.live())
    if not live:
        return
    source_system = batch.source_system
    recipient_by_id, recipient_by_ext = await named_recipients(session, principal, source_system, live)
    persons = await identity.of_linked(
        index,
        cipher,
        {**recipient_by_id, **{r.id: r for r in recipient_by_ext.values()}}.values(),
        principal=principal,
        purpose="POST orders/bulk",
    )

    def home(recipient: Recipient | None) -> str | None:
        person = persons.get(recipient.id) if recipient is not None else None
        return person.address if person is not None else None

    lookups = await placement.load(
        session,
        institution_ids=[i for r in live if (i := _data(r).institution_id) is not None],
        item_codes=[c for r in live for c in _data(r).item_codes],
        home_bed_ids=[b for r in live if (b := _data(r).home_bed_id) is not None],
    )
    existing = {
        o.external_id: o
        for o in await session.scalars(
            select(Order)
            .where(Order.source_system == source_system, Order.external_id.in_([r.external_id for r in live]))
            .options(selectinload(Order.items))
        )
    }

    now = utcnow()
    moment = clock.now()
    order_inserts: list[dict[str, Any]] = []
    order_updates: list[dict[str, Any]] = []
    item_inserts: list[dict[str, Any]] = []
    replaced_items: list[uuid.UUID] = []
    event_inserts: list[dict[str, Any]] = []
    tracked_orders: list[dict[str, Any]] = []
    previous_scopes: dict[uuid.UUID, changes.Scope] = {}

    def upsert(record: BulkRecord[OrderBulkRecord]) -> None:
        data = _data(record)
        recipient = (
            recipient_by_id.get(data.recipient_id)
            if data.recipient_id
            else recipient_by_ext.get(data.recipient_external_id or "")
        )
        current = existing.get(record.external_id)
        before: dict[str, Any] = {}
        if current is not None:
            _ensure_in_scope(principal, current.region_code)
            if recipient is not None:
                if current.institution_id != data.institution_id or current.recipient_id != recipient.id:
                    raise ImmutableField()
                before = _order_plain(cipher, current)
                where = placement.service_address(data, recipient, cipher, home=home(recipient))
                if before == _incoming_order(data, where):
                    record.written(BulkOutcome.unchanged, id=current.id, version=current.version)
                    return
            if current.status is not OrderStatus.submitted:
                raise OrderAlreadyProcessed()
        # the rule of POST /orders
        placed = placement.check(
            principal, cipher, settings, data, recipient, lookups, now=moment, home=home(recipient)
        )
        if current is not None:
            order_id = current.id
        elif new_id is not None and record.external_id is not None:
            order_id = new_id(record.external_id)
        else:
            order_id = uuid.uuid4()
        common = {
            "window_start": data.window_start,
            "window_end": data.window_end,
            "address_enc": cipher.encrypt(placed.where.address),
            "region_code": placed.where.region_code,
            "latitude": placed.latitude,
            "longitude": placed.longitude,
            "home_bed_id": data.home_bed_id,
            "note": data.note,
            "items_total_yuan": placed.items_total_yuan,
            "updated_at": now,
        }
        if current is None:
            row = {
                "id": order_id,
                **common,
                "institution_id": placed.institution_id,
                "provider_name": placed.provider.institution_name,
                "recipient_id": placed.recipient.id,
                "catalog_version_id": placed.catalog_version.id,
                "catalog_version_code": placed.catalog_version.code,
                "status": OrderStatus.submitted,
                "placed_by_sub": principal.sub,
                "placed_by_role": principal.role.value,
                "source_system": source_system,
                "external_id": record.external_id,
                "requires_doctor": placed.requires_doctor,
                "visit_fee_yuan": placed.provider.visit_fee_yuan,
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
            placed_as = {
                **data.model_dump(exclude={"address", "external_id"}),
                "address": placed.where.address,
            }
            record.written(BulkOutcome.created, id=order_id, version=1, changes=placed_as)
        else:
            update_row = {"_id": order_id, **common, "version": current.version + 1}
            order_updates.append(update_row)
            tracked_orders.append(
                {**_columns_of(current), **{k: v for k, v in update_row.items() if k != "_id"}}
            )
            previous_scopes[order_id] = current.change_scope()
            replaced_items.append(order_id)
            after = _incoming_order(data, placed.where)
            record.written(
                BulkOutcome.updated,
                id=order_id,
                version=update_row["version"],
                changes=changed_fields(before, after),
            )
        for item, price in placed.items:
            item_inserts.append(
                {
                    "id": uuid.uuid4(),
                    "order_id": order_id,
                    "institution_id": placed.institution_id,
                    "region_code": placed.where.region_code,
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

    batch.check(upsert)

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
    _track(session, Order, tracked_orders, previous_scopes)
    _track(session, OrderItem, item_inserts)
    audit_written(session, principal, batch, entity_type="order", personal_fields=ORDER_PERSONAL_FIELDS)
