"""Agreements: the service layer (flushes, never commits)."""

from __future__ import annotations

import calendar
import hashlib
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import audit, divisions
from libs.common.auth import Principal
from libs.common.errors import IllegalTransition, Unprocessable
from libs.common.personal_data import PersonalDataCipher, mask_phone
from libs.common.scope import can_see, regions_condition, visible_condition
from services.contracts.agreements import lifecycle, pairs
from services.contracts.agreements.errors import (
    AgreementNotFound,
    AlreadyFiled,
    AlreadyRenewed,
    CountersignBySameParty,
    DocumentNotFound,
    DocumentNotPdf,
    DocumentTooLarge,
    DuplicateAgreement,
    NotAParty,
    NotFileable,
    OutOfScope,
    PartyInvalid,
    TermInvalid,
)
from services.contracts.agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementState,
    ServiceKind,
)
from services.contracts.agreements.schemas import (
    AgreementCreate,
    AgreementRead,
    AgreementTerms,
    AgreementUpdate,
    Contact,
    ContactRead,
    DocumentRead,
    File,
    PartyRead,
    Renew,
    Terminate,
)
from services.contracts.clients.registry import (
    ELDERLY_CARE_KINDS,
    MEDICAL_KIND,
    RegistryClient,
    RegistryInstitution,
)
from services.contracts.clock import Clock

S = AgreementState
ENTITY = "agreement"
PERSONAL_FIELDS = ("medical_contact_phone", "elderly_contact_phone")
PDF_MAGIC = b"%PDF-"
#: the terms of an agreement: what a draft edit, a renewal and a bulk update write (and the feed carries)
TERM_FIELDS = (
    "services",
    "visit_count",
    "visit_period",
    "visit_staff",
    "green_channel_terms",
    "referral_terms",
    "fee_payer",
    "fee_amount_yuan",
    "fee_terms",
    "medical_duties",
    "elderly_duties",
    "change_terms",
    "dispute_terms",
    "start_date",
    "end_date",
)


# ------------------------------------------------------------------------------------------ reading


#: an agreement is read in its elderly-care party's county (where it belongs) and its medical party's
REGION_COLUMNS = (Agreement.region_code, Agreement.medical_region_code)


def visible(principal: Principal) -> Any:
    """What ``principal`` reads: agreements of which either party's county lies in its region, or (an
    institution user) those its institution is a party to."""
    return visible_condition(
        principal, REGION_COLUMNS, [Agreement.medical_institution_id, Agreement.elderly_institution_id]
    )


def in_region(region_code: str) -> Any:
    """Agreements of which either party's county lies in ``region_code`` (any level); 422 if unknown."""
    try:
        scope = divisions.RegionScope.for_region(region_code)
    except ValueError:
        raise Unprocessable("未知的行政区划代码", code="unknown_region") from None
    return regions_condition(scope.prefix, scope.excluded, REGION_COLUMNS)


def is_party(principal: Principal, agreement: Agreement) -> bool:
    return principal.is_institution_user and principal.institution_id in (
        agreement.medical_institution_id,
        agreement.elderly_institution_id,
    )


async def get(session: AsyncSession, principal: Principal, agreement_id: uuid.UUID) -> Agreement:
    agreement = await session.get(Agreement, agreement_id)
    if agreement is None or not can_see(
        principal,
        region_code=agreement.region_code,
        institution_ids=[agreement.medical_institution_id, agreement.elderly_institution_id],
        other_region_codes=[agreement.medical_region_code],
    ):
        raise AgreementNotFound()
    return agreement


async def get_as_party(session: AsyncSession, principal: Principal, agreement_id: uuid.UUID) -> Agreement:
    agreement = await get(session, principal, agreement_id)
    if not is_party(principal, agreement):
        raise NotAParty()
    return agreement


async def get_to_file(session: AsyncSession, principal: Principal, agreement_id: uuid.UUID) -> Agreement:
    """An agreement the caller may file (备案): one of its county (the elderly-care party's). The medical
    party's county reads it (404 elsewhere) but does not file it (403 ``out_of_scope``)."""
    agreement = await get(session, principal, agreement_id)
    if principal.is_institution_user or not principal.scope.contains(agreement.region_code):
        raise OutOfScope()
    return agreement


