"""The nurse's day bundle: her assignments from today (Asia/Shanghai) for ``days`` days, each with the
order, the served person's whole contact (:mod:`.people`), the notes she needs, the catalog items, and
where to start following her order events — in a fixed number of statements whatever the count."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from libs.common.auth import Principal
from libs.common.change_feed import encode_seq_cursor
from libs.common.errors import NotFound
from libs.common.person_index import PersonIndex
from libs.common.personal_data import PersonalDataCipher
from services.homecare import clock
from services.homecare.catalog.models import CatalogItem
from services.homecare.catalog.templates import RecordTemplates
from services.homecare.events.models import OrderNotice
from services.homecare.events.service import visible
from services.homecare.nurse import people
from services.homecare.nurse.schemas import (
    DISABILITY_SOURCE_LABELS,
    BundleAssessment,
    BundleAssignment,
    BundleCatalogItem,
    BundleNotes,
    BundleOrder,
    BundlePerson,
    BundleTemplates,
    NurseBundle,
)
from services.homecare.orders.models import Order
from services.homecare.recipients.models import DISABILITY_LABELS
from services.homecare.settings import HomecareSettings

#: the most assignments one bundle carries (a nurse's two days hold a dozen or so)
MAX_ASSIGNMENTS = 200


class NotANurse(NotFound):
    default_code = "nurse_not_found"

    def __init__(self) -> None:
        super().__init__("调用者不是护士，没有派单")


async def build(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    settings: HomecareSettings,
    *,
    days: int,
    templates: RecordTemplates,
    index: PersonIndex | None,
) -> NurseBundle:
    """The calling nurse's own bundle (nobody else's can be asked for). Every order assigned to her whose
    window touches the days is in it, whatever its state (a cancelled one shows as cancelled); an order
    taken back from her (unassign) is not hers any more."""
    nurse, institution = principal.practitioner_id, principal.institution_id
    if nurse is None or institution is None:
        raise NotANurse()
    first = clock.today()
    start = clock.start_of_day(first)
    end = start + timedelta(days=days)
    orders = list(
        (
            await session.scalars(
                select(Order)
                .where(
                    Order.nurse_practitioner_id == nurse,
                    Order.institution_id == institution,
                    # on ix_service_order_nurse_window: a window is at most order_max_window_hours long
                    Order.window_start >= start - timedelta(hours=settings.order_max_window_hours),
                    Order.window_start < end,
                    Order.window_end > start,
                )
                .options(selectinload(Order.items), selectinload(Order.recipient))
                .order_by(Order.window_start, Order.id)
                .limit(MAX_ASSIGNMENTS)
            )
        ).all()
    )
    wanted = sorted({(o.catalog_version_id, i.item_code) for o in orders for i in o.items})
    catalog: list[CatalogItem] = []
    if wanted:
        catalog = list(
            (
                await session.scalars(
                    select(CatalogItem)
                    .where(tuple_(CatalogItem.catalog_version_id, CatalogItem.code).in_(wanted))
                    .order_by(CatalogItem.code)
                )
            ).all()
        )
    version_codes = {o.catalog_version_id: o.catalog_version_code for o in orders}
    current = templates.current_version
    last_seq = await session.scalar(select(func.max(OrderNotice.seq)).where(visible(principal)))
    contacts = await people.contacts(
        index, cipher, {o.recipient.id: o.recipient for o in orders}.values(), principal=principal
    )
    return NurseBundle(
        nurse_practitioner_id=nurse,
        from_date=first,
        to_date=first + timedelta(days=days - 1),
        events_cursor=encode_seq_cursor(last_seq or 0),
        assignments=[_assignment(o, cipher, contacts[o.recipient_id]) for o in orders],
        catalog_items=[
            BundleCatalogItem(
                catalog_version_code=version_codes[item.catalog_version_id],
                code=item.code,
                name=item.name,
                category=item.category,
                description=item.description,
                risk=item.risk,
                needs_medical_order=item.needs_medical_order,
                needs_specialist_training=item.needs_specialist_training,
                required_title=item.required_title,
            )
            for item in catalog
        ],
        record_templates=BundleTemplates(
            version=current.version,
            base=current.base,
            items={c: current.items[c] for c in sorted({c for _, c in wanted}) if c in current.items},
        ),
    )


def _assignment(order: Order, cipher: PersonalDataCipher, contact: people.PersonContact) -> BundleAssignment:
    recipient = order.recipient
    return BundleAssignment(
        order=BundleOrder(
            id=order.id,
            status=order.status,
            version=order.version,
            window_start=order.window_start,
            window_end=order.window_end,
            catalog_version_code=order.catalog_version_code,
            item_codes=[i.item_code for i in order.items],
            address=cipher.decrypt(order.address_enc),
            latitude=order.latitude,
            longitude=order.longitude,
            flagged=order.flagged,
        ),
        person=BundlePerson(
            recipient_id=recipient.id,
            name=contact.name,
            phone=contact.phone,
            # the person's address, else where this order is given (a person index entry without one)
            home_address=contact.address or cipher.decrypt(order.address_enc),
        ),
        notes=_notes(order, contact),
    )


def _notes(order: Order, contact: people.PersonContact) -> BundleNotes:
    """The current disability level: the person's latest ability assessment (issue 19), else — a person
    never assessed, or a recipient not linked yet — the declared level, marked so."""
    recipient = order.recipient
    assessed = contact.assessment
    level = assessed.level if assessed is not None else recipient.disability_level
    source: Literal["assessment", "declared"] = "assessment" if assessed is not None else "declared"
    return BundleNotes(
        disability_level=level,
        disability_label=DISABILITY_LABELS[level],
        disability_source=source,
        disability_source_label=DISABILITY_SOURCE_LABELS[source],
        assessment=None
        if assessed is None
        else BundleAssessment(
            id=assessed.id,
            assessed_date=assessed.assessed_date,
            level=assessed.level,
            level_label=assessed.level_label,
            scale_version=assessed.scale_version,
        ),
        dementia=recipient.dementia,
        chronic_diseases=list(recipient.chronic_diseases or []),
        order_note=order.note,
    )
