"""Service recipients. The identity is the residents' person's (``recipients/identity.py``); the care data
and the emergency contact are homecare's, the contact encrypted. Personal data comes out masked, except to
the institution serving the person (it created the record, or has an order for the person), and then
audited."""

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
from libs.common.personal_data import PersonalDataCipher, mask_name, mask_phone
from libs.common.scope import ensure_in_scope_for_write, visible_condition
from services.homecare import clock, regions
from services.homecare.orders.models import Order
from services.homecare.providers import service as providers
from services.homecare.providers.models import Provider
from services.homecare.recipients.errors import (
    BirthDateMismatch,
    IdentityHeldByResidents,
    RecipientExists,
    RecipientNotFound,
    ServingInstitutionInvalid,
)
from services.homecare.recipients.identity import Identity, shown
from services.homecare.recipients.models import IDENTITY_COLUMNS, Recipient
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
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    id_number: str,
    *,
    person_id: uuid.UUID | None,
) -> list[Recipient]:
    """The visible recipients of the person ``person_id`` (the index's person of ``id_number``), and those
    not linked yet whose own copy holds ``id_number``."""
    try:
        digest = cipher.lookup_hash(id_number, "id_card")
    except ValueError:
        return []
    same = Recipient.id_number_hash == digest
    if person_id is not None:
        same = or_(same, Recipient.person_id == person_id)
    rows = await session.scalars(
        select(Recipient).where(same, visible(principal)).order_by(Recipient.id).limit(20)
    )
    return list(rows)


def identity_columns(cipher: PersonalDataCipher, data: RecipientCreate) -> dict[str, Any]:
    """The identity's copy, for a record not linked to its person (the city bulk sync, issue 19)."""
    return {
        "name_enc": cipher.encrypt(data.name),
        "id_number_enc": cipher.encrypt(data.id_number),
        "id_number_hash": cipher.lookup_hash(data.id_number, "id_card"),
        "phone_enc": cipher.encrypt(data.phone),
        "address_enc": cipher.encrypt(data.address),
        "birth_date": id_card_birth_date(data.id_number),
        "sex": id_card_sex(data.id_number),
    }


