"""A referral's resident — name, ID number, phone — is held by the residents' person index (issue 19), not
by contracts: a referral keeps ``person_id``.

:func:`residents` reads a page's residents in ONE call (``POST /api/v1/residents/persons/batch``; the
residents audit it as a disclosure to contracts, with the acting user's subject); the caller masks them per
viewer (:func:`shown`). A referral written before referrals named their person, or by the bulk path, and
not linked yet (``person_id`` empty) still holds its own encrypted copy, read here alike.

The index unreachable: a ``required`` reader (a referral's detail to a party) raises
:class:`~libs.common.person_index.PersonIndexUnavailable` (503 ``residents_unavailable``); lists answer
with the resident's fields empty.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from libs.common.auth import Principal
from libs.common.person_index import PersonIndex, PersonIndexUnavailable, persons_or_none
from libs.common.personal_data import PersonalDataCipher, mask_id_card, mask_name, mask_phone
from services.contracts.referrals.models import Referral
from services.contracts.referrals.schemas import ResidentRead


def stored(referral: Referral, cipher: PersonalDataCipher) -> ResidentRead | None:
    """The copy an unlinked referral still holds (None once cleared)."""
    if referral.resident_name_enc is None or referral.resident_id_number_enc is None:
        return None
    return ResidentRead(
        name=cipher.decrypt(referral.resident_name_enc),
        id_number=cipher.decrypt(referral.resident_id_number_enc),
        phone=cipher.decrypt(referral.resident_phone_enc),
        masked=False,
    )


def shown(resident: ResidentRead | None, *, whole: bool) -> ResidentRead:
    """What a viewer sees: whole (a party of the referral; the caller audits it) or masked; an unknown
    resident (the index down) with its fields empty."""
    if resident is None:
        return ResidentRead(name=None, id_number=None, phone=None, masked=not whole)
    if whole:
        return resident
    return ResidentRead(
        name=mask_name(resident.name) if resident.name is not None else None,
        id_number=mask_id_card(resident.id_number) if resident.id_number is not None else None,
        phone=mask_phone(resident.phone),
        masked=True,
    )


async def residents(
    index: PersonIndex | None,
    cipher: PersonalDataCipher,
    referrals: Iterable[Referral],
    *,
    principal: Principal,
    purpose: str,
    required: bool,
) -> dict[uuid.UUID, ResidentRead | None]:
    """Each referral's resident, whole (by referral id): the linked ones' in one call to the person index."""
    rows = list(referrals)
    found: dict[uuid.UUID, ResidentRead | None] = {
        r.id: stored(r, cipher) for r in rows if r.person_id is None
    }
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
        found[r.id] = (
            ResidentRead(name=person.name, id_number=person.id_number, phone=person.phone, masked=False)
            if person is not None
            else None
        )
    return found


async def resident(
    index: PersonIndex | None,
    cipher: PersonalDataCipher,
    referral: Referral,
    *,
    principal: Principal,
    purpose: str,
) -> ResidentRead:
    """One referral's resident, required (503 when the index cannot be reached)."""
    found = (
        await residents(index, cipher, [referral], principal=principal, purpose=purpose, required=True)
    ).get(referral.id)
    if found is None:
        raise PersonIndexUnavailable("该转诊老人的身份信息暂不可读，请稍后重试")
    return found
