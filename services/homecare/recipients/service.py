"""Service recipients. Personal data goes in encrypted and comes out masked, except to the institution
serving the person (it created the record, or has an order for the person), and then audited."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from libs.common import audit
from libs.common.auth import Principal, Role
from libs.common.concurrency import check_if_match
from libs.common.errors import Forbidden
from libs.common.identifiers import id_card_birth_date, id_card_sex
from libs.common.pagination import PageParams, paginate
from libs.common.personal_data import (
    PersonalDataCipher,
    mask_address,
    mask_id_card,
    mask_name,
    mask_phone,
)
from libs.common.scope import ensure_in_scope_for_write, visible_condition
from services.homecare import clock, regions
from services.homecare.orders.models import Order
from services.homecare.providers import service as providers
from services.homecare.providers.models import Provider
from services.homecare.recipients.errors import (
    BirthDateMismatch,
    RecipientExists,
    RecipientNotFound,
    ServingInstitutionInvalid,
)
from services.homecare.recipients.models import Recipient
from services.homecare.recipients.schemas import (
    ConsentRead,
    EmergencyContactRead,
    RecipientCreate,
    RecipientRead,
    RecipientUpdate,
)

PERSONAL_FIELDS = ("name", "id_number", "phone", "address", "emergency_contact", "latitude", "longitude")


def _served_by(institution_id: uuid.UUID) -> ColumnElement[bool]:
    has_order = exists().where(Order.recipient_id == Recipient.id, Order.institution_id == institution_id)
    return or_(Recipient.institution_id == institution_id, has_order)


def visible(principal: Principal) -> ColumnElement[bool]:
    if principal.is_institution_user:
        if principal.institution_id is None:
            return visible_condition(principal, Recipient.region_code, Recipient.institution_id)
        return _served_by(principal.institution_id)
    return visible_condition(principal, Recipient.region_code, Recipient.institution_id)


async def find_visible(
    session: AsyncSession, principal: Principal, recipient_id: uuid.UUID
) -> Recipient | None:
    return await session.scalar(select(Recipient).where(Recipient.id == recipient_id, visible(principal)))


async def get(session: AsyncSession, principal: Principal, recipient_id: uuid.UUID) -> Recipient:
    recipient = await find_visible(session, principal, recipient_id)
    if recipient is None:
        raise RecipientNotFound()
    return recipient


async def list_(
    session: AsyncSession,
    principal: Principal,
    *,
    params: PageParams,
    region_code: str | None = None,
    institution_id: uuid.UUID | None = None,
) -> tuple[list[Recipient], str | None]:
    stmt = select(Recipient).where(visible(principal))
    if region_code is not None:
        stmt = stmt.where(Recipient.region_code == region_code)
    if institution_id is not None:
        stmt = stmt.where(Recipient.institution_id == institution_id)
    return await paginate(session, stmt, order_by=[Recipient.id], params=params)


async def lookup(
    session: AsyncSession, principal: Principal, cipher: PersonalDataCipher, id_number: str
) -> list[Recipient]:
    try:
        digest = cipher.lookup_hash(id_number, "id_card")
    except ValueError:
        return []
    rows = await session.scalars(
        select(Recipient)
        .where(Recipient.id_number_hash == digest, visible(principal))
        .order_by(Recipient.id)
        .limit(20)
    )
    return list(rows)


def personal_columns(cipher: PersonalDataCipher, data: RecipientCreate) -> dict[str, Any]:
    contact = data.emergency_contact
    return {
        "name_enc": cipher.encrypt(data.name),
        "id_number_enc": cipher.encrypt(data.id_number),
        "id_number_hash": cipher.lookup_hash(data.id_number, "id_card"),
        "phone_enc": cipher.encrypt(data.phone),
        "address_enc": cipher.encrypt(data.address),
        "emergency_contact_name_enc": cipher.encrypt(contact.name) if contact else None,
        "emergency_contact_relation": contact.relation if contact else None,
        "emergency_contact_phone_enc": cipher.encrypt(contact.phone) if contact else None,
    }


def plain_columns(data: RecipientCreate) -> dict[str, Any]:
    birth = id_card_birth_date(data.id_number)
    if data.birth_date is not None and data.birth_date != birth:
        raise BirthDateMismatch()
    return {
        "region_code": data.region_code,
        "latitude": data.latitude,
        "longitude": data.longitude,
        "birth_date": birth,
        "sex": id_card_sex(data.id_number),
        "disability_level": data.disability_level,
        "dementia": data.dementia,
        "chronic_diseases": data.chronic_diseases,
        "consent_given_at": data.consent.given_at,
        "consent_method": data.consent.method,
        "consent_signed_by": data.consent.signed_by,
        "consent_document_sha256": data.consent.document_sha256,
    }


@dataclass(frozen=True)
class RegistrationLookups:
    """What the registration rule reads, for one recipient or a whole batch: the providers named, and who
    is already registered with them (``(institution_id, id_number_hash) -> recipient id``)."""

    providers: Mapping[uuid.UUID, Provider]
    registered: dict[tuple[uuid.UUID, str], uuid.UUID]


def serving_institution(principal: Principal, data: RecipientCreate) -> uuid.UUID | None:
    return principal.institution_id if principal.is_institution_user else data.institution_id


async def load_registration(
    session: AsyncSession, *, institution_ids: Collection[uuid.UUID], id_hashes: Collection[str]
) -> RegistrationLookups:
    institutions = list(set(institution_ids))
    if not institutions:
        return RegistrationLookups({}, {})
    providers = {
        p.institution_id: p
        for p in await session.scalars(select(Provider).where(Provider.institution_id.in_(institutions)))
    }
    hashes = list(set(id_hashes))
    registered = (
        {
            (row.institution_id, row.id_number_hash): row.id
            for row in await session.execute(
                select(Recipient.id, Recipient.institution_id, Recipient.id_number_hash).where(
                    Recipient.institution_id.in_(institutions), Recipient.id_number_hash.in_(hashes)
                )
            )
        }
        if hashes
        else {}
    )
    return RegistrationLookups(providers, registered)


def check_registration(
    principal: Principal,
    cipher: PersonalDataCipher,
    data: RecipientCreate,
    lookups: RegistrationLookups,
    *,
    recipient_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Every rule of registering ``data`` (``recipient_id``: the record it rewrites, for a bulk update);
    returns the recipient's columns. ``POST /recipients`` and the bulk upsert call it alike."""
    institution_id = serving_institution(principal, data)
    provider = lookups.providers.get(institution_id) if institution_id is not None else None
    if provider is None and (principal.is_institution_user or data.institution_id is not None):
        raise ServingInstitutionInvalid()
    regions.ensure_region_allowed(
        principal,
        data.region_code,
        institution_region=provider.region_code if provider is not None else None,
        what="服务对象住址",
    )
    columns = {**plain_columns(data), **personal_columns(cipher, data), "institution_id": institution_id}
    if institution_id is not None:
        other = lookups.registered.get((institution_id, columns["id_number_hash"]))
        if other is not None and other != recipient_id:
            raise RecipientExists(other)
    return columns


