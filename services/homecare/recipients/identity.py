"""A recipient's identity — name, ID number, phone, address, birth date, sex — is held by the residents'
person index (issue 19), not by homecare: a recipient keeps ``person_id`` and its own care data
(conditions, consent, service coordinates, the emergency contact).

:func:`identities` reads a page's identities in ONE call (``POST /api/v1/residents/persons/batch``; the
residents audit it as a disclosure to homecare, with the acting user's subject); the caller masks them
per viewer (:func:`shown`). A recipient registered before recipients named their person, or by the city
bulk sync, and not linked yet (``person_id`` empty) still holds its own encrypted copy, read here alike.

The index unreachable: ``required`` readers (a recipient's detail, a rule that needs the birth date or the
address) raise :class:`~libs.common.person_index.PersonIndexUnavailable` (503 ``residents_unavailable``);
lists answer with the identity ``None`` (their person fields empty).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import NamedTuple

from libs.common.auth import Principal
from libs.common.identifiers import id_card_birth_date, id_card_sex
from libs.common.person_index import (
    IndexedAssessment,
    IndexedPerson,
    PersonIndex,
    PersonIndexUnavailable,
    persons_or_none,
)
from libs.common.personal_data import (
    PersonalDataCipher,
    mask_address,
    mask_id_card,
    mask_name,
    mask_phone,
)
from services.homecare.recipients.models import Recipient


@dataclass(frozen=True, slots=True)
class Identity:
    name: str
    id_number: str
    phone: str | None
    address: str | None
    birth_date: date | None
    sex: str
    # the person's latest ability assessment (a linked recipient read from the index; None otherwise)
    assessment: IndexedAssessment | None = None

    @classmethod
    def of(cls, *, name: str, id_number: str, phone: str | None, address: str | None) -> Identity:
        """The identity a registration sends (birth date and sex from the ID number)."""
        return cls(
            name=name,
            id_number=id_number,
            phone=phone,
            address=address,
            birth_date=id_card_birth_date(id_number),
            sex=id_card_sex(id_number),
        )

    @classmethod
    def indexed(cls, person: IndexedPerson) -> Identity:
        return cls(
            name=person.name,
            id_number=person.id_number,
            phone=person.phone,
            address=person.address,
            birth_date=person.birth_date,
            sex=person.sex,
            assessment=person.latest_assessment,
        )


def stored(recipient: Recipient, cipher: PersonalDataCipher) -> Identity | None:
    """The copy an unlinked recipient still holds (None once cleared)."""
    if recipient.name_enc is None or recipient.id_number_enc is None:
        return None
    return Identity(
        name=cipher.decrypt(recipient.name_enc),
        id_number=cipher.decrypt(recipient.id_number_enc),
        phone=cipher.decrypt(recipient.phone_enc),
        address=cipher.decrypt(recipient.address_enc),
        birth_date=recipient.birth_date,
        sex=recipient.sex or id_card_sex(cipher.decrypt(recipient.id_number_enc)),
    )


def shown(identity: Identity | None, *, whole: bool) -> Identity | None:
    """What a viewer sees: whole (the serving institution; the caller audits it) or masked, no birth date."""
    if identity is None or whole:
        return identity
    return replace(
        identity,
        name=mask_name(identity.name),
        id_number=mask_id_card(identity.id_number),
        phone=mask_phone(identity.phone),
        address=mask_address(identity.address) if identity.address is not None else None,
        birth_date=None,
    )


async def identities(
    index: PersonIndex | None,
    cipher: PersonalDataCipher,
    recipients: Iterable[Recipient],
    *,
    principal: Principal,
    purpose: str,
    required: bool,
) -> dict[uuid.UUID, Identity | None]:
    """Each recipient's identity (by recipient id): the linked ones' in one call to the person index."""
    rows = list(recipients)
    found: dict[uuid.UUID, Identity | None] = {r.id: stored(r, cipher) for r in rows if r.person_id is None}
    linked = [r for r in rows if r.person_id is not None]
    if not linked:
        return found
    persons = await persons_or_none(
        index,
        [r.person_id for r in linked if r.person_id is not None],
        on_behalf_of=principal.sub,
        purpose=purpose,
        required=required,
    )
    if persons is None:
        return found | {r.id: None for r in linked}
    for r in linked:
        person = persons.get(r.person_id) if r.person_id is not None else None
        found[r.id] = Identity.indexed(person) if person is not None else None
    return found


class NameSource(NamedTuple):
    """What a recipient's name is read from (a list's row: no ``Recipient`` object)."""

    id: uuid.UUID
    person_id: uuid.UUID | None
    name_enc: bytes | None
    id_number_enc: bytes | None


async def names(
    index: PersonIndex | None,
    cipher: PersonalDataCipher,
    recipients: Iterable[NameSource],
    *,
    principal: Principal,
    purpose: str,
) -> dict[uuid.UUID, str | None]:
    """The recipients' names, whole (the caller masks them), by recipient id: :func:`identities`'s names
    (the linked ones' in one call to the person index, None when it cannot be reached; an unlinked
    recipient's own copy) without decrypting the rest of a copy."""
    rows = list({r.id: r for r in recipients}.values())
    found: dict[uuid.UUID, str | None] = {
        r.id: cipher.decrypt(r.name_enc) if r.name_enc is not None and r.id_number_enc is not None else None
        for r in rows
        if r.person_id is None
    }
    linked = [r for r in rows if r.person_id is not None]
    if not linked:
        return found
    persons = await persons_or_none(
        index,
        [r.person_id for r in linked if r.person_id is not None],
        on_behalf_of=principal.sub,
        purpose=purpose,
        required=False,
    )
    for r in linked:
        person = persons.get(r.person_id) if persons is not None and r.person_id is not None else None
        found[r.id] = person.name if person is not None else None
    return found


async def identity(
    index: PersonIndex | None,
    cipher: PersonalDataCipher,
    recipient: Recipient,
    *,
    principal: Principal,
    purpose: str,
) -> Identity:
    """One recipient's identity, required (503 when the index cannot be reached)."""
    found = (
        await identities(index, cipher, [recipient], principal=principal, purpose=purpose, required=True)
    ).get(recipient.id)
    if found is None:
        raise PersonIndexUnavailable("该服务对象的身份信息暂不可读，请稍后重试")
    return found


async def of_linked(
    index: PersonIndex | None,
    cipher: PersonalDataCipher,
    recipients: Iterable[Recipient],
    *,
    principal: Principal,
    purpose: str,
) -> dict[uuid.UUID, Identity]:
    """The identities of the linked ones among ``recipients`` (a bulk batch's: home address, birth date),
    in one call, required (503 when the index cannot be reached); unlinked ones read their own copy."""
    linked = {r.id: r for r in recipients if r.person_id is not None}
    if not linked:
        return {}
    found = await identities(
        index, cipher, linked.values(), principal=principal, purpose=purpose, required=True
    )
    missing = [rid for rid in linked if found.get(rid) is None]
    if missing:
        raise PersonIndexUnavailable("部分服务对象的身份信息暂不可读，请稍后重试")
    return {rid: person for rid, person in found.items() if person is not None}