def list_conditions(
    principal: Principal,
    *,
    today: date,
    status: AgreementState | None = None,
    institution_id: uuid.UUID | None = None,
    region_code: str | None = None,
    ending_before: date | None = None,
    awaiting_filing: bool = False,
) -> list[Any]:
    """The list's WHERE: what ``principal`` reads, narrowed by the query's filters."""
    conditions = [visible(principal)]
    if awaiting_filing:
        # signed and not yet filed; an official sees those its region files (the elderly-care party's
        # county, as POST /file requires), not its hospitals' agreements with other counties' homes
        conditions += [
            Agreement.state.in_([S.countersigned, S.active, S.expired]),
            Agreement.filed_at.is_(None),
            visible_condition(
                principal,
                Agreement.region_code,
                [Agreement.medical_institution_id, Agreement.elderly_institution_id],
            ),
        ]
    if status is not None:
        conditions.append(lifecycle.status_condition(status, today))
    if institution_id is not None:
        conditions.append(
            or_(
                Agreement.medical_institution_id == institution_id,
                Agreement.elderly_institution_id == institution_id,
            )
        )
    if region_code is not None:
        conditions.append(in_region(region_code))
    if ending_before is not None:
        conditions.append(Agreement.end_date <= ending_before)
    return conditions


def _contact(
    name: str | None, phone: bytes | None, cipher: PersonalDataCipher, whole: bool
) -> ContactRead | None:
    if name is None and phone is None:
        return None
    plain = cipher.decrypt(phone)
    return ContactRead(name=name, phone=plain if whole else mask_phone(plain))


def present(
    agreement: Agreement, *, today: date, cipher: PersonalDataCipher, disclose: bool = False
) -> AgreementRead:
    status = lifecycle.effective_status(agreement.state, agreement.start_date, agreement.end_date, today)
    document = None
    if agreement.document_sha256 is not None:
        document = DocumentRead(
            filename=agreement.document_filename or "agreement.pdf",
            size_bytes=agreement.document_size_bytes or 0,
            sha256=agreement.document_sha256,
            uploaded_at=agreement.document_uploaded_at or agreement.updated_at,
        )
    return AgreementRead(
        id=agreement.id,
        title=agreement.title,
        medical_party=PartyRead(
            institution_id=agreement.medical_institution_id,
            name=agreement.medical_name,
            region_code=agreement.medical_region_code,
        ),
        elderly_party=PartyRead(
            institution_id=agreement.elderly_institution_id,
            name=agreement.elderly_name,
            region_code=agreement.elderly_region_code,
        ),
        elderly_kind=agreement.elderly_kind,
        region_code=agreement.region_code,
        state=agreement.state,
        status=status,
        allowed_actions=list(lifecycle.ALLOWED_ACTIONS[status]),
        services=[ServiceKind(s) for s in agreement.services],
        visit_count=agreement.visit_count,
        visit_period=agreement.visit_period,
        visit_staff=agreement.visit_staff,
        green_channel_terms=agreement.green_channel_terms,
        referral_terms=agreement.referral_terms,
        fee_payer=agreement.fee_payer,
        fee_amount_yuan=agreement.fee_amount_yuan,
        fee_terms=agreement.fee_terms,
        medical_duties=agreement.medical_duties,
        elderly_duties=agreement.elderly_duties,
        change_terms=agreement.change_terms,
        dispute_terms=agreement.dispute_terms,
        start_date=agreement.start_date,
        end_date=agreement.end_date,
        medical_contact=_contact(
            agreement.medical_contact_name, agreement.medical_contact_phone_enc, cipher, disclose
        ),
        elderly_contact=_contact(
            agreement.elderly_contact_name, agreement.elderly_contact_phone_enc, cipher, disclose
        ),
        submitted_by_institution_id=agreement.submitted_by_institution_id,
        submitted_at=agreement.submitted_at,
        countersigned_at=agreement.countersigned_at,
        activated_at=agreement.activated_at,
        expired_at=agreement.expired_at,
        terminated_at=agreement.terminated_at,
        terminated_on=agreement.terminated_on,
        termination_reason=agreement.termination_reason,
        renews_id=agreement.renews_id,
        filed_at=agreement.filed_at,
        filed_by=agreement.filed_by,
        filing_note=agreement.filing_note,
        document=document,
        source_system=agreement.source_system,
        external_id=agreement.external_id,
        version=agreement.version,
        created_at=agreement.created_at,
        updated_at=agreement.updated_at,
    )


