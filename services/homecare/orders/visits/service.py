"""Visit records from the nurse app (offline, retrying) and a nurse's own assignments.

A record is keyed by the app's ``record_id`` and ordered by its ``client_updated_at``: the same record
sent again is answered as it stands (never duplicated, with or without ``Idempotency-Key``), a newer
one replaces it, an older one is refused with the current state.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from libs.common import audit
from libs.common.auth import Principal
from libs.common.concurrency import if_match_allows
from libs.common.person_index import PersonIndex
from libs.common.personal_data import PersonalDataCipher, mask_name
from services.homecare import clock
from services.homecare.attachments import service as attachments
from services.homecare.catalog.templates import RecordTemplates, RecordValues, violations
from services.homecare.orders import fees
from services.homecare.orders.lifecycle import ensure_assigned_nurse
from services.homecare.orders.models import Order
from services.homecare.orders.transitions import ON_DUTY, VISIT_RECORD_OPEN
from services.homecare.orders.visits.errors import (
    ItemsNotInOrder,
    RecordTemplateUnknown,
    RecordTemplateViolation,
    StaleVisitRecord,
    VisitRecordClosed,
    VisitRecordExists,
    VisitRecordNotFound,
    VisitRecordVersionMismatch,
)
from services.homecare.orders.visits.models import VisitRecord
from services.homecare.orders.visits.schemas import (
    Assignment,
    ConsumableRead,
    VisitContent,
    VisitRecordRead,
    VisitRecordWrite,
    VitalSigns,
)
from services.homecare.recipients.identity import identities

Outcome = Literal["created", "updated", "unchanged"]
_VITALS = (
    "bp_systolic",
    "bp_diastolic",
    "pulse",
    "respiration_rate",
    "temperature_c",
    "spo2",
    "blood_glucose_mmol",
)


async def find(session: AsyncSession, order: Order) -> VisitRecord | None:
    return await session.scalar(select(VisitRecord).where(VisitRecord.order_id == order.id))


async def get(session: AsyncSession, order: Order) -> VisitRecord:
    record = await find(session, order)
    if record is None:
        raise VisitRecordNotFound()
    return record


def _current(record: VisitRecord) -> dict[str, Any]:
    return {
        "record_id": str(record.record_id),
        "client_updated_at": record.client_updated_at.isoformat(),
        "version": record.version,
    }


def check_items_done(data: VisitContent, order_item_codes: Collection[str]) -> None:
    """The items a record says were done must be items of the order."""
    unknown = sorted(set(data.items_done) - set(order_item_codes))
    if unknown:
        raise ItemsNotInOrder(unknown)


def check_template(templates: RecordTemplates, data: VisitContent, *, enforced: bool) -> str | None:
    """The template version ``data`` is checked against (None: not checked). Checked when ``enforced``,
    or when the record names a version or sends template fields; the version named (else the current
    one) must be known and not retired (422 ``record_template_unknown``), and each item done's fields,
    photo count and signature must pass (422 ``record_template_violation``, one error per field)."""
    if not enforced and data.template_version is None and not data.fields:
        return None
    name = data.template_version or templates.current
    if not templates.accepts(name):
        raise RecordTemplateUnknown(name, templates.current)
    values = RecordValues(
        vital_signs=data.vital_signs.model_dump(exclude_none=True),
        fields=dict(data.fields),
        photo_count=len(set(data.photo_sha256)),
        has_signature=data.signature_sha256 is not None,
    )
    errors = violations(templates.versions[name], sorted(set(data.items_done)), values)
    if errors:
        raise RecordTemplateViolation(name, errors)
    return name


def _columns(data: VisitRecordWrite) -> dict[str, Any]:
    return {
        "client_created_at": data.client_created_at,
        "client_updated_at": data.client_updated_at,
        **content_columns(data),
    }


def content_columns(data: VisitContent) -> dict[str, Any]:
    """The columns of what a record says (the nurse app's record and a historical import's alike)."""
    lines = [(c.qty, c.unit_price_yuan) for c in data.consumables]
    return {
        "items_done": sorted(data.items_done),
        **data.vital_signs.model_dump(),
        "consumables": [
            {"name": c.name, "qty": c.qty, "unit_price_yuan": str(c.unit_price_yuan)}
            for c in data.consumables
        ],
        "consumables_total_yuan": fees.consumables_total(lines),
        "notes": data.notes,
        "signature_sha256": data.signature_sha256,
        "photo_sha256": data.photo_sha256,
        "template_fields": dict(data.fields),
    }


async def submit(
    session: AsyncSession,
    principal: Principal,
    order: Order,
    data: VisitRecordWrite,
    if_match: str | None,
    *,
    templates: RecordTemplates,
    template_enforced: bool,
) -> tuple[VisitRecord, Outcome]:
    ensure_assigned_nurse(principal, order)
    check_items_done(data, [i.item_code for i in order.items])
    record = await find(session, order)
    if record is not None:
        if record.record_id != data.record_id:
            raise VisitRecordExists(_current(record))
        if if_match is not None and not if_match_allows(if_match, record.version):
            raise VisitRecordVersionMismatch(_current(record))
        if data.client_updated_at == record.client_updated_at:
            return record, "unchanged"
        if data.client_updated_at < record.client_updated_at:
            raise StaleVisitRecord(_current(record))
    if order.status not in VISIT_RECORD_OPEN:
        raise VisitRecordClosed({"status": order.status.value, "version": order.version})
    # the setting applies to new records and to those already checked (a record stored before the
    # templates may be updated as it was written)
    enforced = template_enforced and (record is None or record.template_version is not None)
    template_version = check_template(templates, data, enforced=enforced)
    await attachments.ensure_uploaded(session, [data.signature_sha256, *data.photo_sha256])
    columns = {**_columns(data), "template_version": template_version}
    if record is None:
        record = VisitRecord(
            order_id=order.id,
            record_id=data.record_id,
            institution_id=order.institution_id,
            region_code=order.region_code,
            practitioner_id=order.nurse_practitioner_id,
            **columns,
        )
        session.add(record)
        outcome: Outcome = "created"
    else:
        for key, value in columns.items():
            setattr(record, key, value)
        outcome = "updated"
    await session.flush()
    audit.record(
        session,
        principal,
        action=f"visit_record.{'create' if outcome == 'created' else 'update'}",
        entity_type="visit_record",
        entity_id=record.id,
        changes={
            "order_id": order.id,
            "items_done": columns["items_done"],
            "template_version": template_version,
        },
    )
    return record, outcome


def to_read(record: VisitRecord) -> VisitRecordRead:
    return VisitRecordRead(
        id=record.id,
        order_id=record.order_id,
        record_id=record.record_id,
        practitioner_id=record.practitioner_id,
        client_created_at=record.client_created_at,
        client_updated_at=record.client_updated_at,
        items_done=list(record.items_done),
        vital_signs=VitalSigns(**{k: getattr(record, k) for k in _VITALS}),
        consumables=[
            ConsumableRead(
                name=c["name"],
                qty=c["qty"],
                unit_price_yuan=Decimal(c["unit_price_yuan"]),
                line_total_yuan=fees.consumable_line(c["qty"], Decimal(c["unit_price_yuan"])),
            )
            for c in record.consumables
        ],
        consumables_total_yuan=record.consumables_total_yuan,
        notes=record.notes,
        signature_sha256=record.signature_sha256,
        photo_sha256=list(record.photo_sha256),
        template_version=record.template_version,
        fields=dict(record.template_fields or {}),
        version=record.version,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


async def my_assignments(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    *,
    days: int,
    index: PersonIndex | None,
) -> list[Assignment]:
    """The calling nurse's visits from today (Asia/Shanghai) for ``days`` days, still on duty; the
    recipients' names (masked) from the person index in one call."""
    if principal.practitioner_id is None or principal.institution_id is None:
        return []
    start = clock.start_of_day(clock.today())
    end = start + timedelta(days=days)
    rows = await session.scalars(
        select(Order)
        .where(
            Order.nurse_practitioner_id == principal.practitioner_id,
            Order.institution_id == principal.institution_id,
            Order.status.in_([s.value for s in ON_DUTY]),
            Order.window_start < end,
            Order.window_end >= start,
        )
        .options(selectinload(Order.items), selectinload(Order.recipient))
        .order_by(Order.window_start, Order.id)
        .limit(200)
    )
    orders = list(rows)
    found = await identities(
        index,
        cipher,
        {o.recipient_id: o.recipient for o in orders}.values(),
        principal=principal,
        purpose="GET my assignments",
        required=False,
    )
    names = {rid: (person.name if person is not None else None) for rid, person in found.items()}
    return [
        Assignment(
            order_id=o.id,
            status=o.status,
            window_start=o.window_start,
            window_end=o.window_end,
            region_code=o.region_code,
            recipient_name=mask_name(names[o.recipient_id]) if names.get(o.recipient_id) else None,
            item_codes=[i.item_code for i in o.items],
            item_names=[i.item_name for i in o.items],
            flagged=o.flagged,
            version=o.version,
        )
        for o in orders
    ]