async def create(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    data: RecipientCreate,
    *,
    person_id: uuid.UUID | None = None,
) -> Recipient:
    institution_id = serving_institution(principal, data)
    lookups = await load_registration(
        session,
        institution_ids=[institution_id] if institution_id is not None else [],
        id_hashes=[cipher.lookup_hash(data.id_number, "id_card")],
    )
    columns = check_registration(principal, cipher, data, lookups)
    recipient = Recipient(created_by_sub=principal.sub, person_id=person_id, **columns)
    session.add(recipient)
    await session.flush()
    audit.record(
        session,
        principal,
        action="recipient.create",
        entity_type="recipient",
        entity_id=recipient.id,
        changes=data.model_dump(exclude={"consent"}),
        personal_fields=PERSONAL_FIELDS,
    )
    return recipient


async def update(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    recipient: Recipient,
    data: RecipientUpdate,
    if_match: str | None,
) -> Recipient:
    if principal.role is Role.city_platform:
        ensure_in_scope_for_write(principal, region_code=recipient.region_code, what="服务对象")
    elif not principal.is_institution_user:
        raise Forbidden("只有服务机构或城市平台可以修改服务对象", code="not_serving_institution")
    check_if_match(if_match, recipient.version)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("region_code") is not None:
        own = (
            await providers.find(session, principal.institution_id)
            if principal.institution_id is not None
            else None
        )
        regions.ensure_region_allowed(
            principal,
            changes["region_code"],
            institution_region=own.region_code if own is not None else None,
            what="服务对象住址",
        )
    for key, value in changes.items():
        if key == "phone":
            recipient.phone_enc = cipher.encrypt(value)
        elif key == "address" and value is not None:
            recipient.address_enc = cipher.encrypt(value)
        elif key == "emergency_contact":
            contact = data.emergency_contact
            recipient.emergency_contact_name_enc = cipher.encrypt(contact.name) if contact else None
            recipient.emergency_contact_relation = contact.relation if contact else None
            recipient.emergency_contact_phone_enc = cipher.encrypt(contact.phone) if contact else None
        elif value is not None or key in ("latitude", "longitude"):
            setattr(recipient, key, value)
    await session.flush()
    audit.record(
        session,
        principal,
        action="recipient.update",
        entity_type="recipient",
        entity_id=recipient.id,
        changes=changes,
        personal_fields=PERSONAL_FIELDS,
    )
    return recipient