# ------------------------------------------------------------------------------------------ parties


def check_parties(
    medical: RegistryInstitution | None,
    elderly: RegistryInstitution | None,
    *,
    medical_field: str = "body.medical_institution_id",
    elderly_field: str = "body.elderly_institution_id",
) -> tuple[RegistryInstitution, RegistryInstitution]:
    """Both parties exist, are active and of the right kinds, or a 422 naming the field."""
    if medical is None:
        raise PartyInvalid(
            field=medical_field, code="party_not_found", message="甲方医疗机构在机构注册库中不存在"
        )
    if elderly is None:
        raise PartyInvalid(
            field=elderly_field, code="party_not_found", message="乙方养老机构在机构注册库中不存在"
        )
    if medical.kind != MEDICAL_KIND:
        raise PartyInvalid(field=medical_field, code="party_wrong_kind", message="甲方须为医疗机构")
    if elderly.kind not in ELDERLY_CARE_KINDS:
        raise PartyInvalid(
            field=elderly_field, code="party_wrong_kind", message="乙方须为养老机构或医养结合机构"
        )
    if not medical.active:
        raise PartyInvalid(field=medical_field, code="party_inactive", message="甲方医疗机构已停用")
    if not elderly.active:
        raise PartyInvalid(field=elderly_field, code="party_inactive", message="乙方养老机构已停用")
    return medical, elderly


async def fetch_parties(
    registry: RegistryClient, medical_id: uuid.UUID, elderly_id: uuid.UUID
) -> tuple[RegistryInstitution, RegistryInstitution]:
    found = await registry.get_institutions([medical_id, elderly_id])
    return check_parties(found.get(medical_id), found.get(elderly_id))


def ensure_writer(
    principal: Principal, *, medical_id: uuid.UUID, elderly_id: uuid.UUID, elderly_region_code: str
) -> None:
    """Who may write an agreement of this pair: a user of one of its parties (403 ``not_a_party``), or an
    official, platform or service whose scope holds the elderly-care party's county (403 ``out_of_scope``)."""
    if principal.is_institution_user:
        if principal.institution_id not in (medical_id, elderly_id):
            raise NotAParty()
    elif not principal.scope.contains(elderly_region_code):
        raise OutOfScope()