def contact_columns(cipher: PersonalDataCipher, data: RecipientCreate | RecipientUpdate) -> dict[str, Any]:
    """The emergency contact: another person's data that only homecare uses, kept here encrypted."""
    contact = data.emergency_contact
    return {
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
    is already registered with them (``(institution_id, key) -> recipient id``, the key
    :func:`person_key` of a linked recipient's person or :func:`hash_key` of a copy's ID number)."""

    providers: Mapping[uuid.UUID, Provider]
    registered: dict[tuple[uuid.UUID, str], uuid.UUID]


def person_key(person_id: uuid.UUID) -> str:
    return f"person:{person_id}"


def hash_key(id_number_hash: str) -> str:
    return f"hash:{id_number_hash}"


def registration_key(columns: Mapping[str, Any]) -> str:
    """The key a recipient's row is registered under (its person, else its copy's ID number)."""
    if columns.get("person_id") is not None:
        return person_key(columns["person_id"])
    return hash_key(columns["id_number_hash"])


def serving_institution(principal: Principal, data: RecipientCreate) -> uuid.UUID | None:
    return principal.institution_id if principal.is_institution_user else data.institution_id


async def load_registration(
    session: AsyncSession,
    *,
    institution_ids: Collection[uuid.UUID],
    id_hashes: Collection[str],
    person_ids: Collection[uuid.UUID] = (),
) -> RegistrationLookups:
    institutions = list(set(institution_ids))
    if not institutions:
        return RegistrationLookups({}, {})
    providers = {
        p.institution_id: p
        for p in await session.scalars(select(Provider).where(Provider.institution_id.in_(institutions)))
    }
    hashes, persons = list(set(id_hashes)), list(set(person_ids))
    registered: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
    if hashes or persons:
        same = []
        if hashes:
            same.append(Recipient.id_number_hash.in_(hashes))
        if persons:
            same.append(Recipient.person_id.in_(persons))
        for row in await session.execute(
            select(
                Recipient.id, Recipient.institution_id, Recipient.id_number_hash, Recipient.person_id
            ).where(Recipient.institution_id.in_(institutions), or_(*same))
        ):
            if row.person_id is not None:
                registered[(row.institution_id, person_key(row.person_id))] = row.id
            if row.id_number_hash is not None:
                registered[(row.institution_id, hash_key(row.id_number_hash))] = row.id
    return RegistrationLookups(providers, registered)


def check_registration(
    principal: Principal,
    cipher: PersonalDataCipher,
    data: RecipientCreate,
    lookups: RegistrationLookups,
    *,
    recipient_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
    known_person: uuid.UUID | None = None,
) -> dict[str, Any]:
    """Every rule of registering ``data`` (``recipient_id``: the record it rewrites, for a bulk update);
    returns the recipient's columns. ``POST /recipients`` and the bulk upsert call it alike. With
    ``person_id`` (the person the index found) the identity stays in the index; without (the city bulk
    sync, not converted yet) the record keeps its own encrypted copy until it is linked; ``known_person``,
    the person the index holds of its ID number, still counts for "already registered"."""
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
    columns = {**plain_columns(data), **contact_columns(cipher, data), "institution_id": institution_id}
    digest = cipher.lookup_hash(data.id_number, "id_card")
    if person_id is not None:
        columns |= dict.fromkeys(IDENTITY_COLUMNS) | {"person_id": person_id}
        keys = [person_key(person_id), hash_key(digest)]  # the person's, or a copy not linked yet
    else:
        columns |= identity_columns(cipher, data)
        keys = [hash_key(digest)] + ([person_key(known_person)] if known_person is not None else [])
    if institution_id is not None:
        for key in keys:
            other = lookups.registered.get((institution_id, key))
            if other is not None and other != recipient_id:
                raise RecipientExists(other)
    return columns


async def create(
    session: AsyncSession,
    principal: Principal,
    cipher: PersonalDataCipher,
    data: RecipientCreate,
    *,
    person_id: uuid.UUID | None,
) -> Recipient:
    """Register ``data`` as a recipient of the person ``person_id`` (``None``: a record with its own copy
    of the identity, as the city bulk sync still writes and tests of the linking command need)."""
    institution_id = serving_institution(principal, data)
    lookups = await load_registration(
        session,
        institution_ids=[institution_id] if institution_id is not None else [],
        id_hashes=[cipher.lookup_hash(data.id_number, "id_card")],
        person_ids=[person_id] if person_id is not None else [],
    )
    columns = check_registration(principal, cipher, data, lookups, person_id=person_id)
    recipient = Recipient(created_by_sub=principal.sub, **columns)
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
    held = sorted(changes.keys() & {"phone", "address"})
    if held:
        raise IdentityHeldByResidents(held, recipient.person_id)
    for key, value in changes.items():
        if key == "emergency_contact":
            for column, encrypted in contact_columns(cipher, data).items():
                setattr(recipient, column, encrypted)
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


def to_read(
    recipient: Recipient, identity: Identity | None, cipher: PersonalDataCipher, *, whole: bool
) -> RecipientRead:
    """The response form: whole values only when ``whole`` (the caller must audit the disclosure);
    ``identity`` None (the person index unreachable, for a list) leaves the person's fields empty."""
    contact = None
    if recipient.emergency_contact_phone_enc is not None:
        contact_name = cipher.decrypt(recipient.emergency_contact_name_enc) or ""
        contact_phone = cipher.decrypt(recipient.emergency_contact_phone_enc)
        contact = EmergencyContactRead(
            name=contact_name if whole else mask_name(contact_name),
            relation=recipient.emergency_contact_relation,
            phone=contact_phone if whole else mask_phone(contact_phone),
        )
    birth = identity.birth_date if identity is not None else None
    person = shown(identity, whole=whole)
    return RecipientRead(
        id=recipient.id,
        person_id=recipient.person_id,
        institution_id=recipient.institution_id,
        region_code=recipient.region_code,
        disclosed=whole and person is not None,
        name=person.name if person else None,
        id_number=person.id_number if person else None,
        phone=person.phone if person else None,
        address=person.address if person else None,
        latitude=recipient.latitude if whole else None,
        longitude=recipient.longitude if whole else None,
        birth_date=person.birth_date if person else None,
        age=clock.age_on(birth, clock.today()) if birth is not None else None,
        sex=person.sex if person else None,
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