def to_read(recipient: Recipient, cipher: PersonalDataCipher, *, whole: bool) -> RecipientRead:
    """The response form: whole values only when ``whole`` (the caller must audit the disclosure)."""
    name = cipher.decrypt(recipient.name_enc)
    id_number = cipher.decrypt(recipient.id_number_enc)
    phone = cipher.decrypt(recipient.phone_enc)
    address = cipher.decrypt(recipient.address_enc)
    contact = None
    if recipient.emergency_contact_phone_enc is not None:
        contact_name = cipher.decrypt(recipient.emergency_contact_name_enc) or ""
        contact_phone = cipher.decrypt(recipient.emergency_contact_phone_enc)
        contact = EmergencyContactRead(
            name=contact_name if whole else mask_name(contact_name),
            relation=recipient.emergency_contact_relation,
            phone=contact_phone if whole else mask_phone(contact_phone),
        )
    return RecipientRead(
        id=recipient.id,
        institution_id=recipient.institution_id,
        region_code=recipient.region_code,
        disclosed=whole,
        name=name if whole else mask_name(name),
        id_number=id_number if whole else mask_id_card(id_number),
        phone=phone if whole else mask_phone(phone),
        address=address if whole else mask_address(address),
        latitude=recipient.latitude if whole else None,
        longitude=recipient.longitude if whole else None,
        birth_date=recipient.birth_date if whole else None,
        age=clock.age_on(recipient.birth_date, clock.today()),
        sex=recipient.sex,
        disability_level=recipient.disability_level,
        dementia=recipient.dementia,
        chronic_diseases=list(recipient.chronic_diseases or []),
        emergency_contact=contact,
        consent=ConsentRead(
            given_at=recipient.consent_given_at,
            method=recipient.consent_method,
            signed_by=recipient.consent_signed_by,
            document_sha256=recipient.consent_document_sha256,
        ),
        source_system=recipient.source_system,
        external_id=recipient.external_id,
        version=recipient.version,
        created_at=recipient.created_at,
        updated_at=recipient.updated_at,
    )
