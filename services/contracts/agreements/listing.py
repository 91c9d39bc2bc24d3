"""The agreement list on the row path (issue 16; libs/common/row_pages.py): one statement, Core rows, the
page written by pydantic-core in one call — the bytes ``Page[AgreementRead]`` of :func:`service.present`
(contacts masked, as lists never disclose them) would make of the ORM page it replaced
(``tests/contracts/agreements/list_reference.py``); ``tests/contracts/agreements/test_list_rows.py``
compares them for every reading role and filter."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth import Principal
from libs.common.pagination import PageParams
from libs.common.personal_data import PersonalDataCipher, mask_phone
from libs.common.row_pages import RowShape, paginate_rows
from services.contracts.agreements import lifecycle, service
from services.contracts.agreements.models import (
    AGREEMENT_STATE_LABELS,
    FEE_PAYER_LABELS,
    SERVICE_KIND_LABELS,
    Agreement,
    AgreementState,
)
from services.contracts.agreements.schemas import AgreementRead


@dataclass(frozen=True, slots=True)
class ListContext:
    today: date
    cipher: PersonalDataCipher


def _party(side: str) -> Any:
    def derive(item: dict[str, Any], _: ListContext) -> dict[str, Any]:
        return {
            "institution_id": item[f"{side}_institution_id"],
            "name": item[f"{side}_name"],
            "region_code": item[f"{side}_region_code"],
        }

    return derive


def _contact(side: str) -> Any:
    """Masked always (:func:`service.present` with ``disclose`` false)."""

    def derive(item: dict[str, Any], context: ListContext) -> dict[str, Any] | None:
        name, phone = item[f"{side}_contact_name"], item[f"{side}_contact_phone_enc"]
        if name is None and phone is None:
            return None
        return {"name": name, "phone": mask_phone(context.cipher.decrypt(phone))}

    return derive


def _status(item: dict[str, Any], context: ListContext) -> AgreementState:
    return lifecycle.effective_status(item["state"], item["start_date"], item["end_date"], context.today)


def _document(item: dict[str, Any], _: ListContext) -> dict[str, Any] | None:
    if item["document_sha256"] is None:
        return None
    return {
        "filename": item["document_filename"] or "agreement.pdf",
        "size_bytes": item["document_size_bytes"] or 0,
        "sha256": item["document_sha256"],
        "uploaded_at": item["document_uploaded_at"] or item["updated_at"],
    }


#: one agreement of the list from its table row (the whole table: SQLAlchemy keys the statement's cache
#: by it). Derivations run in this order: ``status`` before what depends on it.
LIST_SHAPE: RowShape[ListContext] = RowShape(
    AgreementRead,
    Agreement.__table__,
    {
        "status": _status,
        "allowed_actions": lambda item, _: list(lifecycle.ALLOWED_ACTIONS[item["status"]]),
        "medical_party": _party("medical"),
        "elderly_party": _party("elderly"),
        "medical_contact": _contact("medical"),
        "elderly_contact": _contact("elderly"),
        "document": _document,
        "status_label": lambda item, _: AGREEMENT_STATE_LABELS[item["status"]],
        "service_labels": lambda item, _: [SERVICE_KIND_LABELS[s] for s in item["services"]],
        "visit_frequency_label": lambda item, _: f"{item['visit_period'].label} {item['visit_count']} 次",
        "fee_payer_label": lambda item, _: FEE_PAYER_LABELS[item["fee_payer"]],
    },
)

#: built once: constructing the select costs more than the rest of the statement
_LIST_SELECT = LIST_SHAPE.select()


async def list_rows(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    today: date,
    status: AgreementState | None = None,
    institution_id: uuid.UUID | None = None,
    region_code: str | None = None,
    ending_before: date | None = None,
    awaiting_filing: bool = False,
) -> tuple[Sequence[Row[Any]], str | None]:
    """The list's page (``service.list_conditions``) as rows of :data:`LIST_SHAPE`'s columns (one
    statement)."""
    conditions = service.list_conditions(
        principal,
        today=today,
        status=status,
        institution_id=institution_id,
        region_code=region_code,
        ending_before=ending_before,
        awaiting_filing=awaiting_filing,
    )
    stmt = _LIST_SELECT.where(*conditions)
    return await paginate_rows(session, stmt, order_by=[Agreement.id], params=params)
