"""The order list on the row path (issue 16; libs/common/row_pages.py): one statement, Core rows, the page
written by pydantic-core in one call — the bytes ``Page[OrderSummary]`` of the ORM path it replaced
would make (``tests/homecare/orders/list_reference.py`` keeps that path as the reference;
``tests/homecare/orders/test_list_rows.py`` compares them for every reading role and filter).

The statement reads each order's columns, its recipient's name sources (person id, the unlinked copy's
encrypted name) by a join, and its item codes as a JSON array aggregated in a correlated subquery,
ordered by code as the ORM relationship orders them — where the model path made four statements
(the orders, then their items, recipients and ratings by ``selectinload``). The recipients' names come
from the person index in one call a page (:func:`recipients.identity.names`), masked as before: a list
never shows personal data beyond the masked name.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Row, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction

from libs.common.auth import Principal
from libs.common.pagination import PageParams
from libs.common.person_index import PersonIndex
from libs.common.personal_data import PersonalDataCipher, mask_name
from libs.common.row_pages import RowShape, paginate_rows
from services.homecare.orders import fees, service
from services.homecare.orders.models import STATUS_LABELS, Order, OrderItem, OrderStatus
from services.homecare.orders.schemas import OrderSummary
from services.homecare.recipients.identity import NameSource, names
from services.homecare.recipients.models import Recipient


class _ItemCodes(GenericFunction[list[str]]):
    """The order's item codes, ordered by code, as a JSON array (``[]`` for none): PostgreSQL orders
    the aggregate itself; SQLite (3.40 here: no ``ORDER BY`` inside an aggregate) aggregates an ordered
    subquery, which it does not flatten into an aggregate query, so the order holds."""

    type = JSON()
    inherit_cache = True
    name = "order_item_codes"


@compiles(_ItemCodes, "postgresql")
def _item_codes_postgresql(element: _ItemCodes, compiler: SQLCompiler, **kw: Any) -> str:
    codes = (
        select(
            func.coalesce(
                func.json_agg(aggregate_order_by(OrderItem.item_code, OrderItem.item_code)),
                literal_column("'[]'::json"),
            )
        )
        .where(OrderItem.order_id == Order.id)
        .scalar_subquery()
    )
    return compiler.process(codes, **kw)


@compiles(_ItemCodes)
def _item_codes_sqlite(element: _ItemCodes, compiler: SQLCompiler, **kw: Any) -> str:
    ordered = (
        select(OrderItem.item_code)
        .where(OrderItem.order_id == Order.id)
        .order_by(OrderItem.item_code)
        .correlate(Order)
        .subquery()
    )
    codes = select(func.json_group_array(ordered.c.item_code)).scalar_subquery()
    return compiler.process(codes, **kw)


@dataclass(frozen=True, slots=True)
class ListContext:
    #: recipient id → the whole name (None: the person index did not answer)
    names: Mapping[uuid.UUID, str | None]


def _recipient_name(item: dict[str, Any], context: ListContext) -> str | None:
    name = context.names.get(item["recipient_id"])
    return mask_name(name) if name is not None else None


def _total(item: dict[str, Any], _: ListContext) -> Any:
    """:func:`service.order_fees`'s total: the fixed one once fixed, else items and visit fee."""
    if item["fees_fixed_at"] is not None and item["fixed_total_yuan"] is not None:
        return item["fixed_total_yuan"]
    return fees.total(item["items_total_yuan"], item["visit_fee_yuan"], None)


#: one order of the list from its row
LIST_SHAPE: RowShape[ListContext] = RowShape(
    OrderSummary,
    [
        Order.id,
        Order.institution_id,
        Order.provider_name,
        Order.region_code,
        Order.recipient_id,
        Order.status,
        Order.window_start,
        Order.window_end,
        _ItemCodes().label("item_codes"),
        Order.nurse_practitioner_id,
        Order.home_bed_id,
        Order.flagged,
        Order.flag_reasons.label("stored_flag_reasons"),
        Order.version,
        Order.created_at,
        Order.items_total_yuan,
        Order.visit_fee_yuan,
        Order.total_yuan.label("fixed_total_yuan"),
        Order.fees_fixed_at,
        Recipient.person_id.label("recipient_person_id"),
        Recipient.name_enc.label("recipient_name_enc"),
        Recipient.id_number_enc.label("recipient_id_number_enc"),
    ],
    {
        "recipient_name": _recipient_name,
        "flag_reasons": lambda item, _: list(item["stored_flag_reasons"] or []),
        "total_yuan": _total,
        "status_label": lambda item, _: STATUS_LABELS[item["status"]],
    },
)

#: built once: constructing the select costs more than the rest of the statement
_LIST_SELECT = LIST_SHAPE.select().select_from(Order).join(Recipient, Recipient.id == Order.recipient_id)


async def list_rows(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    status: OrderStatus | None = None,
    flagged: bool | None = None,
    institution_id: uuid.UUID | None = None,
    region_code: str | None = None,
    recipient_id: uuid.UUID | None = None,
    home_bed_id: uuid.UUID | None = None,
) -> tuple[Sequence[Row[Any]], str | None]:
    """The list's page (``service.list_conditions``) as rows of :data:`LIST_SHAPE`'s columns (one
    statement)."""
    conditions = service.list_conditions(
        principal,
        status=status,
        flagged=flagged,
        institution_id=institution_id,
        region_code=region_code,
        recipient_id=recipient_id,
        home_bed_id=home_bed_id,
    )
    return await paginate_rows(session, _LIST_SELECT.where(*conditions), order_by=[Order.id], params=params)


async def context(
    index: PersonIndex | None,
    cipher: PersonalDataCipher,
    rows: Sequence[Row[Any]],
    *,
    principal: Principal,
    purpose: str,
) -> ListContext:
    """The page's recipients' names (one call to the person index for the linked ones)."""
    sources = (
        NameSource(
            row.recipient_id, row.recipient_person_id, row.recipient_name_enc, row.recipient_id_number_enc
        )
        for row in rows
    )
    return ListContext(names=await names(index, cipher, sources, principal=principal, purpose=purpose))