async def _flush_guarding_pair(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        if "pair" in str(exc.orig):
            raise DuplicateAgreement() from exc
        raise


# ------------------------------------------------------------------------------------------ writing


def _encrypt_contact(cipher: PersonalDataCipher, contact: Contact | None) -> tuple[str | None, bytes | None]:
    if contact is None:
        return None, None
    return contact.name, cipher.encrypt(contact.phone)


def _apply_terms(
    agreement: Agreement, data: AgreementTerms | AgreementUpdate, cipher: PersonalDataCipher
) -> None:
    values = data.model_dump(exclude_unset=True, exclude={"medical_contact", "elderly_contact", "title"})
    for key, value in values.items():
        if key in TERM_FIELDS:
            setattr(agreement, key, [s.value for s in value] if key == "services" else value)
    if data.title:
        agreement.title = data.title
    fields = data.model_fields_set
    if "medical_contact" in fields:
        agreement.medical_contact_name, agreement.medical_contact_phone_enc = _encrypt_contact(
            cipher, data.medical_contact
        )
    if "elderly_contact" in fields:
        agreement.elderly_contact_name, agreement.elderly_contact_phone_enc = _encrypt_contact(
            cipher, data.elderly_contact
        )


def default_title(medical_name: str, elderly_name: str) -> str:
    return f"{medical_name}与{elderly_name}医养签约合作协议"


def party_values(medical: RegistryInstitution, elderly: RegistryInstitution) -> dict[str, Any]:
    """The columns of a new agreement that come from its parties (the snapshot kept at signature)."""
    return {
        "medical_institution_id": medical.id,
        "medical_name": medical.name,
        "medical_region_code": medical.region_code,
        "elderly_institution_id": elderly.id,
        "elderly_name": elderly.name,
        "elderly_region_code": elderly.region_code,
        "elderly_kind": elderly.kind,
        "region_code": elderly.region_code,
    }


def term_values(
    data: AgreementTerms,
    medical: RegistryInstitution,
    elderly: RegistryInstitution,
    cipher: PersonalDataCipher,
) -> dict[str, Any]:
    """The columns of a new agreement that come from its terms (contacts' phones encrypted)."""
    values = {key: getattr(data, key) for key in TERM_FIELDS}
    values["services"] = [s.value for s in data.services]
    values["title"] = data.title or default_title(medical.name, elderly.name)
    values["medical_contact_name"], values["medical_contact_phone_enc"] = _encrypt_contact(
        cipher, data.medical_contact
    )
    values["elderly_contact_name"], values["elderly_contact_phone_enc"] = _encrypt_contact(
        cipher, data.elderly_contact
    )
    return values


def terms_of(agreement: Agreement) -> dict[str, Any]:
    return {key: getattr(agreement, key) for key in (*TERM_FIELDS, "title")}


async def create(
    session: AsyncSession,
    principal: Principal,
    data: AgreementCreate,
    *,
    registry: RegistryClient,
    cipher: PersonalDataCipher,
    clock: Clock,
    renews: Agreement | None = None,
) -> Agreement:
    medical, elderly = await fetch_parties(registry, data.medical_institution_id, data.elderly_institution_id)
    ensure_writer(
        principal, medical_id=medical.id, elderly_id=elderly.id, elderly_region_code=elderly.region_code
    )
    holders = await pairs.load_holders(
        session, [(medical.id, elderly.id)], today=clock.today(), now=clock.now()
    )
    agreement = Agreement(
        id=uuid.uuid4(),
        **party_values(medical, elderly),
        **term_values(data, medical, elderly, cipher),
        state=S.draft,
        renews_id=renews.id if renews is not None else None,
    )
    holders.claim(
        (medical.id, elderly.id),
        agreement_id=agreement.id,
        state=S.draft,
        new=True,
        renewing=renews.id if renews is not None else None,
    )
    session.add(agreement)
    await _flush_guarding_pair(session)
    audit.record(
        session,
        principal,
        action="agreement.renew" if renews is not None else "agreement.create",
        entity_type=ENTITY,
        entity_id=agreement.id,
        changes=data.model_dump(mode="json"),
        personal_fields={"medical_contact", "elderly_contact"},
    )
    return agreement


def _illegal(agreement: Agreement, action: str, today: date) -> IllegalTransition:
    status = lifecycle.effective_status(agreement.state, agreement.start_date, agreement.end_date, today)
    return IllegalTransition(
        entity="协议", state=status.value, action=action, allowed=lifecycle.ALLOWED_ACTIONS[status]
    )


def _status(agreement: Agreement, today: date) -> AgreementState:
    return lifecycle.effective_status(agreement.state, agreement.start_date, agreement.end_date, today)


async def update(
    session: AsyncSession,
    principal: Principal,
    agreement: Agreement,
    data: AgreementUpdate,
    *,
    cipher: PersonalDataCipher,
    clock: Clock,
) -> Agreement:
    if agreement.state is not S.draft:
        raise _illegal(agreement, "update", clock.today())
    before = terms_of(agreement)
    _apply_terms(agreement, data, cipher)
    if agreement.end_date < agreement.start_date:
        raise TermInvalid("协议终止日期不得早于起始日期")
    await session.flush()
    audit.record(
        session,
        principal,
        action="agreement.update",
        entity_type=ENTITY,
        entity_id=agreement.id,
        changes=audit.diff(before, terms_of(agreement))
        | ({"contacts": "***"} if {"medical_contact", "elderly_contact"} & data.model_fields_set else {}),
    )
    return agreement


async def _transition_audit(
    session: AsyncSession, principal: Principal, agreement: Agreement, action: str, before: S, **extra: Any
) -> None:
    await session.flush()
    audit.record(
        session,
        principal,
        action=f"agreement.{action}",
        entity_type=ENTITY,
        entity_id=agreement.id,
        changes={"state": [before.value, agreement.state.value], **extra},
    )


def check_term_not_over(end_date: date, today: date) -> None:
    """An agreement whose term is over can no longer be submitted (422 ``term_over``)."""
    if end_date < today:
        raise TermInvalid("协议期限已过，不能提交", code="term_over")


async def submit(
    session: AsyncSession, principal: Principal, agreement: Agreement, *, clock: Clock
) -> Agreement:
    today = clock.today()
    if _status(agreement, today) is not S.draft:
        raise _illegal(agreement, "submit", today)
    check_term_not_over(agreement.end_date, today)
    before = agreement.state
    agreement.state = S.submitted
    agreement.submitted_by_institution_id = principal.institution_id
    agreement.submitted_at = clock.now()
    await _transition_audit(session, principal, agreement, "submit", before)
    return agreement


async def countersign(
    session: AsyncSession, principal: Principal, agreement: Agreement, *, clock: Clock
) -> Agreement:
    today = clock.today()
    if _status(agreement, today) is not S.submitted:
        raise _illegal(agreement, "countersign", today)
    if principal.institution_id == agreement.submitted_by_institution_id:
        raise CountersignBySameParty()
    if agreement.end_date < today:
        raise TermInvalid("协议期限已过，不能会签", code="term_over")
    # An earlier agreement of this pair that has run out must be expired before this one takes effect.
    await lifecycle.advance_calendar(
        session,
        today=today,
        now=clock.now(),
        pairs=[(agreement.medical_institution_id, agreement.elderly_institution_id)],
    )
    before = agreement.state
    now = clock.now()
    agreement.countersigned_at = now
    agreement.state = lifecycle.signed_state_for(agreement.start_date, agreement.end_date, today)
    if agreement.state is S.active:
        agreement.activated_at = now
    await _flush_guarding_pair(session)
    await _transition_audit(session, principal, agreement, "countersign", before)
    return agreement


async def terminate(
    session: AsyncSession, principal: Principal, agreement: Agreement, data: Terminate, *, clock: Clock
) -> Agreement:
    today = clock.today()
    if "terminate" not in lifecycle.ALLOWED_ACTIONS[_status(agreement, today)]:
        raise _illegal(agreement, "terminate", today)
    effective = data.effective_date or today
    if effective < today:
        raise TermInvalid("终止日期不得早于今天", code="termination_date_in_past")
    before = agreement.state
    agreement.state = S.terminated
    agreement.terminated_at = clock.now()
    agreement.terminated_on = effective
    agreement.termination_reason = data.reason
    agreement.terminated_by_institution_id = principal.institution_id
    await _transition_audit(session, principal, agreement, "terminate", before, reason=data.reason)
    return agreement


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_renewal_term(renewed_status: AgreementState, renewed_end: date, start: date) -> None:
    """A renewal of an agreement in force starts after it ends (422 ``renewal_overlaps``)."""
    if start <= renewed_end and renewed_status is S.active:
        raise TermInvalid("续签协议的起始日期须晚于原协议终止日期", code="renewal_overlaps")


def check_renewable(renewed_status: AgreementState) -> None:
    """Only an agreement in force or expired is renewed (409 ``illegal_transition``)."""
    if "renew" not in lifecycle.ALLOWED_ACTIONS[renewed_status]:
        raise IllegalTransition(
            entity="协议",
            state=renewed_status.value,
            action="renew",
            allowed=lifecycle.ALLOWED_ACTIONS[renewed_status],
        )


async def renew(
    session: AsyncSession,
    principal: Principal,
    agreement: Agreement,
    data: Renew,
    *,
    registry: RegistryClient,
    cipher: PersonalDataCipher,
    clock: Clock,
    term_months: int,
) -> Agreement:
    today = clock.today()
    check_renewable(_status(agreement, today))
    renewed = await session.scalar(
        select(Agreement.id).where(Agreement.renews_id == agreement.id, Agreement.state != S.terminated)
    )
    if renewed is not None:
        raise AlreadyRenewed()
    start = data.start_date or max(agreement.end_date + timedelta(days=1), today)
    end = data.end_date or add_months(start, term_months) - timedelta(days=1)
    check_renewal_term(_status(agreement, today), agreement.end_date, start)
    if end < start:
        raise TermInvalid("协议终止日期不得早于起始日期")
    terms = terms_of(agreement) | {"start_date": start, "end_date": end}
    terms.pop("title")
    phones = {
        "medical_contact": Contact(
            name=agreement.medical_contact_name, phone=cipher.decrypt(agreement.medical_contact_phone_enc)
        )
        if agreement.medical_contact_name and agreement.medical_contact_phone_enc
        else None,
        "elderly_contact": Contact(
            name=agreement.elderly_contact_name, phone=cipher.decrypt(agreement.elderly_contact_phone_enc)
        )
        if agreement.elderly_contact_name and agreement.elderly_contact_phone_enc
        else None,
    }
    create_data = AgreementCreate(
        medical_institution_id=agreement.medical_institution_id,
        elderly_institution_id=agreement.elderly_institution_id,
        **terms,
        **phones,
    )
    return await create(
        session, principal, create_data, registry=registry, cipher=cipher, clock=clock, renews=agreement
    )


FILEABLE_STATES = (S.countersigned, S.active, S.expired)


def check_fileable(state: AgreementState, filed_at: datetime | None) -> None:
    """Only a signed agreement is filed (备案), once (409 ``not_fileable``, ``already_filed``)."""
    if state not in FILEABLE_STATES:
        raise NotFileable()
    if filed_at is not None:
        raise AlreadyFiled()


async def file(
    session: AsyncSession, principal: Principal, agreement: Agreement, data: File, *, clock: Clock
) -> Agreement:
    check_fileable(agreement.state, agreement.filed_at)
    agreement.filed_at = clock.now()
    agreement.filed_by = principal.sub
    agreement.filing_note = data.note
    await session.flush()
    audit.record(
        session,
        principal,
        action="agreement.file",
        entity_type=ENTITY,
        entity_id=agreement.id,
        changes={"filed_at": agreement.filed_at, "filing_note": data.note},
    )
    return agreement


# ---------------------------------------------------------------------------------------- documents


async def attach_document(
    session: AsyncSession,
    principal: Principal,
    agreement: Agreement,
    *,
    filename: str,
    content: bytes,
    max_bytes: int,
    clock: Clock,
) -> Agreement:
    if len(content) > max_bytes:
        raise DocumentTooLarge(f"协议文本不得超过 {max_bytes // 1024} KB")
    if not content.startswith(PDF_MAGIC):
        raise DocumentNotPdf()
    if agreement.state is S.terminated:
        raise _illegal(agreement, "upload_document", clock.today())
    digest = hashlib.sha256(content).hexdigest()
    document = await session.get(AgreementDocument, agreement.id)
    if document is None:
        document = AgreementDocument(agreement_id=agreement.id)
        session.add(document)
    now = clock.now()
    document.content = content
    document.content_type = "application/pdf"
    document.sha256 = digest
    document.uploaded_by = principal.sub
    document.uploaded_at = now
    agreement.document_filename = filename[:200] or "agreement.pdf"
    agreement.document_size_bytes = len(content)
    agreement.document_sha256 = digest
    agreement.document_uploaded_at = now
    await session.flush()
    audit.record(
        session,
        principal,
        action="agreement.document",
        entity_type=ENTITY,
        entity_id=agreement.id,
        changes={"document_sha256": digest, "document_size_bytes": len(content)},
    )
    return agreement


async def get_document(session: AsyncSession, agreement: Agreement) -> AgreementDocument:
    document = await session.get(AgreementDocument, agreement.id)
    if document is None:
        raise DocumentNotFound()
    return document
