"""Orders: placing, reading and listing (the lifecycle lives in :mod:`.lifecycle`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from libs.common import audit
from libs.common.auth import Principal
from libs.common.person_index import PersonIndex
from libs.common.personal_data import PersonalDataCipher, mask_address, mask_name
from libs.common.scope import visible_condition
from services.homecare import clock
from services.homecare.catalog.models import CatalogItem
from services.homecare.orders import fees, placement
from services.homecare.orders.errors import OrderNotFound
from services.homecare.orders.models import Order, OrderEvent, OrderItem, OrderStatus
from services.homecare.orders.schemas import (
    Fees,
    OrderCreate,
    OrderItemRead,
    OrderRead,
    RatingRead,
)
from services.homecare.orders.transitions import allowed_actions
from services.homecare.providers.models import ProviderItem
from services.homecare.recipients import service as recipients
from services.homecare.recipients.identity import identities, identity
from services.homecare.settings import HomecareSettings

ORDER_PERSONAL_FIELDS = ("address", "latitude", "longitude")


def _loaded(stmt: Select[Order]) -> Select[Order]:
    return stmt.options(selectinload(Order.items), selectinload(Order.recipient), selectinload(Order.rating))


async def get(session: AsyncSession, principal: Principal, order_id: uuid.UUID) -> Order:
    order = await session.scalar(
        _loaded(
            select(Order).where(
                Order.id == order_id, visible_condition(principal, Order.region_code, Order.institution_id)
            )
        )
    )
    if order is None:
        raise OrderNotFound()
    return order


async def reload(session: AsyncSession, order_id: uuid.UUID) -> Order:
    """The order with its relations after a write (relations are not lazily loadable)."""
    session.expire_all()
    order = await session.scalar(
        _loaded(select(Order).where(Order.id == order_id)).execution_options(populate_existing=True)
    )
    assert order is not None
    return order


def list_conditions(
    principal: Principal,
    *,
    status: OrderStatus | None = None,
    flagged: bool | None = None,
    institution_id: uuid.UUID | None = None,
    region_code: str | None = None,
    recipient_id: uuid.UUID | None = None,
    home_bed_id: uuid.UUID | None = None,
) -> list[ColumnElement[bool]]:
    """The list's WHERE: what ``principal`` reads, narrowed by the query's filters."""
    conditions = [visible_condition(principal, Order.region_code, Order.institution_id)]
    if status is not None:
        conditions.append(Order.status == status)
    if flagged is True:
        conditions += [Order.flagged.is_(True), Order.flag_reviewed_at.is_(None)]
    elif flagged is False:
        conditions.append(Order.flagged.is_(False))
    if institution_id is not None:
        conditions.append(Order.institution_id == institution_id)
    if region_code is not None:
        conditions.append(Order.region_code == region_code)
    if recipient_id is not None:
        conditions.append(Order.recipient_id == recipient_id)
    if home_bed_id is not None:
        conditions.append(Order.home_bed_id == home_bed_id)
    return conditions


def is_provider_user(principal: Principal, order: Order) -> bool:
    return principal.is_institution_user and principal.institution_id == order.institution_id


async def place(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    settings: HomecareSettings,
    data: OrderCreate,
    *,
    index: PersonIndex | None,
) -> Order:
    """Place one order: the rule of :mod:`.placement` (the bulk calls the same), written by the ORM. An
    order without its own address is given at the person's home, read from the person index (503
    ``residents_unavailable`` when it cannot be reached)."""
    institution_id = placement.serving_institution(principal, data)
    lookups = await placement.load(
        session,
        institution_ids=[institution_id] if institution_id is not None else [],
        item_codes=data.item_codes,
        home_bed_ids=[data.home_bed_id] if data.home_bed_id is not None else [],
    )
    recipient = await recipients.find_visible(session, principal, data.recipient_id)
    home = None
    if recipient is not None and recipient.person_id is not None and data.address is None:
        home = (await identity(index, cipher, recipient, principal=principal, purpose="POST order")).address
    placed = placement.check(
        principal, cipher, settings, data, recipient, lookups, now=clock.now(), home=home
    )
    order = Order(
        institution_id=placed.institution_id,
        provider_name=placed.provider.institution_name,
        region_code=placed.where.region_code,
        recipient_id=placed.recipient.id,
        home_bed_id=data.home_bed_id,
        catalog_version_id=placed.catalog_version.id,
        catalog_version_code=placed.catalog_version.code,
        status=OrderStatus.submitted,
        window_start=data.window_start,
        window_end=data.window_end,
        address_enc=cipher.encrypt(placed.where.address),
        latitude=placed.latitude,
        longitude=placed.longitude,
        note=data.note,
        placed_by_sub=principal.sub,
        placed_by_role=principal.role.value,
        requires_doctor=placed.requires_doctor,
        visit_fee_yuan=placed.provider.visit_fee_yuan,
        items_total_yuan=placed.items_total_yuan,
        flag_reasons=[],
    )
    session.add(order)
    await session.flush()
    session.add_all(item_rows(order, placed.items))
    session.add(
        OrderEvent(
            order_id=order.id, action="submit", to_status=OrderStatus.submitted.value, actor_sub=principal.sub
        )
    )
    await session.flush()
    audit.record(
        session,
        principal,
        action="order.place",
        entity_type="order",
        entity_id=order.id,
        changes={**data.model_dump(exclude={"address"}), "address": placed.where.address},
        personal_fields=ORDER_PERSONAL_FIELDS,
    )
    return order


def item_rows(order: Order, pairs: Sequence[tuple[CatalogItem, ProviderItem]]) -> list[OrderItem]:
    rows = []
    for item, price in pairs:
        rows.append(
            OrderItem(
                order_id=order.id,
                institution_id=order.institution_id,
                region_code=order.region_code,
                item_code=item.code,
                item_name=item.name,
                risk=item.risk,
                needs_medical_order=item.needs_medical_order,
                needs_specialist_training=item.needs_specialist_training,
                required_title=item.required_title,
                price_yuan=price.price_yuan,
            )
        )
    return rows


def order_fees(order: Order) -> Fees:
    fixed = order.fees_fixed_at is not None
    return Fees(
        items_total_yuan=order.items_total_yuan,
        visit_fee_yuan=order.visit_fee_yuan,
        consumables_total_yuan=order.consumables_total_yuan,
        total_yuan=order.total_yuan
        if fixed and order.total_yuan is not None
        else fees.total(order.items_total_yuan, order.visit_fee_yuan, None),
        fixed=fixed,
    )


async def recipient_names(
    index: PersonIndex | None,
    cipher: PersonalDataCipher,
    orders: Iterable[Order],
    *,
    principal: Principal,
    purpose: str,
) -> dict[uuid.UUID, str | None]:
    """The recipients' names (whole; :func:`to_read` masks them) by recipient id, from the person index in
    one call (None where it cannot be reached: the orders still answer)."""
    recipients = {o.recipient_id: o.recipient for o in orders}
    found = await identities(
        index, cipher, recipients.values(), principal=principal, purpose=purpose, required=False
    )
    return {rid: (person.name if person is not None else None) for rid, person in found.items()}


def to_read(order: Order, cipher: PersonalDataCipher, *, whole: bool, name: str | None) -> OrderRead:
    """``name``: the recipient's (:func:`recipient_names`), masked here unless ``whole``."""
    address = cipher.decrypt(order.address_enc)
    return OrderRead(
        id=order.id,
        institution_id=order.institution_id,
        provider_name=order.provider_name,
        region_code=order.region_code,
        recipient_id=order.recipient_id,
        recipient_name=name if whole or name is None else mask_name(name),
        address=address if whole else mask_address(address),
        latitude=order.latitude if whole else None,
        longitude=order.longitude if whole else None,
        disclosed=whole,
        home_bed_id=order.home_bed_id,
        catalog_version_code=order.catalog_version_code,
        status=order.status,
        allowed_actions=allowed_actions(order.status),
        window_start=order.window_start,
        window_end=order.window_end,
        items=[OrderItemRead.model_validate(i) for i in order.items],
        requires_doctor=order.requires_doctor,
        service_group=order.service_group,
        assessment_note=order.assessment_note,
        assessed_by_practitioner_id=order.assessed_by_practitioner_id,
        assessed_at=order.assessed_at,
        decision_reason=order.decision_reason,
        nurse_practitioner_id=order.nurse_practitioner_id,
        assigned_at=order.assigned_at,
        en_route_at=order.en_route_at,
        checked_in_at=order.checked_in_at,
        in_service_at=order.in_service_at,
        checked_out_at=order.checked_out_at,
        completed_at=order.completed_at,
        rated_at=order.rated_at,
        ended_at=order.ended_at,
        end_reason=order.end_reason,
        response_minutes=order.response_minutes,
        flagged=order.flagged,
        flag_reasons=list(order.flag_reasons or []),
        flag_reviewed_at=order.flag_reviewed_at,
        fees=order_fees(order),
        rating=RatingRead.model_validate(order.rating) if order.rating else None,
        placed_by_role=order.placed_by_role,
        source_system=order.source_system,
        external_id=order.external_id,
        version=order.version,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )
